"""
The sandbox course's content as the platform would report a learner's progress through it: the
outline (sections tagged in Studio with the rubric's domains), units completed and knowledge-check
scores. Deterministic per learner, so the demo and the tests see the same data.
"""
#: (section title, Studio tags, [(subsection title, units, knowledge-check points)])
OUTLINE = [
    ("Wraparound foundations", ["Engagement"],
     [("What wraparound is, and is not", 3, 4), ("Family voice and choice", 3, 6)]),
    ("Preparing the team", ["Team preparation"],
     [("Finding natural supports", 2, 5), ("The first team meeting", 3, 5)]),
    ("Building the plan", ["Planning"],
     [("Needs behind the behaviour", 3, 6), ("Crisis and safety planning", 2, 4)]),
    ("The spirit of motivational interviewing", ["MI spirit"],
     [("Partnership and evocation", 2, 5)]),
    ("OARS in the team meeting", ["MI skills"],
     [("Open questions and reflections", 3, 8), ("Summaries that move the plan", 2, 4)]),
    ("Course wrap-up", [], [("Closing reflection", 1, 0)]),
]

#: The seeded learners: how far they got (share of units) and how they do per section (share of points).
PROFILES = {
    "learner_ana": (0.2, [0.75, 0.5]),
    "learner_ben": (0.65, [0.9, 0.85, 0.8, 0.7, 0.4]),
    "learner_cam": (1.0, [1.0, 0.9, 0.95, 0.85, 0.9, 1.0]),
    "learner_dee": (0.0, []),
}


def progress_for(user, course_key):
    reach, scores = PROFILES.get(user.username) or _profile(user.pk)
    total_units = sum(units for _title, _tags, subsections in OUTLINE for _s, units, _points in subsections)
    budget, sections = round(reach * total_units), []
    for index, (title, tags, subsections) in enumerate(OUTLINE):
        rows = []
        for position, (subtitle, units, points) in enumerate(subsections):
            done = min(units, budget)
            budget -= done
            share = scores[index] if index < len(scores) else 0.0
            rows.append({"id": f"block-v1:{str(course_key)[10:]}+type@sequential+block@s{index}{position}",
                         # like persisted grades: a subsection nobody attempted has no grade yet
                         "title": subtitle, "earned": float(round(points * share)) if done else 0.0,
                         "possible": float(points) if done else 0.0})
        sections.append({"id": f"block-v1:{str(course_key)[10:]}+type@chapter+block@c{index}", "title": title,
                         "tags": list(tags), "subsections": rows})
    complete = round(reach * total_units)
    return {"units": {"complete": complete, "incomplete": total_units - complete, "locked": 0}, "sections": sections}


def _profile(user_id):
    """Anyone else: a reach and scores spread by their id."""
    reach = (user_id * 37 % 100) / 100
    return reach, [0.5 + ((user_id + section) * 13 % 50) / 100 for section in range(len(OUTLINE))]
