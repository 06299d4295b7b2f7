"""
Issue 26: "the README's demo numbers ('1 of 3', '3 of 3') differ from the pages ('2 of 4', '4 of 4')".
The README's table of demo accounts says what a newcomer will see; it is checked against a seeded demo.
"""
import io
import pathlib
import re

import pytest
from django.core.management import call_command

from miiwrap_fidelity.records.models import LearnerStatus

pytestmark = pytest.mark.django_db
README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_says_what_the_seeded_demo_shows():
    call_command("seed_demo", stdout=io.StringIO())
    said = {name: (int(done), int(needed)) for name, done, needed in re.findall(
        r"^\| `(learner_\w+)` \|[^|]*\|[^|]*?(\d+) of (\d+) qualifying observations", README.read_text(), re.M)}
    assert set(said) == {"learner_ben", "learner_cam"}, said
    shown = {status.learner_username: (status.qualifying_count, status.required_count)
             for status in LearnerStatus.objects.filter(learner_username__in=list(said))}
    assert shown == said
