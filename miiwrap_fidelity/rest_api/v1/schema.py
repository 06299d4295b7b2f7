"""
What the published OpenAPI schema says of each view: ids in paths are integers, the query
parameters each view reads, the request body its input serializer validates, paginated lists, and
every error answer (JSON objects). The fuzz tests hold the API to this schema.
"""
import uritemplate
from rest_framework.schemas.openapi import AutoSchema

from .pagination import KeysetPagination, Pagination
from .serializers import MAX_RATINGS, RatingsField

PAGE_PARAMETERS = {"page": "integer", "page_size": "integer"}
KEYSET_PARAMETERS = {"cursor": "string", "page_size": "integer"}
OBJECT = {"type": "object"}
ERRORS = {
    "400": "Invalid input: field messages.",
    "401": "Not signed in.",
    "403": "Not allowed (role, or a restricted application's token).",
    "404": "No such record, or not visible to the requester.",
}


IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "A key of the client's for this submission (a UUID): a repeat with the same key answers "
                   "with the first result and records nothing new; the same key with other content is refused (400).",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:+/=-]{8,100}$"},
}


class ApiSchema(AutoSchema):
    """
    ``requests``: ``{METHOD: input serializer class}``; ``query``: ``{name: type}`` of the query
    parameters (all optional); ``paginated``: GET answers a page (``"keyset"``: by cursor);
    ``conflicts``: the writes may answer 409 with the current revision; ``created``: the status of
    a successful POST; ``idempotent``: the writes take an ``Idempotency-Key`` header (a repeat with
    the same key answers with the first result).
    """

    def __init__(self, requests=None, query=None, paginated=False, conflicts=False, created="201",
                 idempotent=False, **kwargs):
        super().__init__(**kwargs)
        self.requests, self.query, self.paginated = requests or {}, dict(query or {}), paginated
        self.conflicts, self.created, self.idempotent = conflicts, created, idempotent

    def map_field(self, field):
        if isinstance(field, RatingsField):
            return {"type": "object", "maxProperties": MAX_RATINGS,
                    "additionalProperties": self.map_serializer(field.child)}
        return super().map_field(field)

    def get_path_parameters(self, path, method):
        return [{"name": name, "in": "path", "required": True, "description": "",
                 "schema": {"type": "string"} if name == "course_id" else {"type": "integer"}}
                for name in uritemplate.variables(path)]

    def get_filter_parameters(self, path, method):
        if method != "GET":
            return [IDEMPOTENCY_HEADER] if self.idempotent else []
        paging = KEYSET_PARAMETERS if self.paginated == "keyset" else PAGE_PARAMETERS if self.paginated else {}
        query = {**self.query, **paging}
        return [{"name": name, "in": "query", "required": False, "schema": {"type": kind}}
                for name, kind in query.items()]

    def get_pagination_parameters(self, path, method):
        return []  # in get_filter_parameters, with the view's own query

    def get_request_serializer(self, path, method):
        serializer_class = self.requests.get(method)
        return serializer_class() if serializer_class else None

    def get_response_serializer(self, path, method):
        return None  # answers are described in get_responses

    def get_responses(self, path, method):
        self.response_media_types = self.map_renderers(path, method)
        if method == "DELETE":
            success = {"204": {"description": "Done."}}
        else:
            schema = OBJECT
            if method == "GET" and self.paginated:
                paginator = KeysetPagination(None) if self.paginated == "keyset" else Pagination()
                schema = paginator.get_paginated_response_schema({"type": "array", "items": OBJECT})
            code = self.created if method == "POST" else "200"
            success = {code: {"description": "", "content": {"application/json": {"schema": schema}}}}
        errors = dict(ERRORS)
        if self.conflicts and method in ("POST", "PATCH", "PUT"):
            errors["409"] = "The record changed since it was read: reload it (current_revision)."
        return {**success, **{code: {"description": text, "content": {"application/json": {"schema": OBJECT}}}
                              for code, text in errors.items() if code not in success}}
