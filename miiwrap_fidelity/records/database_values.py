"""
Values read with plain SQL (``gate_query``, ``roster``) arrive as the database stores them; these
turn them into what the ORM would have given.
"""
import json
from datetime import timezone as dt_timezone

from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


def aware_datetime(value):
    """Datetimes are stored as naive UTC (SQLite: as text); make them aware."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt_timezone.utc)
    return value


def date_value(value):
    return parse_date(value) if isinstance(value, str) else value


def json_value(value, default):
    """JSON columns come back as text on SQLite and MySQL/MariaDB (``json_text`` reads them so);
    empty lists and objects (most rows) are answered without the parser."""
    if isinstance(value, (str, bytes)):
        value = None if value in ("[]", "{}", b"[]", b"{}") else json.loads(value)
    return default if value is None else value


def json_text(column):
    """A JSON column read as its stored text (``json_value`` decodes it): no JSON decoding per row by the ORM."""
    return Cast(column, output_field=TextField())


def datetime_param(value):
    """A datetime as a SQL parameter, in the stored form (naive UTC on SQLite and MySQL)."""
    return connection.ops.adapt_datetimefield_value(value)


def quote(name):
    return connection.ops.quote_name(name)


#: The lengths an ``IN (...)`` list of ids is padded to (beyond the last: its multiples).
IN_LIST_SIZES = (1, 8, 64, 512)


def padded_ids(ids):
    """
    ``ids`` (positive keys) padded with negative ids, which no row has, to one of a few fixed
    lengths: a query over a batch then has one of a few statement shapes whatever the batch's size,
    so SQLite's (and the driver's) statement cache does not grow with every new length.
    """
    ids = list(ids)
    largest = IN_LIST_SIZES[-1]
    size = next((s for s in IN_LIST_SIZES if s >= len(ids)), -(-len(ids) // largest) * largest)
    return ids + list(range(-1, len(ids) - size - 1, -1))
