"""Bad input found in review: each of these answered 500 before."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.django_db


def _cursor(**fields: str) -> str:
    return base64.b64encode(urlencode(fields).encode()).decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/?cursor=" + _cursor(p="notadate"),
        "/api/v1/cases/?ordering=created_at&cursor=" + _cursor(p="zzz", r="1"),
        "/api/v1/notifications/?cursor=" + _cursor(p="zzz"),
        "/api/v1/agencies/?cursor=" + _cursor(p="\x00"),
    ],
)
def test_a_forged_cursor_is_an_invalid_cursor_not_a_server_error(
    client_for: Callable[..., Any], path: str
) -> None:
    response = client_for("cw_out").get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_a_forged_events_cursor_is_an_invalid_cursor(
    client_for: Callable[..., Any], case_in_state: Callable[..., Any]
) -> None:
    case = case_in_state("applied")
    response = client_for("cw_out").get(
        f"/api/v1/cases/{case.reference}/events/?cursor=" + _cursor(p="zzz")
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/cases/%00/"),
        ("get", "/api/v1/cases/YB%00/events/"),
        ("post", "/api/v1/cases/%00/transitions/withdraw/"),
        ("post", "/api/v1/cases/%00/assignment/"),
        ("get", "/api/v1/agencies/%00/"),
    ],
)
def test_a_nul_byte_in_a_path_reference_is_a_404(
    client_for: Callable[..., Any], method: str, path: str
) -> None:
    response = getattr(client_for("cw_out"), method)(path, {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("[]", "non_field_errors"),
        ('"x"', "non_field_errors"),
        ("1", "non_field_errors"),
        ('{"username": "\\ud800", "password": "x"}', "username"),
    ],
)
def test_a_sign_in_with_a_body_that_is_not_credentials_is_a_400(
    client_for: Callable[..., Any], body: str, field: str
) -> None:
    response = client_for(None).post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == [field]


def test_a_sign_in_with_numbers_for_credentials_is_a_sign_in(
    client_for: Callable[..., Any], agencies: dict[str, Any]
) -> None:
    """Numbers are read as the strings they spell (a username may be "5"): such a body is
    credentials: wrong ones are a 401 like any other failed sign-in, not a 400."""
    response = client_for(None).post(
        "/api/v1/auth/token/", '{"username": 5, "password": 1}', content_type="application/json"
    )
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "authentication_failed"
    assert "access" not in response.json()
    # ... and the right numbers sign in.
    from accounts.models import Role, User

    user = User(username="5", role=Role.CASEWORKER, agency_id="440300")
    user.set_password("1")
    user.save()
    response = client_for(None).post(
        "/api/v1/auth/token/", '{"username": 5, "password": 1}', content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}


@pytest.mark.parametrize(
    "query",
    ["date_from=9999-12-30&date_to=9999-12-31", "date_to=0001-01-01", "date_to=9999-12-31"],
)
def test_sla_stats_dates_at_the_end_of_the_calendar_are_a_400(
    client_for: Callable[..., Any], query: str
) -> None:
    response = client_for("supervisor").get("/api/v1/stats/sla/?" + query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_if_match_with_several_tags_matches_when_any_is_current(
    client_for: Callable[..., Any], case_in_state: Callable[..., Any]
) -> None:
    case = case_in_state("applied")
    url = f"/api/v1/cases/{case.reference}/transitions/request_materials/"
    client = client_for("cw_out")
    stale = client.post(
        url, {"missing_materials": ["x"]}, format="json", HTTP_IF_MATCH='W/"7", W/"8"'
    )
    assert stale.status_code == 412
    response = client.post(
        url,
        {"missing_materials": ["x"]},
        format="json",
        HTTP_IF_MATCH=f'W/"{case.version + 5}", W/"{case.version}"',
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "materials_requested"


def test_applicants_do_not_see_who_at_the_agency_holds_their_case(
    client_for, submit_case, personas
):
    from cases.services import case_assign

    case = submit_case()
    case_assign(case=case, assignee=personas["cw_out"], actor=personas["cw_out"])
    url = f"/api/v1/cases/{case.reference}/events/"
    applicant_view = [e["action"] for e in client_for("applicant").get(url).json()["results"]]
    staff_view = [e["action"] for e in client_for("cw_out").get(url).json()["results"]]
    assert applicant_view == ["submit"]
    assert staff_view == ["submit", "assign"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_due_before_at_the_ends_of_the_calendar_is_a_field_error(client_for, submit_case, day):
    submit_case()
    r = client_for("cw_out").get(f"/api/v1/cases/?due_before={day}")
    assert r.status_code == 400, r.content
    assert "due_before" in r.json()["errors"]


def test_an_sla_range_with_one_end_is_held_to_the_limit(client_for):
    """Only ``date_from``: the range runs to today, and may not span more than 366 days."""
    from cases.inputs import MSG_RANGE_TOO_LONG

    client = client_for("supervisor")
    r = client.get("/api/v1/stats/sla/", {"date_from": "1900-01-01"})
    assert r.status_code == 400
    assert r.json()["errors"] == {"date_to": [str(MSG_RANGE_TOO_LONG)]}
    ok = client.get("/api/v1/stats/sla/", {"date_from": "2026-06-01"})
    assert ok.status_code == 200
    assert ok.json()["date_from"] == "2026-06-01"
