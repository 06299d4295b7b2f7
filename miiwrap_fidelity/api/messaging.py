"""A person's choice about our non-essential messages (``notifications``)."""
from ..models import MessagePreference


def receives_non_essential(user):
    """Whether ``user`` gets the non-essential messages (everyone does until they opt out)."""
    return not MessagePreference.objects.filter(user_id=user.pk, non_essential=False).exists()


def set_non_essential(user, receive):
    """Opt in or out of the non-essential messages; only the person themselves (the view checks login)."""
    MessagePreference.objects.update_or_create(user_id=user.pk, defaults={"non_essential": bool(receive)})
