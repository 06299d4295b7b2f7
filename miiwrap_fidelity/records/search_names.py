"""
The learner list's search keys kept current (``LearnerStatus.username_key`` and ``name_key``): the
platform has no event for a changed profile name, so a daily pass reads every status row by id,
``PAGE`` rows and one name query at a time (memory flat in the number of rows), and writes only
the keys that changed.
"""
from ..rules import search_keys
from ..seams.platform import get_platform
from .models import LearnerStatus

PAGE = 1000


def refresh(page=PAGE):
    """Fold every status row's username and current full name into its keys; returns the rows changed."""
    changed_count, last_id = 0, 0
    while True:
        rows = list(LearnerStatus.objects.filter(pk__gt=last_id).order_by("pk").values_list(
            "pk", "learner_id", "learner_username", "username_key", "name_key")[:page])
        if not rows:
            return changed_count
        last_id = rows[-1][0]
        names = get_platform().full_names(sorted({learner_id for _pk, learner_id, *_keys in rows}))
        changed = []
        for pk, learner_id, username, username_key, name_key in rows:
            keys = search_keys.fold(username), search_keys.fold(names.get(learner_id))
            if keys != (username_key, name_key):
                changed.append(LearnerStatus(pk=pk, username_key=keys[0], name_key=keys[1]))
        if changed:
            LearnerStatus.objects.bulk_update(changed, ["username_key", "name_key"], batch_size=page)
        changed_count += len(changed)
