"""A pipeline step standing for another plugin's, configured before ours in the settings."""
from openedx_filters import PipelineStep

CALLS = []


class OtherPluginCertificateStep(PipelineStep):
    def run_filter(self, user, course_key, **kwargs):  # pylint: disable=arguments-differ
        CALLS.append((getattr(user, "pk", None), str(course_key)))
        return {}
