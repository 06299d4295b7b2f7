"""Spanish catalogs ship with the package and are loaded at runtime by Django."""
import os

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from miiwrap_fidelity import api
from miiwrap_fidelity.rules import competency
from miiwrap_fidelity.wording import reason_sentences

from conftest import COURSE

pytestmark = pytest.mark.django_db


def test_catalog_is_loaded_from_the_installed_package():
    translations = [path for path in settings.LOCALE_PATHS if path.endswith("translations")][0]
    assert "site-packages" in translations or os.environ.get("MIIWRAP_ALLOW_SOURCE_TREE")
    for domain in ("django", "text"):
        assert os.path.exists(os.path.join(translations, "es", "LC_MESSAGES", f"{domain}.mo"))


def test_gate_reasons_in_spanish(policy, learner, course_key):
    with translation.override("es"):
        message = api.gate_decision(learner, course_key).message
    assert "0 de 3 observaciones válidas" in message
    assert "Su coach aún no ha validado su competencia." in message


def test_plural_forms():
    reason = competency.Reason("observations_short", {"have": 0, "need": 1, "min_percent": 80, "window_days": 30})
    with translation.override("es"):
        assert reason_sentences.sentence(reason).startswith("0 de 1 observación válida")


def test_learner_page_in_spanish(client, assigned):
    client.force_login(assigned)
    page = client.get(reverse("miiwrap_fidelity:my_competency", args=[COURSE]),
                      HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="es"' in page and "Estado de la competencia" in page and "Lo que falta" in page
