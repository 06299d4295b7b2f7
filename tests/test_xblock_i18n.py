"""Both blocks render in Spanish: from the installed wheel's text.mo (the LMS's XBlock i18n fallback)
and, in the sandbox workbench, from Django's catalog."""
import gettext
import importlib.resources
import os

import pytest
from django.test import override_settings
from django.utils import translation
from xblock.field_data import DictFieldData
from xblock.fields import ScopeIds
from xblock.reference.user_service import UserService, XBlockUser
from xblock.test.tools import TestRuntime

from miiwrap_fidelity import api
from miiwrap_xblocks.coach_signoff import CoachSignOffXBlock
from miiwrap_xblocks.reflection import ReflectionXBlock

from xblock_support import REFLECTION, SIGNOFF, call, view

pytestmark = pytest.mark.django_db


def text_catalog():
    """What edx-platform's XBlock i18n service loads: <package>/translations/<lang>/LC_MESSAGES/text.mo."""
    root = importlib.resources.files("miiwrap_xblocks.translations")
    return gettext.translation("text", localedir=str(root), languages=["es"])


class OneUser(UserService):
    def __init__(self, user):
        super().__init__()
        self.user = user

    def get_current_user(self):
        xblock_user = XBlockUser(is_current_user=True)
        xblock_user.opt_attrs["edx-platform.user_id"] = self.user.pk
        return xblock_user


def test_text_catalog_ships_inside_the_installed_package():
    package = importlib.resources.files("miiwrap_xblocks")
    if not os.environ.get("MIIWRAP_ALLOW_SOURCE_TREE"):  # tox installs the wheel: check its layout
        assert "site-packages" in str(package)
        assert (package / "translations" / "es" / "LC_MESSAGES" / "text.mo").is_file()
    assert text_catalog().gettext("Submit reflection") == "Enviar reflexión"


@pytest.mark.parametrize("block_class, expected", [
    (ReflectionXBlock, ["Enviar reflexión", "Guardar borrador", "Escriba al menos 50 caracteres."]),
    (CoachSignOffXBlock, ["Observaciones válidas: 0 de 3.", "Lo que falta", "Retroalimentación de sus observaciones"]),
])
def test_blocks_render_in_spanish_from_the_text_domain(policy, learner, block_class, expected):
    api.note_enrollment(learner.pk, policy.course_key)  # status rows are for enrolled learners
    runtime = TestRuntime(services={"i18n": text_catalog(), "user": OneUser(learner),
                                    "field-data": DictFieldData({})})
    block = runtime.construct_xblock_from_class(block_class, ScopeIds("user", "block", "def", "usage"))
    # Without our folder in LOCALE_PATHS, Django itself knows none of our strings: only text.mo does.
    with override_settings(LOCALE_PATHS=[]), translation.override("es"):
        html = block.student_view().content
    for text in expected:
        assert text in html


def test_workbench_renders_in_the_browser_language(client, workbench, policy, assigned, coach):
    client.force_login(assigned)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    assert "Enviar reflexión" in view(client, REFLECTION)
    client.force_login(coach)
    assert "Aprobar la competencia" in view(client, SIGNOFF)


def test_signoff_block_writes_observation_percents_in_the_coach_language(client, workbench, policy, assigned,
                                                                          coach, observe):
    observe(coach, assigned, days_ago=3, miss=("mi-summaries",))
    client.force_login(coach)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    status, body = call(client, SIGNOFF, "learner_state", {"learner_id": assigned.pk})
    labels = [o["percent_label"] for o in body["observations"]]
    assert status == 200 and labels == ["95,2\u00a0%"]
