"""JWT authentication: simplejwt's, remembering the access tokens it has already validated.

Every API request carries its token, and a client sends the same one for up to
``ACCESS_TOKEN_LIFETIME`` (15 minutes): decoding it and checking its signature and claims again
on each request cost about a tenth of a case read (issue 14, P3). A token validated once is kept
in this process's memory by its exact bytes, and used again while its ``exp`` lies ahead; any
other bytes (a token altered by one character, another signature) are validated afresh. What
revokes a token is unchanged: the account is still read on every request, so a deactivated
account or a changed password (``CHECK_REVOKE_TOKEN``) ends its tokens at once.
"""

from __future__ import annotations

import time
from typing import Final

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.tokens import Token

# Tokens remembered per process; beyond this the memory is emptied and refills (a few MB at most).
MAX_REMEMBERED: Final = 10_000
_validated: dict[bytes, Token] = {}


class JWTAuthentication(authentication.JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        token = _validated.get(raw_token)
        # Strictly before ``exp``: after it, simplejwt decides (with its leeway, if one is set).
        if token is not None and time.time() < token["exp"]:
            return token
        token = super().get_validated_token(raw_token)
        if len(_validated) >= MAX_REMEMBERED:
            _validated.clear()
        _validated[raw_token] = token
        return token


class RememberingJWTScheme(SimpleJWTScheme):
    """Its OpenAPI security scheme: simplejwt's own (``jwtAuth``, Bearer)."""

    target_class = "api.authentication.JWTAuthentication"
