"""
An index named for the few statements whose plan must not rest on the optimizer's estimates (ADR 0011).

MariaDB read an export chunk (``course = X AND status = Y AND id > last ORDER BY id LIMIT n``) as a
``ref`` on the index's first columns: from the course's first entry, filtering ``id > last`` on the
way, so each chunk cost more than the one before (a 1,000,000-row export was quadratic); on a small
course it took the primary key instead, reading every course's rows after ``last``. Named, the
index is read as a range that starts at ``last``. Django has no index hints: the base table of the
query is swapped for one that prints ``FORCE INDEX`` after its name. SQLite plans these statements
as a range already, and its queries are left as they are.
"""
from django.db import connections
from django.db.models.sql.datastructures import BaseTable


class _TableWithIndex(BaseTable):
    """The query's base table, read through ``index`` (MySQL/MariaDB)."""

    def __init__(self, table_name, alias, index):
        super().__init__(table_name, alias)
        self.index = index

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        return f"{sql} FORCE INDEX ({connection.ops.quote_name(self.index)})", params

    def relabeled_clone(self, change_map):
        return self.__class__(self.table_name, change_map.get(self.table_alias, self.table_alias), self.index)

    @property
    def identity(self):
        return (*super().identity, self.index)


def force_index(queryset, index):
    """
    ``queryset`` reading its model's table through ``index`` on MySQL/MariaDB (elsewhere: as it is).
    For reads: ``update()``, ``delete()`` and ``other | queryset`` drop the hint, and the database
    is decided here (a later ``using()`` to another vendor would keep a hint it cannot read).
    """
    if connections[queryset.db].vendor != "mysql":
        return queryset
    hinted = queryset.all()
    query = hinted.query
    alias = query.get_initial_alias()
    query.alias_map[alias] = _TableWithIndex(query.alias_map[alias].table_name, alias, index)
    return hinted
