"""
Badges on competency, not on a passing grade: the platform certificate events our flow causes carry
what the Credentials service's badges read.

Credentials (``credentials/apps/badges``) listens to the openedx-events named in
``BADGES_CONFIG["events"]``, finds the learner through the event's ``UserData`` and matches its
requirement and penalty rules on dotted key paths into the event data (``keypath`` over
``attrs.asdict``). An agency awards a badge on ``CERTIFICATE_CREATED`` with
``certificate.current_status == "downloadable"`` for the course, and withdraws it with a penalty on
``CERTIFICATE_REVOKED``. In a course with a competency policy both only happen on our sign-off and
our revocation or expiry (the gate stops every other generation).
"""
import attr
import pytest
from openedx_events.learning.data import UserData
from openedx_events.learning.signals import CERTIFICATE_CREATED, CERTIFICATE_REVOKED
from openedx_events.tooling import OpenEdxPublicSignal

from miiwrap_fidelity import api

pytestmark = pytest.mark.django_db(transaction=True)


def keypath(payload, path):
    """What Credentials' badge rules read: a dotted path into the event data (None when absent)."""
    current = payload
    for key in path.split("."):
        if attr.has(current):
            current = attr.asdict(current, recurse=False)
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return current


@pytest.fixture
def received():
    events = []

    def receiver(signal, sender, **kwargs):  # pylint: disable=unused-argument
        events.append((kwargs["metadata"].event_type, kwargs["certificate"]))

    for signal in (CERTIFICATE_CREATED, CERTIFICATE_REVOKED):
        signal.connect(receiver, dispatch_uid="test_badge_events")
    yield events
    for signal in (CERTIFICATE_CREATED, CERTIFICATE_REVOKED):
        signal.disconnect(dispatch_uid="test_badge_events")


def test_the_event_types_badges_subscribe_to_exist_with_certificate_data():
    for event_type in ("org.openedx.learning.certificate.created.v1", "org.openedx.learning.certificate.revoked.v1"):
        signal = OpenEdxPublicSignal.get_signal_by_type(event_type)
        assert list(signal.init_data) == ["certificate"]


def test_sign_off_then_revoke_award_and_withdraw_with_what_badges_match_on(ready_learner, coach, course_key,
                                                                          received):
    api.gate_decision(ready_learner, course_key)
    assert received == []  # observations alone issue nothing
    api.sign_off(coach, ready_learner, course_key)
    api.revoke(coach, ready_learner, course_key, "Drifted")
    assert [event_type for event_type, _data in received] == ["org.openedx.learning.certificate.created.v1",
                                                             "org.openedx.learning.certificate.revoked.v1"]
    for (_event_type, data), status in zip(received, ("downloadable", "unavailable")):
        assert str(keypath(data, "course.course_key")) == str(course_key)
        assert keypath(data, "current_status") == status
        assert keypath(data, "user.id") == ready_learner.pk
        assert keypath(data, "user.pii.username") == ready_learner.username
        assert isinstance(data.user, UserData)  # how Credentials finds whom to award


def test_a_prevented_certificate_sends_no_created_event(learner, policy, course_key, received):
    from sandbox.fake_platform import FakePlatform  # pylint: disable=import-outside-toplevel

    assert FakePlatform().request_certificate(learner, course_key) is False
    assert received == []
