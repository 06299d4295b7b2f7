"""
How well the client-identifier check (privacy.py) does on a labelled set of coaching notes in English
and Spanish (tests/data/identifier_notes.yaml): recall per kind of identifier and false positives on
ordinary notes, printed with the targets of issue 24, and the same verdict in the browser.
"""
import json
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from miiwrap_fidelity.rules import privacy

from privacy_support import browser_warnings, needs_node

NOTES = yaml.safe_load((Path(__file__).parent / "data" / "identifier_notes.yaml").read_text(encoding="utf-8"))
#: The least recall each kind must reach, and the most false positives on ordinary notes (issue 24).
RECALL_TARGETS = {"phone": 0.95, "email": 0.95, "address": 0.95, "named_client": 0.80}
FALSE_POSITIVE_TARGET = 0.05


def _ordinary(notes):
    return [note for note in notes if not note["kinds"]]


def test_the_labelled_set_covers_both_languages_and_every_kind():
    languages = Counter(note["lang"] for note in NOTES)
    kinds = Counter(kind for note in NOTES for kind in note["kinds"])
    assert len(NOTES) >= 200 and set(languages) == {"en", "es"}
    assert min(languages.values()) >= 0.4 * len(NOTES)
    assert set(kinds) == {"named_client", "phone", "email", "address", "birth_date", "case_number"}
    assert len(_ordinary(NOTES)) >= 100


def _measure(notes):
    """``({kind: (found, total)}, false positives, ordinary notes, [what went wrong])`` over ``notes``."""
    found, total, wrong = Counter(), Counter(), []
    for note in notes:
        warnings = privacy.identifier_warnings(note["text"])
        for kind in note["kinds"]:
            total[kind] += 1
            found[kind] += kind in warnings
            if kind not in warnings:
                wrong.append(f"missed {kind}: {note['text']!r}")
        if not note["kinds"] and warnings:
            wrong.append(f"flagged {warnings}: {note['text']!r}")
    ordinary = len(_ordinary(notes))
    false_positives = sum(1 for line in wrong if line.startswith("flagged"))
    return {kind: (found[kind], total[kind]) for kind in total}, false_positives, ordinary, wrong


def _ratio(found, total):
    return f"{found}/{total} {found / total:.2f}" if total else "-"


def _table(results):
    """Recall per kind and the false-positive rate, in English, in Spanish and in all notes."""
    languages = ("en", "es", "all")
    lines = [f"{'kind':<15}" + "".join(f"{language:>13}" for language in languages) + "  target"]
    for kind in sorted(results["all"][0]):
        cells = [_ratio(*results[language][0].get(kind, (0, 0))) for language in languages]
        target = f"  >= {RECALL_TARGETS[kind]}" if kind in RECALL_TARGETS else ""
        lines.append(f"{kind:<15}" + "".join(f"{cell:>13}" for cell in cells) + target)
    cells = [_ratio(*results[language][1:3]) for language in languages]
    lines.append(f"{'false positive':<15}" + "".join(f"{cell:>13}" for cell in cells) + f"  <= {FALSE_POSITIVE_TARGET}")
    return "\n".join(lines)


def test_recall_and_false_positives_meet_the_targets(capsys):
    results = {"all": _measure(NOTES)}
    for language in ("en", "es"):
        results[language] = _measure([note for note in NOTES if note["lang"] == language])
    recall, false_positives, ordinary, wrong = results["all"]
    report = "\n".join(["", f"Identifier check on {len(NOTES)} labelled notes (recall per kind):",
                        _table(results), *wrong])
    with capsys.disabled():
        print(report)
    for kind, target in RECALL_TARGETS.items():
        found, total = recall[kind]
        assert found / total >= target, report
    assert false_positives / ordinary <= FALSE_POSITIVE_TARGET, report


@needs_node
def test_the_browser_gives_the_same_verdict_on_every_note():
    texts = [note["text"] for note in NOTES]
    browser, _ms = browser_warnings(texts)
    assert browser == [privacy.identifier_warnings(text) for text in texts]


def _long_note():
    """About 5,000 characters of ordinary notes: nothing matches, so every pattern reads all of it."""
    text = " ".join(note["text"] for note in _ordinary(NOTES))
    return (text * (5000 // len(text) + 1))[:5000]


@pytest.mark.parametrize("where", ["server", pytest.param("browser", marks=needs_node)])
def test_how_long_the_check_takes_on_a_long_note(where, capsys):
    """Benchmarked, not asserted (the time depends on the machine): printed with the served size."""
    note = _long_note()
    if where == "server":
        privacy.identifier_warnings("warm up")  # the name patterns are built on first use
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            warnings = privacy.identifier_warnings(note)
            runs.append((time.perf_counter() - started) * 1000)
        ms = statistics.median(runs)
    else:
        (warnings,), ms = browser_warnings([note])
    with capsys.disabled():
        print(f"\nIdentifier check of a {len(note):,}-character note ({where}): {ms:.1f} ms; patterns served to "
              f"the page: {len(json.dumps(privacy.client_patterns())):,} bytes of JSON")
    assert warnings == []
