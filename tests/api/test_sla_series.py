"""``GET /api/v1/stats/sla/series/``: stages completed per day and stage, for supervisors, scoped to
what they oversee, with the limits of ``/stats/sla/``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import Role, User
from cases.models import TransferCase
from cases.services import case_transition
from tests.api.test_authorization import PERSONAS
from tests.cases.sla_oracle import old_sla_series
from workflow.calendar import SHANGHAI

URL = "/api/v1/stats/sla/series/"
RANGE = {"date_from": "2026-11-01", "date_to": "2026-11-30"}
APPROVE = {"contribution_months": 60, "personal_account_balance": "100.00"}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def completions(
    calendar_2026: None, submit_case: Callable[..., TransferCase], personas: dict[str, User]
) -> None:
    """Shenzhen: one stage on time on 11-24, one late on 11-25 (and a materials request, not a
    stage); Guangzhou: one stage on 11-24."""
    early = {
        "stopped_at_source_on": dt.date(2026, 9, 1),
        "enrolled_at_target_on": dt.date(2026, 9, 2),
    }
    sz = personas["cw_out"]
    gz = User.objects.create(username="gz_cw", role=Role.CASEWORKER, agency_id="440100")
    on_time = submit_case(actor=sz, now=at("2026-11-23 09:00"), **early)
    late = submit_case(actor=sz, now=at("2026-10-08 09:00"), **early)
    asked = submit_case(actor=sz, now=at("2026-11-23 09:00"), **early)
    other = submit_case(actor=gz, from_agency="440100", now=at("2026-11-23 09:00"), **early)
    for case, who, when in (
        (on_time, sz, "2026-11-24 10:00"),
        (late, sz, "2026-11-25 00:30"),
        (other, gz, "2026-11-24 11:00"),
    ):
        case_transition(
            case=case, action="approve_transfer_out", actor=who, payload=APPROVE, now=at(when)
        )
    case_transition(
        case=asked,
        action="request_materials",
        actor=sz,
        payload={"missing_materials": ["x"]},
        now=at("2026-11-24 12:00"),
    )


def test_a_supervisor_sees_the_days_of_their_agency(client_for, completions, personas):
    r = client_for("supervisor").get(URL, RANGE)
    assert r.status_code == 200, r.content
    assert r.json() == {
        "date_from": "2026-11-01",
        "date_to": "2026-11-30",
        "agency": None,
        "rows": [
            {
                "day": "2026-11-24",
                "stage": "applied",
                "completed": 1,
                "on_time": 1,
                "on_time_rate": 1.0,
            },
            {
                "day": "2026-11-25",
                "stage": "applied",
                "completed": 1,
                "on_time": 0,
                "on_time_rate": 0.0,
            },
        ],
    }


def test_a_province_supervisor_sees_their_agencies_summed(client_for, completions, personas):
    province = User.objects.create(
        username="gd_sup", role=Role.SUPERVISOR, agency_id="440000", province_wide=True
    )
    personas["gd_sup"] = province
    body = client_for("gd_sup").get(URL, RANGE).json()
    assert [(r["day"], r["completed"], r["on_time"]) for r in body["rows"]] == [
        ("2026-11-24", 2, 2),
        ("2026-11-25", 1, 0),
    ]
    expected = old_sla_series(
        user=province, date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30)
    )
    assert [r["completed"] for r in body["rows"]] == [r["completed"] for r in expected]
    # A day with nothing completed is not a row; a range with none is an empty list.
    empty = client_for("gd_sup").get(URL, {"date_from": "2026-11-26", "date_to": "2026-11-30"})
    assert empty.json()["rows"] == []


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_only_supervisors_see_the_series(client_for, completions, persona):
    r = client_for(persona).get(URL, RANGE)
    expected = {None: 401, "supervisor": 200}.get(persona, 403)
    assert r.status_code == expected
    if expected != 200:
        assert "rows" not in r.json()


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2026-12-01", "date_to": "2026-11-01"},
        {"date_from": "2025-01-01", "date_to": "2026-11-30"},
        {"date_to": "9999-12-31"},
        {"date_from": "not-a-date"},
    ],
)
def test_the_range_has_the_limits_of_the_statistics(
    client_for: Callable[..., Any], query: dict[str, str]
) -> None:
    r = client_for("supervisor").get(URL, query)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"
    assert client_for("supervisor").get("/api/v1/stats/sla/", query).status_code == 400


def test_the_default_range_is_the_last_30_days(client_for, completions):
    # API_NOW is 2026-11-30 10:00 Shanghai (tests/api/conftest.py).
    body = client_for("supervisor").get(URL).json()
    assert (body["date_from"], body["date_to"]) == ("2026-10-31", "2026-11-30")
    assert len(body["rows"]) == 2
