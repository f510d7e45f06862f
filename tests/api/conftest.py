"""API fixtures: a client per persona (JWT or forced), fresh throttle counters per test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from api import serializers as api_serializers
from workflow.calendar import SHANGHAI

# After every instant the shared fixtures use (submit 2026-11-23, moves from 2026-11-24), so a
# move through the API never closes a clock before it started.
API_NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    cache.clear()


@pytest.fixture(autouse=True)
def _rendered_as_drf_renders(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every document any API test has rendered is rendered by DRF's own ``to_representation``
    too, and the two must be equal (api.rendering plans the fields once: it must change nothing)."""
    planned = api_serializers._plan
    json_renderer = JSONRenderer()
    compared: list[str] = []

    def checking(serializer_class: type) -> Callable[[Any], Any]:
        represent = planned(serializer_class)
        drf = serializer_class()

        def both(instance: Any) -> Any:
            ours = represent(instance)
            # As sent: the same bytes, so key order and 1 / True / "1" are told apart too.
            assert json_renderer.render(ours) == json_renderer.render(
                drf.to_representation(instance)
            ), serializer_class.__name__
            compared.append(serializer_class.__name__)
            return ours

        return both

    monkeypatch.setattr(api_serializers, "_plan", checking)
    return compared


@pytest.fixture(autouse=True)
def _api_now() -> Any:
    with time_machine.travel(API_NOW, tick=True):
        yield


def bearer(user: User) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def client_for(personas: dict[str, User]) -> Callable[[str | None], APIClient]:
    """``client_for("cw_out")``: an API client signed in with that persona's JWT;
    ``client_for(None)``: anonymous."""

    def make(name: str | None, **headers: Any) -> APIClient:
        client = APIClient()
        if name is not None:
            client.credentials(HTTP_AUTHORIZATION=bearer(personas[name]), **headers)
        elif headers:
            client.credentials(**headers)
        return client

    return make


def submit_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "insurance_type": "employee",
        "from_agency": "440300",
        "to_agency": "430100",
        "channel": "app",
        "stopped_at_source_on": "2026-10-31",
        "enrolled_at_target_on": "2026-11-01",
        "note": "",
    }
    body.update(overrides)
    return body
