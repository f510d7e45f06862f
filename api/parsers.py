"""JSON in, with a size limit DRF does not enforce by itself (it streams the body past Django's
``DATA_UPLOAD_MAX_MEMORY_SIZE`` check) and a nesting limit (a body of a few KB nested a thousand deep
would exhaust Python's recursion in the decoder or anything that walks it later)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from api.exceptions import RequestTooLarge

# No request of ours nests deeper than 3 (a submission's applicant object inside the body); the
# limit leaves room for clients that wrap, and stays far from the recursion limit.
MAX_JSON_DEPTH = 20
MSG_NOT_JSON = gettext_lazy("The body is not valid JSON (UTF-8).")
MSG_TOO_DEEP = gettext_lazy("The body nests objects or arrays more than {limit} deep.")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _depth_exceeds(raw: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit``: one pass, no recursion, before
    the decoder (which recurses) sees the text."""
    depth = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class LimitedJSONParser(JSONParser):
    """Strict JSON (no NaN/Infinity), UTF-8, at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(limit)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError(MSG_NOT_JSON) from None
        if _depth_exceeds(text, MAX_JSON_DEPTH):
            raise ParseError(str(MSG_TOO_DEEP).format(limit=MAX_JSON_DEPTH))
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise ParseError(MSG_NOT_JSON) from None
