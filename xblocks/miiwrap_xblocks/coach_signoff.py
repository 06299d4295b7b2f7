"""
Coach sign-off: the competency gate inside the course.

Learners see a read-only status (observations so far, what remains, feedback received,
certification). Coaches and course staff see the learner picker, the anchored rubric, feedback
fields and approve / revoke. Every handler re-checks the role through ``miiwrap_fidelity.api``.
"""
import json
from collections import Counter

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from xblock.completable import XBlockCompletionMode
from xblock.core import XBlock
from xblock.fields import Boolean, Float, Scope, String

from miiwrap_fidelity import api
from miiwrap_fidelity.api import ValidationError

from . import context

_ = lambda text: text  # noqa: E731  (marks field labels for extraction; the runtime translates them)

#: Learners offered in the picker at once; with more, the coach narrows them by typing a name.
PICKER_SIZE = 200


def _name(person, names):
    """The person's full name from ``names`` (``api.full_names``), or their username when they have none."""
    return names.get(person.pk) or person.username


def _name_key(text):
    """Names compared as people read them: case and runs of spaces ignored."""
    return " ".join(text.casefold().split())


def _picker_entries(rows):
    """
    The picker's learners (``api.learner_rows``) by full name, named in one query: the username
    where there is no name, and beside a name two of them share; in the order of the names shown.
    """
    names = api.full_names(row["learner"].pk for row in rows)
    shared = Counter(_name_key(_name(row["learner"], names)) for row in rows)
    entries = []
    for row in rows:
        learner, name = row["learner"], _name(row["learner"], names)
        shown = f"{name} · {learner.username}" if learner.pk in names and shared[_name_key(name)] > 1 else name
        entries.append({"id": learner.pk, "username": learner.username, "name": name, "shown": shown,
                        "state_label": row["state_label"], "label": f"{shown} ({row['state_label']})"})
    return sorted(entries, key=lambda entry: (_name_key(entry["shown"]), entry["username"]))


def _observation_summary(observation, names):
    return {
        "id": observation.pk, "practice_date": observation.practice_date.isoformat(),
        "setting": observation.setting_label, "status": observation.status,
        "percent": observation.percent, "observer": _name(observation.observer, names),
        "observer_username": observation.observer.username,
        "blinded": observation.blinded,  # the learner rates this session first (ADR 0014)
        "percent_label": api.format_percent(observation.percent),  # as the coach's language writes it
        "feedback": [
            {"indicator": r.indicator_label, "level": r.level, "strength": r.strength, "next_step": r.next_step}
            for r in observation.ratings if r.strength or r.next_step
        ],
    }


def _status_summary(status, certification, names, reviewer=False, evidence=None):
    reasons = api.status_reason_sentences(status, reviewer=reviewer)
    return {
        "state": status.state, "state_label": status.state_label,
        "qualifying": status.qualifying_count, "required": status.required_count, "reasons": reasons,
        "certification": certification.as_dict() if certification else None,
        "evidence": _evidence_summary(evidence, names),
    }


def _evidence_summary(evidence, names):
    """What an active certification rests on (``data.CertifiedEvidenceData``), as the block shows it."""
    if evidence is None:
        return None
    return {
        "issued_at": evidence.certification.issued_at.date().isoformat(),
        "expires_at": evidence.certification.expires_at.date().isoformat()
        if evidence.certification.expires_at else None,
        "observations": [{"practice_date": o.practice_date.isoformat(), "setting": o.setting_label,
                          "percent": o.percent, "observer": _name(o.observer, names),
                          "percent_label": api.format_percent(o.percent) if o.percent is not None else ""} for o in evidence.observations],
    }


def _signoff_label(block, signoff, names):
    """A sign-off as a sentence ("Approved by coach Casey Morgan"), never its codes."""
    if signoff.action == api.REVOKE:
        text = context.gettext(block, _("Revoked by %(name)s"))
    elif signoff.level == api.LEAD:
        text = context.gettext(block, _("Confirmed by certification lead %(name)s"))
    else:
        text = context.gettext(block, _("Approved by coach %(name)s"))
    return text % {"name": _name(signoff.actor, names)}


@XBlock.needs("user")
@XBlock.needs("i18n")
class CoachSignOffXBlock(context.UnknownHandlers, XBlock):
    """Status for learners; rubric, feedback and sign-off for their coaches."""

    completion_mode = XBlockCompletionMode.EXCLUDED
    show_in_read_only_mode = True

    display_name = String(display_name=_("Title"), default="Coach sign-off", scope=Scope.settings)
    graded = Boolean(display_name=_("Count the coach's sign-off as this component's score"), default=False,
                     scope=Scope.settings)
    published_score = Float(default=None, scope=Scope.user_state)

    @property
    def has_score(self):
        return self.graded

    def max_score(self):
        return 1.0

    # --- views -----------------------------------------------------------------------------------

    def student_view(self, context_=None):  # pylint: disable=unused-argument
        user, course = context.current_user(self), context.course_key(self)
        policy = api.get_policy(course) if course else None
        values = {"block": self, "user": user, "policy": policy, "uid": self._uid()}
        rows, total = api.coachable_rows(user, course, limit=PICKER_SIZE) if user and policy else ([], 0)
        if rows:
            template, script = "signoff_coach.html", "signoff_coach.js"
            # Several instruments (ADR 0013): one rubric per instrument, the chosen one shown.
            choices = api.instrument_choices(policy)
            rubrics = [(choice, self._rubric_html(course, choice.id)) for choice in choices]
            values.update(learners=_picker_entries(rows), learner_total=total, picker_size=PICKER_SIZE,
                          # One instrument: the settings it is used in (issue 26); several: every
                          # setting, and the server refuses one the chosen instrument is not used in.
                          settings_choices=api.observation_settings(
                              None if rubrics else policy.instrument_version_id),
                          # The same patterns as the server's check, for the warning while typing.
                          privacy_patterns_json=json.dumps(api.identifier_patterns()),
                          privacy_normalization_json=json.dumps(api.identifier_normalization()),
                          require_lead=policy.require_lead_signoff, is_staff=api.is_course_staff(user, course),
                          rubrics=rubrics,
                          rubric_html=None if rubrics else self._rubric_html(course, None))
        else:
            template, script = "signoff_learner.html", None
            if user and policy:
                values.update(self._learner_values(user, course))
        return context.fragment(context.render(self, template, values), script, "MiiwrapCoachSignOff")

    @staticmethod
    def _rubric_html(course, instrument_version):
        # The coding grid of the pages (issue 26), with the instrument's summary scores computed live;
        # its domains are headed under the block's "Record an observation" (h4).
        return mark_safe(render_to_string(  # our own template, escaped by Django
            "miiwrap_fidelity/_rubric_form.html",
            {"rubric_rows": api.rubric_form_rows(api.policy_indicators(course, instrument_version)),
             "rubric_summaries": api.policy_summaries(course, instrument_version), "domain_tag": "h5"}))

    def _learner_values(self, user, course):
        try:
            status = api.learner_status(user, user, course)
        except api.NotEnrolled as exc:
            return {"not_enrolled": " ".join(exc.messages)}
        certification = api.certification_status(user, user, course)
        self._publish_score(certification is not None and certification.active)
        evidence = api.certified_evidence(user, user, course) if status.certification else None
        try:
            growth_url = reverse("miiwrap_fidelity:my_competency", args=[str(course)])
        except NoReverseMatch:
            growth_url = None
        latest = api.history_page(user, user, course, 1)  # the latest page; the competency page has them all
        observations = list(latest.object_list)
        names = api.full_names(o.observer.pk for o in observations + list(evidence.observations if evidence else ()))
        return {
            "status": _status_summary(status, certification, names, evidence=evidence),
            "observations": [_observation_summary(o, names) for o in observations],
            "observation_count": latest.paginator.count,
            "growth_url": growth_url,
            "plan": api.current_plan(user, user, course),  # "My focus" (issue 31): the steps agreed with the coach
        }

    def _publish_score(self, certified):
        """Graded blocks give 1 when the learner's competency is certified, else 0 (on change only)."""
        score = 1.0 if certified else 0.0
        if self.graded and self.published_score != score:
            self.runtime.publish(self, "grade", {"value": score, "max_value": 1.0})
            self.published_score = score

    def _uid(self):
        return "mws-" + "".join(ch if ch.isalnum() else "-" for ch in context.block_id(self))[-60:]

    # --- coach handlers (each re-checks the role) --------------------------------------------------

    def _course(self):
        course = context.course_key(self)
        if course is None:
            raise ValidationError({"course": [_("This block is not in a course.")]})
        return course

    def _learner(self, user, data, course):
        learner = api.get_user(data.get("learner_id"), "learner_id") if data.get("learner_id") else None
        if learner is None:
            raise ValidationError({"learner_id": [_("Choose a learner.")]})
        api.require_coach(user, learner, course)
        return learner

    def _learner_state(self, user, learner, course, history_page=1):
        status = api.learner_status(user, learner, course)
        evidence = api.certified_evidence(user, learner, course) if status.certification else None
        history = api.history_page(user, learner, course, history_page, include_drafts=True)
        actions = api.offered_actions(user, status, course)  # as the coach's page offers them; decide checks again
        observations = list(history.object_list)
        reflections = api.reflections_for(user, learner, course)
        signoffs = api.signoffs_for(user, learner, course)
        # Everyone the answer names, by full name in one query.
        names = api.full_names([learner.pk] + [o.observer.pk for o in observations + list(
            evidence.observations if evidence else ())] + [s.actor.pk for s in signoffs] + [
            c.author.pk for r in reflections for c in r.comments])
        return {
            "actions": {"approve": actions.approve, "revoke": actions.revoke, "level": actions.level,
                        "why_not": "" if actions.approve else api.approval_not_offered(actions.not_offered)},
            "learner": {"id": learner.pk, "username": learner.username, "name": _name(learner, names)},
            "status": _status_summary(status, api.certification_status(user, learner, course), names, reviewer=True,
                                      evidence=evidence),
            "observations": [_observation_summary(o, names) for o in observations],
            "history": {"page": history.number, "pages": history.paginator.num_pages,
                        "count": history.paginator.count, "first": history.start_index(), "last": history.end_index()},
            "reflections": [
                {"id": r.pk, "title": r.title,
                 "answers": [{"prompt": p["text"], "answer": r.answers.get(p["id"], "")} for p in r.prompts],
                 "self_ratings": [{"indicator": label, "level": level} for label, level in r.self_rating_labels],
                 "comments": [{"author": _name(c.author, names), "text": c.text} for c in r.comments]}
                for r in reflections
            ],
            "signoffs": [{"action": s.action, "level": s.level, "actor": _name(s.actor, names),
                          "label": _signoff_label(self, s, names), "created_at": s.created_at.isoformat(),
                          "reason": s.reason}
                         for s in signoffs],
        }

    @XBlock.handler
    @context.json_handler
    def find_learners(self, user, data):
        """
        The picker's choices for the beginning of a username or of a full name, case and accents
        ignored (``api.learner_statuses``; a course's staff may have thousands), named as the picker
        names them.
        """
        listing = api.learner_statuses(user, self._course(), search=data.get("search") or "")
        return {"total": listing.count(), "learners": _picker_entries(api.learner_rows(listing[:PICKER_SIZE]))}

    @XBlock.handler
    @context.json_handler
    def learner_state(self, user, data):
        """The learner's records for the coach; ``history_page`` pages the observations (newest first)."""
        course = self._course()
        return self._learner_state(user, self._learner(user, data, course), course, data.get("history_page") or 1)

    @XBlock.handler
    @context.json_handler
    def record_observation(self, user, data):
        course = self._course()
        learner = self._learner(user, data, course)
        result = api.save_observation(user, learner, course, data, observation_id=data.get("observation_id"),
                                      submit=data.get("submit") is True, idempotency_key=data.get("submission_token"))
        observation = result.observation
        message = (context.gettext(self, _("Observation submitted.")) if observation.status == "submitted"
                   else context.gettext(self, _("Draft saved.")))
        return {"message": message, "warnings": [api.identifier_warning(w) for w in result.warnings],
                "observation": {"id": observation.pk, "status": observation.status,
                                "percent": observation.percent, "revision": observation.revision},
                "state": self._learner_state(user, learner, course)}

    @XBlock.handler
    @context.json_handler
    def decide(self, user, data):
        course = self._course()
        learner = self._learner(user, data, course)
        action = data.get("action")
        if action == "approve":
            api.sign_off(user, learner, course, level=data.get("level") or "coach", reason=data.get("reason", ""),
                         idempotency_key=data.get("submission_token"),
                         privacy_confirmed=data.get("privacy_confirmed") is True)
            message = context.gettext(self, _("Competency approved."))
        elif action == "revoke":
            api.revoke(user, learner, course, data.get("reason", ""), idempotency_key=data.get("submission_token"),
                       privacy_confirmed=data.get("privacy_confirmed") is True)
            message = context.gettext(self, _("Competency revoked."))
        else:
            raise ValidationError({"action": [_("Choose approve or revoke.")]})
        return {"message": message, "state": self._learner_state(user, learner, course)}

    @XBlock.handler
    @context.json_handler
    def comment_reflection(self, user, data):
        course = self._course()
        learner = self._learner(user, data, course)
        api.comment_on_reflection(user, data.get("reflection_id"), data.get("text"),
                                  privacy_confirmed=data.get("privacy_confirmed") is True,
                                  idempotency_key=data.get("submission_token"))
        return {"message": context.gettext(self, _("Comment added.")),
                "state": self._learner_state(user, learner, course)}

    @staticmethod
    def workbench_scenarios():
        return [("MiiWrap: coach sign-off", """<miiwrap_coach_signoff display_name="Competency sign-off"/>""")]
