"""Instrument files v2 (ADR 0012): scale, count and summary kinds, translations, errors by line and field."""
import copy
import json

import pytest
import yaml
from django.core.management import call_command

from miiwrap_fidelity import api
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.models import Indicator, InstrumentVersion

pytestmark = pytest.mark.django_db

MI, TEAM = api.SAMPLE_INSTRUMENTS[1], api.SAMPLE_INSTRUMENTS[2]

#: A file written before format 2, and the digest main's importer gave it: v1 files import to the
#: same content digest, so re-importing one never makes a new version.
V1 = """slug: tiny-v1
name: Tiny v1 rubric
description: A v1 file as written before format 2.
indicators:
  - key: listens
    domain: Engagement
    label: Listens first
    description: Lets the family speak first.
    critical: true
    levels:
      - {key: met, label: Present, anchor: Listens before speaking., met: true}
      - {key: partly, label: Partly, anchor: Listens briefly., met: false}
      - {key: na, label: Not applicable, anchor: No occasion., met: null}
"""
V1_DIGEST = "b2f91d12767d13eb6d37916069ec10c46e8462dd3432ed40648df2d86986d310"
SAMPLE_V1_DIGEST = "1d7fff2a9c2836b382ada4ca70cb6dbf961f403e707df2bd13b617f58b813642"


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def doc(path=MI):
    return yaml.safe_load(read(path))


def errors_of(document):
    text = document if isinstance(document, str) else json.dumps(document, indent=1)
    with pytest.raises(instruments.InstrumentInvalid) as caught:
        instruments.validate(*instruments.parse(text))
    return {error.field: error for error in caught.value.errors}


def test_v1_files_keep_their_digest_and_import_as_levels():
    assert instruments.digest(instruments.validate(*instruments.parse(V1))) == V1_DIGEST
    version, created = instruments.load(V1)
    again, created_again = instruments.load(V1)
    assert created and not created_again and again.pk == version.pk
    indicator = version.indicators.get()
    assert indicator.kind == "levels" and indicator.translations == {} and version.summaries == []


def test_the_practice_rubric_sample_keeps_its_english_content_and_adds_spanish():
    data, lines = instruments.parse(read(api.SAMPLE_INSTRUMENT))
    translated = instruments.validate(data, lines)
    assert all(indicator["translations"]["es"]["levels"]["na"]["label"] == "No aplica"
               for indicator in translated["indicators"])
    for item in [data] + data["indicators"]:
        item.pop("translations"), item.pop("languages", None)
    assert instruments.digest(instruments.validate(data, lines)) == SAMPLE_V1_DIGEST, "the English text is v1's"


def test_every_sample_imports_with_the_command(capsys):
    call_command("load_instrument", "--all-samples")
    out = capsys.readouterr().out
    assert "miiwrap-core v1 with 21" in out and "mi-coding v1 with 14" in out and "team-meeting v1 with 5" in out
    mi = InstrumentVersion.objects.get(instrument__slug="mi-coding")
    kinds = list(mi.indicators.order_by("position").values_list("kind", flat=True))
    assert kinds == ["scale"] * 4 + ["count"] * 10
    assert [s["key"] for s in mi.summaries] == [
        "technical-global", "relational-global", "percent-complex-reflections", "reflection-question-ratio",
        "mi-adherent", "mi-non-adherent"]
    assert mi.translations["es"]["name"].startswith("Codificación")
    call_command("load_instrument", "--all-samples")
    assert capsys.readouterr().out.count("Unchanged") == 3, "immutable versions: same content, same version"


def test_a_scale_is_stored_as_its_points():
    version, _ = instruments.load(read(MI))
    empathy = version.indicators.get(key="empathy")
    assert empathy.spec == {"min": 1, "max": 5}
    assert [(level["key"], level["met"]) for level in empathy.levels] == [
        ("1", False), ("2", False), ("3", False), ("4", True), ("5", True)]
    assert empathy.level("4")["value"] == 4 and empathy.level(" 04 ")["key"] == "4"
    assert empathy.level("6") is None and empathy.level("4.5") is None and empathy.level("") is None
    question = version.indicators.get(key="question")
    assert question.spec == {"max": 500} and question.levels == []
    assert question.level("0")["met"] is None and question.level("500")["value"] == 500
    assert question.level("501") is None and question.level("-1") is None and question.level("2.5") is None


def test_changed_translation_makes_a_new_immutable_version():
    first, _ = instruments.load(read(TEAM))
    document = doc(TEAM)
    document["indicators"][0]["translations"]["es"]["label"] = "Agenda pactada con la familia"
    second, created = instruments.load(json.dumps(document))
    assert created and second.number == first.number + 1
    assert first.indicators.get(key="agenda-shared").translations["es"]["label"] == "Agenda acordada con la familia"


@pytest.mark.parametrize("change, field, words", [
    (lambda d: d["indicators"][0].update(kind="stars"), "indicators[0].kind", "must be one of"),
    (lambda d: d["indicators"][0]["scale"].update(max=20), "indicators[0].scale", "at most 11 points"),
    (lambda d: d["indicators"][0]["scale"].update(min="1"), "indicators[0].scale.min", "whole number"),
    (lambda d: d["indicators"][0]["scale"].update(met=[6]), "indicators[0].scale.met[0]", "point from 1 to 5"),
    (lambda d: d["indicators"][0]["scale"].update(met=[]), "indicators[0].scale.met", "points that count as met"),
    (lambda d: d["indicators"][0]["scale"]["anchors"].pop(3), "indicators[0].scale.anchors.3", "is required"),
    (lambda d: d["indicators"][0]["scale"]["anchors"].update({9: "x"}), "indicators[0].scale.anchors.9",
     "not a point"),
    (lambda d: d["indicators"][4].update(critical=True), "indicators[4].critical", "cannot be essential"),
    (lambda d: d["indicators"][4]["count"].update(max=0), "indicators[4].count.max", "whole number from 1"),
    (lambda d: d["summaries"][0].update(op="median"), "summaries[0].op", "must be one of"),
    (lambda d: d["summaries"][0].update(of=["evoking-change", "nobody"]), "summaries[0].of[1]",
     "not a scale or count"),
    (lambda d: d["summaries"][0].update(of=[["evoking-change"]]), "summaries[0].of[0]",  # was a TypeError
     "is not a scale or count indicator"),
    (lambda d: d["summaries"][0].update(key="empathy"), "summaries[0].key", "duplicate key"),
    (lambda d: d["summaries"][2].pop("denominator"), "summaries[2].denominator", "one or more"),
    (lambda d: d["summaries"][0]["levels"][1].update(threshold=2), "summaries[0].levels[1].threshold",
     "above the one before"),
    (lambda d: d["summaries"][5]["levels"][1].update(threshold=5), "summaries[5].levels[1].threshold",
     "below the one before"),
    (lambda d: d["summaries"][0]["levels"][0].update(threshold="3"), "summaries[0].levels[0].threshold",
     "must be a number"),
    (lambda d: d["summaries"][0].update(better="bigger"), "summaries[0].better", "'higher' or 'lower'"),
])
def test_v2_errors_name_the_field(change, field, words):
    document = doc()
    change(document)
    errors = errors_of(document)
    assert field in errors, sorted(errors)
    assert words in errors[field].message


def test_a_levels_indicator_cannot_feed_a_summary():
    document = doc(TEAM)
    document["summaries"][0]["of"] = ["agenda-shared", "strengths-in-plan"]
    assert "not a scale or count" in errors_of(document)["summaries[0].of[0]"].message


@pytest.mark.parametrize("remove, field", [
    (lambda d: d["translations"]["es"].pop("name"), "translations.es.name"),
    (lambda d: d["indicators"][0]["translations"]["es"].pop("label"), "indicators[0].translations.es.label"),
    (lambda d: d["indicators"][0]["translations"]["es"]["levels"]["partly"].pop("anchor"),
     "indicators[0].translations.es.levels.partly.anchor"),
    (lambda d: d["indicators"][2]["translations"]["es"]["anchors"].pop(2),
     "indicators[2].translations.es.anchors.2"),
    (lambda d: d["indicators"][4].pop("translations"), "indicators[4].translations.es"),
    (lambda d: d["summaries"][0]["translations"]["es"]["levels"].pop("good"),
     "summaries[0].translations.es.levels.good"),
    (lambda d: d["summaries"][0]["translations"]["es"].pop("description"),
     "summaries[0].translations.es.description"),
])
def test_every_declared_language_must_translate_every_text(remove, field):
    document = doc(TEAM)
    remove(document)
    errors = errors_of(document)
    assert field in errors, sorted(errors)
    assert "missing translation (es)" in errors[field].message


def test_translation_errors_carry_the_line_of_the_file():
    text = read(TEAM).replace("      label: Agenda acordada con la familia\n", "")
    error = errors_of(text)["indicators[0].translations.es.label"]
    line = text.splitlines()[error.line - 1]
    assert error.line and line.strip() in ("es:", "domain: Estructura de la reunión"), line


def test_undeclared_language_and_bad_codes_are_refused():
    document = doc(TEAM)
    document["indicators"][0]["translations"]["fr"] = copy.deepcopy(document["indicators"][0]["translations"]["es"])
    assert "not declared" in errors_of(document)["indicators[0].translations.fr"].message
    document = doc(TEAM)
    document["languages"] = ["Spanish"]
    assert "language codes" in errors_of(document)["languages"].message
    document = doc(TEAM)
    document["languages"] = ["en", "es"]
    assert "English is the file's own text" in errors_of(document)["languages"].message


def test_a_v1_file_may_add_languages_later():
    document = yaml.safe_load(V1)
    document["languages"] = ["es"]
    errors = errors_of(document)
    assert {"translations.es", "indicators[0].translations.es"} <= set(errors)
    document["translations"] = {"es": {"name": "Rúbrica mínima", "description": "Un archivo v1."}}
    document["indicators"][0]["translations"] = {"es": {
        "domain": "Vínculo", "label": "Escucha primero", "description": "Deja hablar primero a la familia.",
        "levels": {key: {"label": key.upper(), "anchor": f"Ancla {key}"} for key in ("met", "partly", "na")}}}
    version, created = instruments.load(json.dumps(document))
    assert created and version.translations["es"]["name"] == "Rúbrica mínima"
    assert Indicator.objects.get(version=version).translations["es"]["levels"]["na"]["anchor"] == "Ancla na"


def test_translation_errors_keep_their_index_after_a_broken_item():
    document = doc(TEAM)
    document["indicators"].insert(1, "not a mapping")
    document["indicators"][3]["translations"]["es"].pop("label")
    errors = errors_of(document)
    assert errors["indicators[1]"].message == "must be a mapping"
    assert "indicators[3].translations.es.label" in errors and "indicators[2].translations.es.label" not in errors
