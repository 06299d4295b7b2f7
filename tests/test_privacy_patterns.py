"""
The client-identifier check (privacy.py): a reviewer's note with Spanish names, a capitalised
"Family", a name before "family", Spanish phone numbers and a Spanish address went through
unflagged. Each case below is flagged; ordinary practice notes are not.
"""
import json
import os
import re
import subprocess
import sys

import pytest

from miiwrap_fidelity.rules import privacy

from privacy_support import browser_warnings, needs_node

FLAGGED = [
    ("Family Gonzalez was visited.", "named_client"),
    ("Visité a la familia Álvarez hoy.", "named_client"),
    ("The Smith family said hi.", "named_client"),
    ("Met with the Lopez household.", "named_client"),
    ("client Maria Lopez called", "named_client"),
    ("Call 612 34 56 78 tomorrow.", "phone"),
    ("Llamar al +34 612 345 678.", "phone"),
    ("Her number is 912345678.", "phone"),
    ("called 555-123-4567", "phone"),
    ("Vive en Calle Mayor 12.", "address"),
    ("Avda. de la Paz, 3, tercero", "address"),
    ("lives at 12 Oak Street", "address"),
    ("write to ana@example.org", "email"),
    # Issue 24: look-alike letters, invisible characters and full-width digits went through.
    ("write to m\u0430ria@example.org", "email"),  # a Cyrillic а
    ("write to maria\u200b@example.org", "email"),  # a zero-width space
    ("Family G\u043enzalez was visited.", "named_client"),  # a Cyrillic о
    ("called \uff15\uff15\uff15-\uff11\uff12\uff13-\uff14\uff15\uff16\uff17", "phone"),  # full-width digits
    # Issue 24: names without a role word, family names in lower case, case numbers (tests/test_identifier_recall.py
    # measures them on a labelled set).
    ("Maria Lopez said the plan felt rushed.", "named_client"),
    ("Talked with José about his job search.", "named_client"),
    ("Met with the gonzalez family.", "named_client"),
    ("Visita a la familia gonzalez.", "named_client"),
    ("Case #48213 was reviewed.", "case_number"),
    ("Archivar en el nº de caso 2024-0012.", "case_number"),
    ("MRN 1234567 is on the referral.", "case_number"),
]

NOT_FLAGGED = [
    "The family agreed on two goals for the plan.",
    "Whole family attended; the youth led the opening.",
    "Used complex reflections; 90.5% of indicators met on 2026-11-20.",
    "Summarised the team's plan in 3 steps and asked 4 open questions.",
    "Extended family members joined the family team meeting.",
    "La familia eligió dos metas.",
]


@pytest.mark.parametrize("text, kind", FLAGGED)
def test_identifiers_are_flagged(text, kind):
    assert kind in privacy.identifier_warnings(text)


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_practice_notes_are_not_flagged(text):
    assert privacy.identifier_warnings(text) == []


def test_each_kind_is_reported_once():
    assert privacy.identifier_warnings("Call 612 34 56 78 or 612 345 678") == ["phone"]


@needs_node
def test_the_browser_reads_the_patterns_the_same_way():
    """The patterns are handed to the browser (``new RegExp(source, flags + "u")``): same answers there."""
    texts = [text for text, _kind in FLAGGED] + NOT_FLAGGED
    browser, _ms = browser_warnings(texts)
    assert browser == [privacy.identifier_warnings(text) for text in texts]
    assert all(re.compile(p["source"]) for p in privacy.client_patterns())


#: Inputs that made a pattern backtrack without end (review finding: "case" and 2,000 spaces took a
#: minute, 5,000 a quarter of an hour), at the longest a free-text field takes.
ADVERSARIAL = [word + gap * 5000 + "x" for word in ("case", "record", "mrn", "expediente", "client")
               for gap in (" ", "\t", "\u00a0")] + [
    "a@" * 2500, "1-" * 2500, "(1" * 2500, "dob " * 1250, "Maria " * 800, "calle " * 800, "#" * 5000,
    "the " * 1250, "familia " * 600, "X" * 5000, "1" * 5000]


def test_adversarial_text_is_checked_without_runaway_backtracking():
    """
    A hang detector, not a timing: the server's check of each adversarial text must end (the
    generous timeout is minutes below what the cubic pattern took). Timings are printed.
    """
    script = ("import json, sys, time, django; django.setup(); from miiwrap_fidelity.rules import privacy\n"
              "texts = json.load(sys.stdin); slowest = 0\n"
              "for text in texts:\n"
              "    started = time.perf_counter(); privacy.identifier_warnings(text)\n"
              "    slowest = max(slowest, time.perf_counter() - started)\n"
              "print(f'slowest of {len(texts)}: {slowest * 1000:.1f} ms')\n")
    finished = subprocess.run([sys.executable, "-c", script], input=json.dumps(ADVERSARIAL), capture_output=True,
                              text=True, timeout=60, check=True,
                              env={**os.environ, "DJANGO_SETTINGS_MODULE": "sandbox_project.settings",
                                   "PYTHONPATH": os.path.join(os.path.dirname(os.path.dirname(
                                       os.path.abspath(__file__))), "demo")})
    print("server:", finished.stdout.strip())


@needs_node
def test_adversarial_text_is_checked_without_runaway_backtracking_in_the_browser():
    _kinds, ms = browser_warnings(ADVERSARIAL, timeout=60)
    print(f"browser: all {len(ADVERSARIAL)} in {ms:.1f} ms")


@needs_node
def test_unicode_classes_read_the_same_in_the_browser():
    """Review finding: Python's \\w, \\b and \\s are Unicode, JavaScript's ASCII: a Cyrillic address was
    an e-mail to the server only, "Ωdob" a birth date to the browser only."""
    texts = ["дмитрий@почта.рф", "\u03a9dob", "client\x1cMaria", "write to maria@example.org",
             "Maria Lopez said the plan felt rushed.", "ﬁle 12345", "case\u2003#\u200912345"]
    kinds, _ms = browser_warnings(texts)
    assert kinds == [privacy.identifier_warnings(text) for text in texts]
