"""Importing instruments: the sample is valid, errors name the line and field, versions are immutable."""
import json

import pytest
import yaml
from django.core.management import CommandError, call_command

from miiwrap_fidelity.management.commands.load_instrument import SAMPLE
from miiwrap_fidelity.records import instrument_import as instruments
from miiwrap_fidelity.records.models import Indicator, InstrumentVersion

pytestmark = pytest.mark.django_db


def sample():
    with open(SAMPLE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_sample_instrument_shape():
    doc = sample()
    assert 15 <= len(doc["indicators"]) <= 30
    assert 2 <= sum(1 for i in doc["indicators"] if i["critical"]) <= 8
    for name in ("TOM 2.0", "WFI-EZ", "MITI"):
        assert name in doc["description"], "licensed instruments are referenced, not copied"
    assert all(len(i["levels"]) == 4 and i["levels"][-1]["met"] is None for i in doc["indicators"])


def test_command_imports_once_then_reports_unchanged(capsys):
    call_command("load_instrument")
    assert "Imported miiwrap-core v1 with 21 indicators" in capsys.readouterr().out
    call_command("load_instrument")
    assert "Unchanged" in capsys.readouterr().out
    assert InstrumentVersion.objects.count() == 1 and Indicator.objects.count() == 21


def test_changed_content_makes_a_new_version(tmp_path):
    doc = sample()
    first, _ = instruments.load(json.dumps(doc))
    doc["indicators"][0]["label"] = "Strengths named and used"
    second, created = instruments.load(json.dumps(doc, indent=2))
    assert created and second.number == first.number + 1
    assert first.indicators.get(key="eng-strengths").label == "Strengths-based engagement"


def test_errors_are_reported_by_line_and_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "slug: Bad Slug\n"
        "name: Broken\n"
        "indicators:\n"
        "  - key: a\n"
        "    domain: D\n"
        "    label: A\n"
        "    description: Does A.\n"
        "    critical: maybe\n"
        "    levels:\n"
        "      - {key: yes, label: Yes, anchor: Did it, met: true}\n"
        "      - {key: no, label: No, anchor: Did not, met: sometimes}\n"
        "  - key: a\n"
        "    domain: D\n"
        "    levels: []\n"
    )
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("load_instrument", str(bad))
    err = capsys.readouterr().err
    assert "line 1: slug: use lowercase" in err
    assert "line 8: indicators[0].critical: must be true or false" in err
    assert "line 11: indicators[0].levels[1].met" in err
    assert "line 12: indicators[1].key: duplicate key 'a'" in err
    assert "indicators[1].label: is required" in err
    assert "line 14: indicators[1].levels: must list at least two levels" in err
    assert InstrumentVersion.objects.count() == 0


def test_syntax_errors_and_unreadable_files(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"slug": "x",\n "indicators": [\n')
    with pytest.raises(CommandError):
        call_command("load_instrument", str(broken))
    assert "line 3" in capsys.readouterr().err
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_instrument", str(tmp_path / "missing.yaml"))
    with pytest.raises(instruments.InstrumentInvalid):
        instruments.load("- just\n- a list\n")


def test_dry_run_writes_nothing(capsys):
    call_command("load_instrument", "--dry-run")
    assert "is valid" in capsys.readouterr().out
    assert InstrumentVersion.objects.count() == 0
