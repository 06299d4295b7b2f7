"""Locking one row for the rest of a transaction, creating it first when it is missing."""


def locked_or_created(model, defaults=None, **lookup):
    """
    The ``model`` row matching ``lookup`` (a unique key), locked for this transaction: one statement
    when it exists; a missing one is created first (``get_or_create`` races others safely), then locked.
    """
    rows = model.objects.select_for_update().filter(**lookup)
    row = rows.first()
    if row is None:
        model.objects.get_or_create(defaults=defaults or {}, **lookup)
        row = rows.get()
    return row
