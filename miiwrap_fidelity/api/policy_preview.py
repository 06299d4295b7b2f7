"""
What a policy change would do before it is saved (issue 25): each learner decided again under the
new rules, their states compared with the stored ones, so that a typo never silently moves a whole
course back (e.g. 12 ready, 0 after).
"""
from collections import Counter, defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..records import evaluation
from ..records.models import CompetencyPolicy, LearnerStatus
from ..rules import competency, data
from ..rules.errors import ValidationError
from .courses import policy_with_changes, save_policy
from .inputs import CourseRef, User
from .names import full_names
from .roles import require_course_staff
from .to_data import user_ref

#: The learners a preview decides again (a few seconds of work at most); past it, the preview says
#: it read the first ones (by id) of how many.
PREVIEW_LEARNERS = 10_000
#: Learners named for each change of state.
NAMED_PER_CHANGE = 5


def preview_policy(actor: User, course_key: CourseRef, **fields: Any) -> data.PolicyPreviewData:
    """
    How the course's learners' states would change if ``fields`` were saved (nothing is written).

    Args:
        actor: who asks (course staff).
        course_key: the course.
        **fields: the settings to change, as ``save_policy`` takes them.

    Returns:
        The changes of state, moves back first, with a few learners named; ``evaluated`` of
        ``total`` learners (at most ``PREVIEW_LEARNERS``, the first by id).

    Raises:
        PermissionDenied: ``actor`` is not course staff.
        ValidationError: an invalid setting (as ``save_policy``), or ``course_key`` is not a course key.
    """
    course_key = require_course_staff(actor, course_key, _("Only course staff can change the competency policy."))
    policy, changed, previous_program = policy_with_changes(actor, course_key, fields)
    statuses = LearnerStatus.objects.filter(course_key=course_key)
    before = dict(statuses.order_by("learner_id").values_list("learner_id", "state")[:PREVIEW_LEARNERS])
    context, now = evaluation.CourseContext(policy, course_key), timezone.now()
    after: dict[int, str] = {}
    ids = list(before)
    for start in range(0, len(ids), evaluation.BATCH):
        for learner_id, (decision, _certification) in evaluation.decide_many(
                context, ids[start:start + evaluation.BATCH], now).items():
            after[learner_id] = str(decision.state.value)
    moved: dict[tuple[str, str], list[int]] = defaultdict(list)
    for learner_id, state in before.items():
        if after[learner_id] != state:
            moved[(state, after[learner_id])].append(learner_id)
    total = statuses.count() if len(before) == PREVIEW_LEARNERS else len(before)
    changes = _named_changes(moved)
    programs = {policy.program, previous_program} - {""} if "program" in changed else set()
    other_courses = CompetencyPolicy.objects.filter(program__in=programs, enabled=True).exclude(
        course_key=course_key).count() if programs else 0
    return data.PolicyPreviewData(
        evaluated=len(before), total=total, unchanged=len(before) - sum(change.count for change in changes),
        changes=changes, moved_back=sum(change.count for change in changes if change.moves_back),
        other_courses=other_courses)


def _confirmation_reasons(preview: data.PolicyPreviewData) -> list[str]:
    """Why saving ``preview``'s change waits for the writer's confirmation."""
    reasons = []
    if preview.moved_back:
        reasons.append(_(
            "Saving would move %(count)s of %(evaluated)s learners back (for example from ready to in "
            "progress). Check the preview; if that is intended, confirm it and save again.") % {
            "count": preview.moved_back, "evaluated": preview.evaluated})
    if preview.other_courses:
        reasons.append(ngettext(
            "Changing the program evaluates again the learners of %(count)s other course that shares this "
            "course's evidence; their states may change. If that is intended, confirm it and save again.",
            "Changing the program evaluates again the learners of %(count)s other courses that share this "
            "course's evidence; their states may change. If that is intended, confirm it and save again.",
            preview.other_courses) % {"count": preview.other_courses})
    return reasons


def _named_changes(moved: dict[tuple[str, str], list[int]]) -> tuple[data.StateChangeData, ...]:
    """Each change of state with its first learners (by username) named, in two queries."""
    users = {user.pk: user for user in get_user_model().objects.filter(
        pk__in=[pk for ids in moved.values() for pk in ids]).only("pk", "username")} if moved else {}
    named = {key: sorted((users[pk] for pk in ids if pk in users), key=lambda user: user.username)[:NAMED_PER_CHANGE]
             for key, ids in moved.items()}
    names = full_names(user.pk for people in named.values() for user in people)
    counts = Counter({key: len(ids) for key, ids in moved.items()})
    order = sorted(moved, key=lambda key: (not competency.moves_back(*key), -counts[key], key))
    labels = dict(LearnerStatus._meta.get_field("state").choices)
    return tuple(data.StateChangeData(
        before=before, after=after, count=counts[(before, after)], moves_back=competency.moves_back(before, after),
        before_label=str(labels.get(before, before)), after_label=str(labels.get(after, after)),
        learners=tuple(user_ref(user) for user in named[(before, after)]),
        people=tuple(names.get(user.pk) or user.username for user in named[(before, after)]))
        for before, after in order)


def save_previewed_policy(actor: User, course_key: CourseRef, confirm_moves_back: bool,
                          **fields: Any) -> data.PolicyData:
    """
    ``save_policy`` for people and scripts (the policy page, REST): a change that would move
    learners back (``preview_policy``) is saved only when the writer confirmed it.

    Args:
        actor: who saves (course staff).
        course_key: the course.
        confirm_moves_back: the writer saw the preview and means its moves back.
        **fields: the settings to change (as ``save_policy``).

    Returns:
        The saved policy.

    Raises:
        PermissionDenied: ``actor`` is not course staff.
        ValidationError: as ``save_policy``; learners would move back and ``confirm_moves_back`` is
            False (on ``confirm_moves_back``, the preview's figures in the message).
    """
    preview = preview_policy(actor, course_key, **fields)
    if preview.needs_confirmation and not confirm_moves_back:
        raise ValidationError({"confirm_moves_back": _confirmation_reasons(preview)})
    return save_policy(actor, course_key, **fields)
