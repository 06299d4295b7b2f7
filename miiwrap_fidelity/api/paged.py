"""
A long list (a course's assignments or start dates, a learner's history) as Django's and DRF's
paginators take it: ``count()`` (one query) and slices that load only the slice, read in an order
an index serves. At 100,000 learners the staff pages and REST lists used to build every row of the
course first.
"""
from collections.abc import Callable, Iterator
from typing import Any

#: Rows per page of the staff pages' lists (the REST API takes ``page_size``).
STAFF_PAGE_SIZE = 50


class PagedRows:
    """``queryset``'s rows made values by ``render``, loaded a slice at a time."""

    def __init__(self, queryset: Any, render: Callable[[Any], Any]) -> None:
        """
        Args:
            queryset: the rows, in the order the list shows them (a Django queryset).
            render: turns one row into the value the list hands out.
        """
        self.queryset, self.render = queryset, render
        self._count: int | None = None
        self._first: tuple[int, list] | None = None  # (size, rows) once ``load_first`` read them

    def load_first(self, size: int) -> None:
        """
        Read the first ``size`` rows now: a list shorter than that is whole, so its count needs no
        statement (a first page, the one most pages show, then costs one read less).

        Args:
            size: the rows of a first page.
        """
        rows = self[0:size]
        self._first = (size, rows)
        if len(rows) < size and self._count is None:
            self._count = len(rows)

    def count(self) -> int:
        """
        Returns:
            How many rows the list has (one statement, once).
        """
        if self._count is None:
            self._count = self.queryset.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        if not isinstance(index, slice):
            raise TypeError(f"{type(self).__name__} supports slices only.")
        if self._first and index.step is None and not index.start and index.stop is not None \
                and index.stop <= self._first[0]:
            return self._first[1][:index.stop]
        return [self.render(row) for row in self.slice_rows(index)]

    def slice_rows(self, index: slice) -> Any:
        """The rows of one slice (subclasses load what ``render`` reads with them)."""
        return self.queryset[index]

    def __iter__(self) -> Iterator:  # every row (short lists, tests): one slice
        return iter(self[:])
