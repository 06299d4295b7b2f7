"""JSON bodies through the shared input layer: the same size and nesting caps as block handlers."""
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from miiwrap_fidelity import api


class CappedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies over ``MAX_JSON_BYTES`` or nested deeper than ``MAX_JSON_DEPTH``."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(api.MAX_JSON_BYTES + 1) if stream is not None else b""
        try:
            return api.parse_json(body)
        except DjangoValidationError as exc:
            raise ParseError(" ".join(exc.messages)) from exc
