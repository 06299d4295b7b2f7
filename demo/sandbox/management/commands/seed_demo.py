"""
Seed the sandbox: two instruments (the sample practice rubric, a team-meeting rubric), a course policy
that needs both (two requirement sets, ADR 0013), coaches, a lead and enrolled learners.
"""
import os
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from miiwrap_fidelity import api
from miiwrap_fidelity.records.models import Indicator, InstrumentVersion
from sandbox.enrollment import enroll
from sandbox.models import CourseRole
from sandbox.views import DEMO_PASSWORD, DEMO_USERS

#: The second instrument of the demo course: family team meetings.
TEAM_MEETING_INSTRUMENT = os.path.join(os.path.dirname(__file__), "..", "..", "data", "team_meeting_demo.yaml")


def demo_requirement_sets(practice, team_meeting):
    """At least 3 qualifying observations with the practice rubric, and 1 team meeting with its rubric."""
    return [
        {"instrument_version": practice.pk, "setting": "", "min_observations": 3, "window_days": 180,
         "conditions": [{"measure": "percent", "op": ">=", "value": 80}, {"measure": "essentials"}]},
        {"instrument_version": team_meeting.pk, "setting": "family_team_meeting", "min_observations": 1,
         "window_days": 180, "conditions": [{"measure": "percent", "op": ">=", "value": 75}, {"measure": "essentials"}]},
    ]


#: Full names, as a platform's account profiles hold them (pages show them, usernames second).
FULL_NAMES = {
    "learner_ana": ("Ana", "Alvarez"), "learner_ben": ("Ben", "Brooks"), "learner_cam": ("Cam", "Castillo"),
    "learner_dee": ("Dee", "Dawson"), "coach_casey": ("Casey", "Morgan"), "lead_lee": ("Lee", "Park"),
    "coach_dana": ("Dana", "Reyes"),
}
COHORT_NAMES = [("Alex", "Kim"), ("Blake", "Nguyen"), ("Chris", "Okafor"), ("Devon", "Silva"),
                ("Eden", "Haddad"), ("Frankie", "Lopez"), ("Gray", "Ivanova"), ("Harper", "Jones")]


def _create(username, **extra):
    first, last = FULL_NAMES.get(username, ("", ""))
    return get_user_model().objects.create_user(username, f"{username}@example.com", DEMO_PASSWORD,
                                                first_name=extra.pop("first_name", first),
                                                last_name=extra.pop("last_name", last))


def ratings(indicators, miss=(), not_applicable=()):
    """Every indicator met, except those in ``miss`` (partly) and ``not_applicable``."""
    result = {}
    for indicator in indicators:
        level = "partly" if indicator.key in miss else "na" if indicator.key in not_applicable else "met"
        result[indicator.key] = {
            "level": level,
            "strength": "" if level != "met" else f"Clear example of {indicator.label.lower()}.",
            "next_step": f"Practise {indicator.label.lower()} in the next meeting." if level == "partly" else "",
        }
    return result


def team_meeting(coach, learner, course, indicators, today, days_ago):
    """A family team meeting observed with the team-meeting rubric (the policy's second set)."""
    api.save_observation(coach, learner, course, {
        "practice_date": (today - timedelta(days=days_ago)).isoformat(), "setting": "family_team_meeting",
        "overall_note": "Observed a family team meeting.", "ratings": ratings(indicators),
        "instrument_version": indicators[0].version_id}, submit=True)


class Command(BaseCommand):
    help = "Create the sandbox's demo course, people and observations (does nothing if already seeded)."

    def handle(self, *args, **options):
        users = get_user_model().objects
        if users.filter(username="coach_casey").exists():
            self.stdout.write("Already seeded.")
            return
        call_command("load_instrument", stdout=self.stdout)
        version = InstrumentVersion.objects.order_by("-id").first()
        call_command("load_instrument", TEAM_MEETING_INSTRUMENT, stdout=self.stdout)
        team_version = InstrumentVersion.objects.order_by("-id").first()
        # MI coding (summary scores) too, so that a lead can try a MITI-style set in the policy editor.
        call_command("load_instrument", api.SAMPLE_INSTRUMENTS[1], stdout=self.stdout)
        course = api.parse_course_key(settings.DEMO_COURSE_ID)
        people = {name: _create(name) for name, _ in DEMO_USERS}
        users.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
        lead, coach = people["lead_lee"], people["coach_casey"]
        CourseRole.objects.create(course_key=course, user=lead, role="staff")
        for name in ("learner_ana", "learner_ben", "learner_cam", "learner_dee"):
            enroll(people[name], course)
        # Saving the policy re-evaluates the learners already enrolled (its page shows the run).
        api.save_policy(lead, course, require_lead_signoff=False, validity_months=24, mode="add_to_grade",
                        requirement_sets=demo_requirement_sets(version, team_version))
        for name in ("learner_ana", "learner_ben", "learner_cam"):  # learner_dee waits for a coach
            api.assign_coach(lead, course, coach, people[name])
        indicators = list(Indicator.objects.filter(version=version))
        team_indicators = list(Indicator.objects.filter(version=team_version))
        today = timezone.now().date()

        def observe(learner, days_ago, **kwargs):
            api.save_observation(coach, learner, course, {
                "practice_date": (today - timedelta(days=days_ago)).isoformat(), "setting": "home_visit",
                "overall_note": "Observed a home visit.", "ratings": ratings(indicators, **kwargs),
            }, submit=True)

        observe(people["learner_ben"], 40, miss=("plan-brainstorm", "mi-summaries"))
        observe(people["learner_ben"], 10, miss=("mi-reflections",))
        team_meeting(coach, people["learner_ben"], course, team_indicators, today, 15)  # his second set is met
        for days_ago in (60, 30, 7):
            observe(people["learner_cam"], days_ago, miss=("mi-summaries",), not_applicable=("trans-readiness",))
        team_meeting(coach, people["learner_cam"], course, team_indicators, today, 20)
        self._seed_cohort(lead, coach, course, indicators, today, team_indicators)

    def _seed_cohort(self, lead, coach, course, indicators, today, team_indicators):
        """Eight more learners and a second coach, so that the leader view has cells of five or more."""
        users = get_user_model().objects
        second = _create("coach_dana")
        misses = [(), ("mi-summaries",), ("plan-brainstorm", "mi-affirmations"), ("impl-adjust-plan",),
                  ("mi-evoking", "mi-summaries", "plan-measurable"), (), ("trans-readiness",), ("mi-open-questions",)]
        for index, miss in enumerate(misses):
            first, last = COHORT_NAMES[index]
            learner = _create(f"cohort_{index + 1:02d}", first_name=first, last_name=last)
            enroll(learner, course)
            api.assign_coach(lead, course, coach if index % 2 else second, learner)
            observer = coach if index % 2 else second
            for days_ago in range(70 - 15 * (index % 3), 0, -25):
                api.save_observation(observer, learner, course, {
                    "practice_date": (today - timedelta(days=days_ago)).isoformat(), "setting": "home_visit",
                    "overall_note": "", "ratings": ratings(indicators, miss=miss)}, submit=True)
            if index % 4 != 3:  # most have had their team meeting observed too
                team_meeting(observer, learner, course, team_indicators, today, 12 + index)
        # One session rated blind by both coaches, for the rater-agreement page.
        learner = users.get(username="cohort_02")
        api.assign_coach(lead, course, second, learner)
        day = (today - timedelta(days=2)).isoformat()
        first = api.save_observation(coach, learner, course, {"practice_date": day, "setting": "supervision",
                                                              "ratings": ratings(indicators)}).observation
        co = api.save_observation(second, learner, course, {"co_observation_of": first.pk,
                                                            "ratings": ratings(indicators, miss=("mi-summaries",))},
                                  submit=True).observation
        api.save_observation(coach, learner, course, {"practice_date": day, "setting": "supervision",
                                                      "ratings": ratings(indicators), "revision": first.revision},
                             observation_id=first.pk, submit=True)
        assert co.co_observation_of_id == first.pk
        self.stdout.write(self.style.SUCCESS("Seeded the sandbox."))
        self.stdout.write(f"Course: {course}")
        for name, role in DEMO_USERS + [("coach_dana", "second coach (co-rates)"),
                                        ("cohort_01..08", "more learners, for the leader view"),
                                        ("admin", "Django admin")]:
            self.stdout.write(f"  {name:<12} password {DEMO_PASSWORD:<14} {role}")
