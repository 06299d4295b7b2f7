"""
A long list (a course's assignments or start dates, a learner's history) as Django's and DRF's
paginators take it: ``count()`` (one query) and slices that load only the slice, read in an order
an index serves. At 100,000 learners the staff pages and REST lists used to build every row of the
course first.
"""

#: Rows per page of the staff pages' lists (the REST API takes ``page_size``).
STAFF_PAGE_SIZE = 50


class PagedRows:
    """``queryset``'s rows made values by ``render``, loaded a slice at a time."""

    def __init__(self, queryset, render):
        self.queryset, self.render = queryset, render
        self._count = None

    def count(self):
        if self._count is None:
            self._count = self.queryset.count()
        return self._count

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError(f"{type(self).__name__} supports slices only.")
        return [self.render(row) for row in self.slice_rows(index)]

    def slice_rows(self, index):
        """The rows of one slice (subclasses load what ``render`` reads with them)."""
        return self.queryset[index]

    def __iter__(self):  # every row (short lists, tests): one slice
        return iter(self[:])
