"""R6: personas x every endpoint and action. Only the allowed combinations succeed; a case a
persona may not see is a 404 that says nothing about it; refused moves change nothing.

The case: the applicant persona's, Shenzhen (440300) -> Changsha (430100). The platform account
is Guangdong's province-wide one (it sees Shenzhen's cases, and as a service account may only
credit balances); the supervisor is Shenzhen's.
"""

from __future__ import annotations

from typing import Any

import pytest

from cases.models import CaseEvent, TransferCase
from tests.api.conftest import submit_body
from tests.api.test_cases import window_body

pytestmark = pytest.mark.django_db

PERSONAS = ["applicant", "other_applicant", "cw_out", "cw_in", "cw_other", "supervisor", "platform"]
SEES = {"applicant", "cw_out", "cw_in", "supervisor", "platform"}

BODIES: dict[str, dict[str, Any]] = {
    "approve_transfer_out": {"contribution_months": 60, "personal_account_balance": "1234.56"},
    "request_materials": {"missing_materials": ["离职证明"]},
    "resubmit_materials": {},
    "confirm_transfer_in": {},
    "move_balance": {"amount": "1234.56"},
    "reject": {"reason_code": "arrears"},
    "withdraw": {},
}
AGENCY_OUT = {"approve_transfer_out": 200, "request_materials": 200, "reject": 200}

# Expected status of every action on a case in ``applied`` for every persona that sees it:
# 200 allowed now; 403 this persona may never take it; 409 not in this state.
APPLIED = {
    "applicant": {
        "approve_transfer_out": 403,
        "request_materials": 403,
        "resubmit_materials": 409,
        "confirm_transfer_in": 403,
        "move_balance": 403,
        "reject": 403,
        "withdraw": 200,
    },
    "cw_out": {
        **AGENCY_OUT,
        "resubmit_materials": 409,
        "confirm_transfer_in": 403,
        "move_balance": 403,
        "withdraw": 403,
    },
    "cw_in": {
        "approve_transfer_out": 403,
        "request_materials": 403,
        "resubmit_materials": 409,
        "confirm_transfer_in": 409,
        "move_balance": 409,
        # The transfer-in agency rejects once the case is approved out: not now, but not never.
        "reject": 409,
        "withdraw": 403,
    },
}
APPLIED["supervisor"] = APPLIED["cw_out"]
# Guangdong's platform account sees Shenzhen's cases but a service account only credits
# balances (and this balance is Changsha's): every move is one it may never take.
APPLIED["platform"] = dict.fromkeys(BODIES, 403)

# The same in ``transfer_out_approved``: the transfer-in side's move.
APPROVED = {
    "applicant": {**APPLIED["applicant"], "withdraw": 409},
    "cw_out": {
        "approve_transfer_out": 409,
        "request_materials": 409,
        "resubmit_materials": 409,
        "confirm_transfer_in": 403,
        "move_balance": 403,
        # The transfer-out agency rejects while the case is applied: no longer, but not never.
        "reject": 409,
        "withdraw": 403,
    },
    "cw_in": {
        **APPLIED["cw_in"],
        "confirm_transfer_in": 200,
        "reject": 200,
    },
}
APPROVED["supervisor"] = APPROVED["cw_out"]
APPROVED["platform"] = dict.fromkeys(BODIES, 403)


def snapshot(case: TransferCase) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (case.state, case.version, CaseEvent.objects.filter(case=case).count())


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_reading_a_case(client_for, case_in_state, persona):
    case = case_in_state("transfer_out_approved")
    client = client_for(persona)
    urls = [f"/api/v1/cases/{case.reference}/", f"/api/v1/cases/{case.reference}/events/"]
    for url in urls:
        r = client.get(url)
        if persona is None:
            assert r.status_code == 401
            assert r.json()["code"] == "not_authenticated"
        elif persona in SEES:
            assert r.status_code == 200
        else:
            assert r.status_code == 404
            assert r.json()["code"] == "not_found"
        if r.status_code != 200:
            text = r.content.decode()
            assert case.applicant_name not in text
            assert case.id_number_masked not in text
            assert "深圳" not in text

    listed = client.get("/api/v1/cases/")
    if persona is None:
        assert listed.status_code == 401
    else:
        refs = [c["reference"] for c in listed.json()["results"]]
        assert refs == ([case.reference] if persona in SEES else [])


@pytest.mark.parametrize(
    ("state", "table"), [("applied", APPLIED), ("transfer_out_approved", APPROVED)]
)
@pytest.mark.parametrize("action", list(BODIES))
@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_every_action(client_for, case_in_state, persona, action, state, table):
    case = case_in_state(state)
    before = snapshot(case)
    r = client_for(persona).post(
        f"/api/v1/cases/{case.reference}/transitions/{action}/", BODIES[action], format="json"
    )
    if persona is None:
        expected = 401
    elif persona not in SEES:
        expected = 404
    else:
        expected = table[persona][action]
    assert r.status_code == expected, (persona, action, r.json())
    if expected != 200:
        assert r["Content-Type"] == "application/problem+json"
        assert (
            r.json()["code"]
            == {
                401: "not_authenticated",
                403: "action_forbidden",
                404: "not_found",
                409: "transition_not_allowed",
            }[expected]
        )
        assert snapshot(case) == before
    else:
        assert snapshot(case)[1] == before[1] + 1


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_assignment(client_for, submit_case, personas, persona):
    """Taking a case (no body): the transfer-out caseworker and supervisor may; everyone else is
    refused as for any other action, and the case stays unassigned."""
    case = submit_case()
    r = client_for(persona).post(f"/api/v1/cases/{case.reference}/assignment/", {}, format="json")
    expected = {
        None: 401,
        "applicant": 403,
        "other_applicant": 404,
        "cw_out": 200,
        "cw_in": 403,
        "cw_other": 404,
        "supervisor": 200,
        "platform": 403,
    }[persona]
    assert r.status_code == expected, r.content
    case.refresh_from_db()
    events = list(
        CaseEvent.objects.filter(case=case, action="assign").values_list(
            "actor_id", "actor_role", "data"
        )
    )
    if expected == 200:
        user = personas[persona]
        assert (r.json()["assignee"], r.json()["version"]) == (user.username, 2)
        assert (case.assignee_id, case.version) == (user.pk, 2)
        role = {"cw_out": "caseworker", "supervisor": "supervisor"}[persona]
        assert events == [(user.pk, role, {"assignee": user.pk, "previous": None})]
    else:
        code = {401: "not_authenticated", 403: "action_forbidden", 404: "not_found"}[expected]
        assert (r["Content-Type"], r.json()["code"]) == ("application/problem+json", code)
        assert (case.assignee_id, case.version, events) == (None, 1, [])


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_submitting(client_for, persona):
    body = submit_body() if persona in ("applicant", "other_applicant") else window_body()
    r = client_for(persona).post("/api/v1/cases/", body, format="json")
    expected = {None: 401, "cw_in": 201, "cw_other": 400}.get(persona, 201)
    assert r.status_code == expected, (persona, r.content)
    if persona == "cw_other":
        assert "from_agency" in r.json()["errors"]


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_sla_stats_only_for_supervisors(client_for, persona):
    r = client_for(persona).get("/api/v1/stats/sla/")
    expected = {None: 401, "supervisor": 200}.get(persona, 403)
    assert r.status_code == expected


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_public_endpoints(client_for, persona):
    client = client_for(persona)
    assert client.get("/api/v1/agencies/").status_code == 200
    assert client.get("/api/v1/agencies/440300/").status_code == 200
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.parametrize(
    ("state", "table"), [("applied", APPLIED), ("transfer_out_approved", APPROVED)]
)
def test_next_actions_are_the_allowed_ones(client_for, case_in_state, state, table):
    case = case_in_state(state)
    for persona in SEES:
        doc = client_for(persona).get(f"/api/v1/cases/{case.reference}/").json()
        allowed = sorted(a for a, code in table[persona].items() if code == 200)
        assert sorted(doc["next_actions"]) == allowed, persona
