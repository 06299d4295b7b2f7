"""
The workbench's index lists only our blocks' scenarios: xblock-sdk adds every installed XBlock's,
its own samples (thumbs, problems, ...) among them, which only confuse a person walking the demo.
"""
from workbench import scenarios

OUR_BLOCKS = "miiwrap_"  # the entry-point names of our XBlocks start so; scenario names are "<name>.<n>"


def list_only_ours():
    """Wrap the workbench's scenario loader once so that it drops every scenario but ours."""
    load_all = scenarios.init_scenarios
    if getattr(load_all, "only_ours", False):
        return

    def load_ours():
        load_all()
        for name in [name for name in scenarios.SCENARIOS if not name.startswith(OUR_BLOCKS)]:
            scenarios.remove_scenario(name)

    load_ours.only_ours = True
    scenarios.init_scenarios = load_ours
