"""Every list is paginated: by page number, or (the course's learner list) by keyset cursor."""
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class KeysetPagination(Pagination):
    """
    The learner list, a page after a cursor (no deep OFFSET: every page costs what the first does).
    The answer keeps the page-number shape: ``count`` (exact up to ``api.COUNT_LIMIT``; beyond,
    that figure and ``count_exact`` false), ``next`` and ``previous`` (links carrying ``cursor``),
    ``results``; ``last`` links the last page. ``page`` numbers are refused past 1: follow ``next``.
    """

    def __init__(self, last_cursor):
        self.last_cursor = last_cursor

    def paginate_listing(self, listing, request):
        """The page of ``listing`` (an ``api.learner_statuses`` list) that the request asks for."""
        if request.query_params.get("page", "1") not in ("", "1"):
            raise ValidationError({"page": [_("This list is paged by cursor: follow the next link.")]})
        self.request, self.listing = request, listing
        self.page = listing.page(self.get_page_size(request), request.query_params.get("cursor") or None)
        return self.page.rows

    def _link(self, cursor):
        url = remove_query_param(self.request.build_absolute_uri(), "page")
        return replace_query_param(url, "cursor", cursor) if cursor else remove_query_param(url, "cursor")

    def get_paginated_response(self, data):
        summary = self.listing.summary
        return Response({
            "count": summary["count"], "count_exact": summary["count_exact"],
            "next": self._link(self.page.next_cursor) if self.page.next_cursor else None,
            "previous": self._link(self.page.previous_cursor) if self.page.previous_cursor else None,
            "last": None if self.page.is_last else self._link(self.last_cursor),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count_exact"] = {"type": "boolean"}
        described["properties"]["last"] = {"type": "string", "nullable": True, "format": "uri"}
        return described
