"""Retirement, retention and the audit chain."""
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import (
    AuditEvent,
    CoachAssignment,
    IndicatorRating,
    Observation,
    Reflection,
    SignOff,
)
from sandbox.fake_platform import USER_RETIRE_LMS_MISC

pytestmark = pytest.mark.django_db


def test_retirement_signal_removes_free_text_and_keeps_aggregates(ready_learner, coach, lead, course_key,
                                                                  django_capture_on_commit_callbacks):
    exercise = {"title": "T", "prompts": [{"id": "p1", "text": "Q?", "indicators": []}], "min_length": 1}
    reflection = api.save_reflection(ready_learner, course_key, "b1", exercise, {"p1": "My own words"}, submit=True)
    api.comment_on_reflection(coach, reflection.pk, "Coach comment")
    with django_capture_on_commit_callbacks(execute=True):
        api.sign_off(coach, ready_learner, course_key, reason="Reason text")
    before = api.leader_view(lead, course_key)
    USER_RETIRE_LMS_MISC.send(sender=None, user=ready_learner)
    assert not Observation.objects.filter(learner=ready_learner).exclude(overall_note="").exists()
    assert not IndicatorRating.objects.filter(observation__learner=ready_learner).exclude(strength="").exists()
    assert Reflection.objects.get().answers == {} and SignOff.objects.get().reason == ""
    assert not CoachAssignment.objects.filter(learner=ready_learner).exists()
    assert Observation.objects.filter(learner=ready_learner).count() == 3, "scores stay for the aggregates"
    assert api.leader_view(lead, course_key)["indicators"] == before["indicators"]


def test_retention_purge_dry_run_then_apply(assigned, coach, observe, capsys):
    observe(coach, assigned, days_ago=400)
    observe(coach, assigned, days_ago=10)
    call_command("purge_free_text", months=12)
    assert "Would blank the free text of 1 observations" in capsys.readouterr().out
    assert Observation.objects.exclude(overall_note="").count() == 2
    call_command("purge_free_text", months=12, apply=True)
    old = Observation.objects.get(practice_date__lt=timezone.now().date() - timedelta(days=300))
    assert old.overall_note == "" and old.met_count is not None
    assert Observation.objects.exclude(overall_note="").count() == 1
    with pytest.raises(CommandError):
        call_command("purge_free_text", months=0)


def test_verify_audit_chain_command(ready_learner, capsys):
    call_command("verify_audit_chain")
    assert "Audit chain intact" in capsys.readouterr().out
    victim = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(pk=victim.pk).update(action="something.else")
    with pytest.raises(CommandError, match=f"broken at event {victim.pk}"):
        call_command("verify_audit_chain")
