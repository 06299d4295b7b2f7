"""
Reflective application exercise: the learner relates the practice to their own work.

Answers are stored through ``miiwrap_fidelity.api`` (not in XBlock user state) so that the
learner's coach can read and comment on them.
"""
from xblock.completable import XBlockCompletionMode
from xblock.core import XBlock
from xblock.fields import Boolean, Integer, List, Scope, String

from miiwrap_fidelity import api
from miiwrap_fidelity.api import PermissionDenied, ValidationError

from . import context

_ = lambda text: text  # noqa: E731  (marks field labels for extraction; the runtime translates them)
#: Written in a prompt, replaced by the learner's current focus indicators (issue 31).
FOCUS_PLACEHOLDER = "{focus}"

DEFAULT_PROMPTS = [
    {"id": "p1", "text": "Describe a recent family team meeting. Where did you invite the family's own words, and "
                         "what did you do with them?", "indicators": ["eng-family-story", "mi-reflections"]},
]


@XBlock.needs("user")
@XBlock.needs("i18n")
class ReflectionXBlock(context.UnknownHandlers, XBlock):
    """Prompts tied to fidelity indicators; drafts, one submission, coach comments."""

    completion_mode = XBlockCompletionMode.COMPLETABLE
    has_custom_completion = True
    show_in_read_only_mode = True

    display_name = String(display_name=_("Title"), default="Reflective application exercise",
                          scope=Scope.settings)
    prompts = List(display_name=_("Prompts"), default=DEFAULT_PROMPTS, scope=Scope.settings)
    min_length = Integer(display_name=_("Minimum answer length (characters)"), default=50, scope=Scope.settings)
    self_rating = Boolean(display_name=_("Ask for a self-rating on the related indicators"), default=False,
                          scope=Scope.settings)

    def _exercise(self):
        return {"title": self.display_name, "prompts": self.prompts, "min_length": self.min_length,
                "self_rating": self.self_rating}

    def _state(self, user):
        """What the learner's view shows: their answers, status and comments."""
        course = context.course_key(self)
        reflection = api.get_reflection(user, user, course, context.block_id(self)) if course else None
        indicators = {i.key: i for i in api.policy_indicators(course)} if course else {}
        return {
            "status": reflection.status if reflection else "new",
            "answers": reflection.answers if reflection else {},
            "self_ratings": reflection.self_ratings if reflection else {},
            "prompts": reflection.prompts if reflection else [],  # as the learner saw them when submitting
            "comments": [{"author": c.author.username, "text": c.text, "created_at": c.created_at.isoformat()}
                         for c in reflection.comments] if reflection else [],
            "indicators": {key: {"label": ind.label, "levels": [{"key": lvl["key"], "label": lvl["label"]}
                                                                 for lvl in ind.levels]}
                           for key, ind in indicators.items()},
        }

    def student_view(self, context_=None):  # pylint: disable=unused-argument
        user = context.current_user(self)
        state = self._state(user) if user else None
        submitted = bool(state and state["status"] == "submitted")
        # A submitted reflection is shown with the prompts it answered, not today's (an author may
        # have added or changed prompts since).
        shown = state["prompts"] if submitted and state["prompts"] else self.prompts
        prompts = [
            {**prompt, "answer": (state or {}).get("answers", {}).get(prompt["id"], ""),
             "indicators": [
                 {"key": key, **(state or {}).get("indicators", {}).get(key, {"label": key, "levels": []}),
                  "selected": (state or {}).get("self_ratings", {}).get(key, "")}
                 for key in prompt.get("indicators", [])
             ]}
            for prompt in shown
        ]
        plan = self._current_plan(user) if user else None
        # A prompt may name the learner's current focus (issue 31); without a plan, in general words.
        named = ", ".join(focus.indicator_label for focus in plan.focus) if plan is not None and plan.focus else \
            context.gettext(self, _("the skills you are working on"))
        prompts = [{**prompt, "text": prompt["text"].replace(FOCUS_PLACEHOLDER, named)} for prompt in prompts]
        html = context.render(self, "reflection.html", {
            "block": self, "user": user, "state": state, "prompts": prompts,
            "submitted": submitted, "uid": self._uid(), "plan": plan,
        })
        return context.fragment(html, "reflection.js", "MiiwrapReflection")

    def _current_plan(self, user):
        """The learner's current coaching plan, or None (no course, not a learner of it, no plan)."""
        course = context.course_key(self)
        try:
            return api.current_plan(user, user, course) if course else None
        except (PermissionDenied, ValidationError):
            return None

    def _uid(self):
        return "mwr-" + "".join(ch if ch.isalnum() else "-" for ch in context.block_id(self))[-60:]

    def _save(self, user, data, submit):
        course = context.course_key(self)
        if course is None:
            raise ValidationError({"course": [_("This exercise is not in a course.")]})
        reflection = api.save_reflection(user, course, context.block_id(self), self._exercise(),
                                         data.get("answers"), data.get("self_ratings"), submit=submit,
                                         privacy_confirmed=data.get("privacy_confirmed") is True)
        if submit:
            self.runtime.publish(self, "completion", {"completion": 1.0})
        message = _("Your reflection was submitted.") if submit else _("Draft saved.")
        return {"status": reflection.status, "message": context.gettext(self, message)}

    @XBlock.handler
    @context.json_handler
    def save_draft(self, user, data):
        return self._save(user, data, submit=False)

    @XBlock.handler
    @context.json_handler
    def submit_reflection(self, user, data):
        return self._save(user, data, submit=True)

    # --- authoring ---------------------------------------------------------------------------

    def studio_view(self, context_=None):  # pylint: disable=unused-argument
        course = context.course_key(self)
        indicators = api.policy_indicators(course) if course else []
        html = context.render(self, "reflection_studio.html", {
            "block": self, "uid": self._uid(), "indicators": indicators,
            "prompts": [{**p, "selected": set(p.get("indicators", []))} for p in self.prompts],
        })
        return context.fragment(html, "reflection_studio.js", "MiiwrapReflectionStudio")

    @XBlock.handler
    @context.json_handler
    def studio_submit(self, user, data):
        """Save the author's settings after validating every field (course staff only)."""
        course = context.course_key(self)
        if course is not None and not api.is_course_staff(user, course):
            raise PermissionDenied(context.gettext(self, _("Only course staff can edit this exercise.")))
        errors = {}
        title = api.collect(errors, api.clean_text, data.get("display_name"), "display_name", 255, required=True)
        min_length = data.get("min_length")
        if isinstance(min_length, bool) or not isinstance(min_length, int) or not 0 <= min_length <= 5000:
            errors["min_length"] = [_("Enter a whole number from 0 to 5000.")]
        self_rating = data.get("self_rating")
        if not isinstance(self_rating, bool):
            errors["self_rating"] = [_("Must be true or false.")]
        try:
            prompts = api.clean_reflection_prompts(course, data.get("prompts"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        self.display_name, self.min_length, self.self_rating, self.prompts = title, min_length, self_rating, prompts
        return {"result": "success"}

    @staticmethod
    def workbench_scenarios():
        return [("MiiWrap: reflective application exercise",
                 """<miiwrap_reflection display_name="Reflect on a family team meeting" min_length="40"
                                        self_rating="true"/>""")]
