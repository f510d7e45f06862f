"""Signing in: JWT pairs, with django-axes' lock-out answered as problem details."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from api.schema import (
    P400,
    P401,
    P415,
    P429,
    doc,
)
from core.problems import PROBLEM_CONTENT_TYPE, locked_out_body
from core.throttling import LoginThrottle


class TokenView(TokenObtainPairView):
    """Sign in with username and password; get an access and a refresh token.

    Five failures for one username from one address lock that pair out for 15 minutes (429
    ``login_locked_out``); the endpoint is also throttled per address.
    """

    throttle_classes = [LoginThrottle]

    @extend_schema(
        tags=["auth"],
        responses=doc(
            {
                200: inline_serializer(
                    "TokenPair",
                    {"access": serializers.CharField(), "refresh": serializers.CharField()},
                ),
                400: P400,
                401: P401,
                415: P415,
                429: P429,
            }
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = _login_username(request.data)
        if username is not None and AxesProxyHandler.is_locked(
            request._request, get_credentials(username=username)
        ):
            return _locked_out()
        return super().post(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if response.status_code == 401:
            username = _login_username(self.request.data)
            if username is not None and AxesProxyHandler.is_locked(
                self.request._request, get_credentials(username=username)
            ):
                return _locked_out()
        return response


def _login_username(data: Any) -> str | None:
    """The username a sign-in names, or None when the body has none the database could hold (not
    an object, not a string, a NUL or a lone surrogate): the serializer then answers 400."""
    if not isinstance(data, dict):
        return None
    username = data.get("username", "")
    if isinstance(username, bool | dict | list) or username is None:
        return None
    username = str(username)  # a number is a username too, as the serializer reads it
    if "\x00" in username:
        return None
    try:
        username.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return username[:150]


def _locked_out() -> Response:
    return Response(locked_out_body(), status=429, content_type=PROBLEM_CONTENT_TYPE)


class RefreshView(TokenRefreshView):
    """Exchange a refresh token for a new access token."""

    throttle_classes = [LoginThrottle]

    @extend_schema(
        tags=["auth"], responses=doc({200: OpenApiTypes.OBJECT, 400: P400, 401: P401, 429: P429})
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)
