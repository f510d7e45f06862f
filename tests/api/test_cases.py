"""The case endpoints: submit, the case document, ETag/If-Match, idempotency, bad input, events,
transitions and assignment, problem details and languages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import CaseEvent, IdempotencyRecord, TransferCase
from cases.services.assignment import MSG_ASSIGNEE_NOT_ELIGIBLE
from tests.api.conftest import submit_body
from tests.conftest import make_id_number
from workflow.calendar import SHANGHAI
from workflow.models import StageClock

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def counts() -> tuple[int, int, int, int]:
    return (
        TransferCase.objects.count(),
        CaseEvent.objects.count(),
        StageClock.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def window_body(**overrides: Any) -> dict[str, Any]:
    applicant = {"name": "王五", "id_number": make_id_number("440306", "19850101"), "phone": ""}
    applicant.update(overrides.pop("applicant", {}))
    return submit_body(**{"channel": "window", "applicant": applicant, **overrides})


# --- the case document ----------------------------------------------------------------------------


@time_machine.travel(dt.datetime(2026, 11, 23, 9, 12, tzinfo=SHANGHAI), tick=False)
def test_submitted_case_is_the_documented_document(client_for, personas, calendar_2026):
    client = client_for("applicant")
    with CaptureQueriesContext(connection) as queries:
        r = client.post("/api/v1/cases/", submit_body(), format="json")
    assert r.status_code == 201, r.content
    # The document is built from the clock the submission opened: no clock is read back.
    assert [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and "stageclock" in q["sql"]
    ] == []
    doc = r.json()
    assert r["Location"] == f"/api/v1/cases/{doc['reference']}/"
    assert r["ETag"] == 'W/"1"'
    assert doc["state"] == "applied"
    assert doc["state_label"] == "已申请（转出地审核中）"
    assert doc["scope"] == "inter_province"
    assert doc["from_agency"] == {"code": "440300", "name": "深圳市医疗保障局"}
    assert doc["to_agency"] == {"code": "430100", "name": "长沙市医疗保障局"}
    assert doc["applicant"] == {
        "name": "张*",
        "id_number": personas["applicant"].id_number_masked,
        "phone": "138****5678",
    }
    assert doc["stage"] == {
        "name": "applied",
        "label": "转出地审核",
        "responsible": "from_agency",
        "started_at": "2026-11-23T09:12:00+08:00",
        "due_at": "2026-12-07T23:59:59+08:00",
        "working_days_allowed": 10,
        "working_days_left": 10,
        "overdue": False,
        "overdue_since": None,
        "provisional": False,
    }
    # 12-07 + 5 working days (transfer in) + 5 (balance) = 12-21, as api.md shows.
    assert doc["expected_completion_on"] == "2026-12-21"
    assert doc["continuity"]["gap_months"] == 0
    assert doc["continuity"]["advice"] == "参保连续：没有需要补缴的中断期。"
    assert doc["next_actions"] == ["withdraw"]
    assert doc["personal_account_balance"] is None
    assert doc["created_at"] == "2026-11-23T09:12:00+08:00"
    assert client.get(f"/api/v1/cases/{doc['reference']}/").json() == doc


def test_overdue_stage_shows_negative_days_and_since(client_for, submit_case, calendar_2026):
    case = submit_case()  # due 2026-12-07
    with time_machine.travel(dt.datetime(2026, 12, 9, 10, 0, tzinfo=SHANGHAI), tick=False):
        doc = client_for("cw_out").get(f"/api/v1/cases/{case.reference}/").json()
    assert doc["stage"]["overdue"] is True
    assert doc["stage"]["working_days_left"] == -2
    assert doc["stage"]["overdue_since"] == "2026-12-07T23:59:59+08:00"
    assert sorted(doc["next_actions"]) == ["approve_transfer_out", "reject", "request_materials"]


def test_english_by_accept_language(client_for, submit_case):
    case = submit_case()
    doc = client_for("applicant", HTTP_ACCEPT_LANGUAGE="en").get(f"/api/v1/cases/{case.reference}/")
    assert doc.json()["state_label"] == "Applied (transfer-out review)"
    missing = client_for("applicant", HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/cases/YB0/")
    assert missing.json()["title"] == "Not found"
    assert client_for("applicant").get("/api/v1/cases/YB0/").json()["title"] == "未找到"


# --- ETag and If-Match ----------------------------------------------------------------------------


def test_stale_if_match_is_412_and_changes_nothing(client_for, submit_case):
    case = submit_case()
    client = client_for("cw_out")
    url = f"/api/v1/cases/{case.reference}/transitions/request_materials/"
    before = counts()
    r = client.post(url, {"missing_materials": ["离职证明"]}, format="json", HTTP_IF_MATCH='W/"7"')
    assert r.status_code == 412
    assert r["Content-Type"] == PROBLEM
    assert r.json()["code"] == "stale_case"
    assert counts() == before

    r = client.post(url, {"missing_materials": ["离职证明"]}, format="json", HTTP_IF_MATCH='W/"1"')
    assert r.status_code == 200, r.content
    assert r["ETag"] == 'W/"2"'
    assert r.json()["state"] == "materials_requested"
    assert r.json()["missing_materials"] == ["离职证明"]


def test_unparseable_if_match_never_matches(client_for, submit_case):
    case = submit_case()
    r = client_for("applicant").post(
        f"/api/v1/cases/{case.reference}/transitions/withdraw/",
        {},
        format="json",
        HTTP_IF_MATCH="xyz",
    )
    assert r.status_code == 412


# --- transitions ----------------------------------------------------------------------------------


def test_transition_not_allowed_names_state_and_allowed_actions(client_for, case_in_state):
    case = case_in_state("withdrawn")
    r = client_for("applicant").post(
        f"/api/v1/cases/{case.reference}/transitions/withdraw/", {}, format="json"
    )
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "transition_not_allowed"
    assert body["state"] == "withdrawn"
    assert body["state_label"] == "已撤回"
    assert body["allowed_actions"] == []
    assert "已撤回" in body["detail"]


def test_unknown_action_is_404_with_its_code(client_for, submit_case):
    case = submit_case()
    r = client_for("cw_out").post(f"/api/v1/cases/{case.reference}/transitions/explode/", {})
    assert r.status_code == 404
    assert r.json()["code"] == "unknown_action"


def test_full_path_through_the_api(client_for, submit_case):
    case = submit_case()
    url = f"/api/v1/cases/{case.reference}/transitions/"
    out, into = client_for("cw_out"), client_for("cw_in")
    r = out.post(
        url + "approve_transfer_out/",
        {"contribution_months": 60, "personal_account_balance": "1234.56"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["personal_account_balance"] == "1234.56"
    assert into.post(url + "confirm_transfer_in/", {}, format="json").status_code == 200
    r = into.post(url + "move_balance/", {"amount": "1234.56"}, format="json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["state"] == "balance_moved"
    assert doc["stage"] is None
    assert doc["next_actions"] == []
    events = client_for("applicant").get(f"/api/v1/cases/{case.reference}/events/").json()
    assert [e["action"] for e in events["results"]] == [
        "submit",
        "approve_transfer_out",
        "confirm_transfer_in",
        "move_balance",
    ]
    assert events["results"][0]["action_label"] == "提交申请"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1.00", "金额不能为负数。"),
        ("1.234", "金额最多两位小数（分）。"),
        ("NaN", "请输入以元为单位的金额，例如 1234.56。"),
        ("99999999999999", "金额过大。"),
        ("abc", "请输入以元为单位的金额，例如 1234.56。"),
    ],
)
def test_bad_amounts_are_400_with_field_errors(client_for, submit_case, amount, message):
    case = submit_case()
    before = counts()
    r = client_for("cw_out").post(
        f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/",
        {"contribution_months": 60, "personal_account_balance": amount},
        format="json",
    )
    assert r.status_code == 400
    assert r.json()["errors"] == {"personal_account_balance": [message]}
    assert counts() == before


def test_json_nan_and_infinity_are_malformed(client_for, submit_case):
    case = submit_case()
    r = client_for("cw_out").post(
        f"/api/v1/cases/{case.reference}/transitions/approve_transfer_out/",
        data='{"contribution_months": 60, "personal_account_balance": NaN}',
        content_type="application/json",
    )
    assert r.status_code == 400
    assert r.json()["code"] == "malformed_request"


def test_assignment_take_and_assign(client_for, submit_case, personas):
    cw_out, supervisor = personas["cw_out"], personas["supervisor"]
    case = submit_case()
    url = f"/api/v1/cases/{case.reference}/assignment/"

    def held() -> tuple[int | None, int]:
        case.refresh_from_db()
        return case.assignee_id, case.version

    def assignments() -> list[tuple[Any, ...]]:
        return list(
            CaseEvent.objects.filter(case=case, action="assign")
            .order_by("id")
            .values_list("actor_id", "actor_role", "from_state", "to_state", "data")
        )

    def answered(r: Any, assignee: str | None, version: int) -> None:
        assert r.status_code == 200, r.content
        doc = r.json()
        assert (doc["assignee"], doc["version"], r["ETag"]) == (assignee, version, f'W/"{version}"')

    # A caseworker takes it (no body: themselves).
    answered(client_for("cw_out").post(url, {}, format="json"), "sz_cw", 2)
    assert held() == (cw_out.pk, 2)
    assert assignments() == [
        (cw_out.pk, "caseworker", "applied", "applied", {"assignee": cw_out.pk, "previous": None})
    ]

    # Refused: the transfer-in caseworker (not their move), a user that does not exist. Neither
    # changes the holder, the version or the timeline.
    r = client_for("cw_in").post(url, {}, format="json")
    assert (r.status_code, r.json()["code"]) == (403, "action_forbidden")
    assert held() == (cw_out.pk, 2)
    # A username nobody has and one of another agency get the same answer (no account oracle).
    not_eligible = {"assignee": [str(MSG_ASSIGNEE_NOT_ELIGIBLE)]}
    r = client_for("supervisor").post(url, {"assignee": "nobody-here"}, format="json")
    assert (r.status_code, r.json()["errors"]) == (400, not_eligible)
    r = client_for("supervisor").post(url, {"assignee": "cs_cw"}, format="json")
    assert (r.status_code, r.json()["errors"]) == (400, not_eligible)
    assert held() == (cw_out.pk, 2)
    assert len(assignments()) == 1

    # The supervisor clears it, then assigns it by username.
    answered(client_for("supervisor").post(url, {"assignee": None}, format="json"), None, 3)
    assert held() == (None, 3)
    answered(client_for("supervisor").post(url, {"assignee": "sz_cw"}, format="json"), "sz_cw", 4)
    assert held() == (cw_out.pk, 4)
    assert assignments()[1:] == [
        (
            supervisor.pk,
            "supervisor",
            "applied",
            "applied",
            {"assignee": None, "previous": cw_out.pk},
        ),
        (
            supervisor.pk,
            "supervisor",
            "applied",
            "applied",
            {"assignee": cw_out.pk, "previous": None},
        ),
    ]
    # The case document says the same afterwards.
    doc = client_for("cw_out").get(f"/api/v1/cases/{case.reference}/").json()
    assert (doc["assignee"], doc["version"], doc["state"]) == ("sz_cw", 4, "applied")


# --- submitting: bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        (
            {"applicant": {"id_number": "11010519491231002"}},
            "applicant.id_number",
            "invalid_id_number",
        ),
        (
            {"applicant": {"id_number": "110105194912310021"}},
            "applicant.id_number",
            "invalid_id_number",
        ),
        (
            {"applicant": {"id_number": "11010519491331002X"}},
            "applicant.id_number",
            "invalid_id_number",
        ),
        ({"from_agency": "999999"}, "from_agency", "invalid"),
        ({"to_agency": "440300"}, "to_agency", "invalid"),
        ({"stopped_at_source_on": "2026-02-30"}, "stopped_at_source_on", "invalid"),
        ({"stopped_at_source_on": "2031-01-01"}, "stopped_at_source_on", "invalid"),
        ({"stopped_at_source_on": "yesterday"}, "stopped_at_source_on", "invalid"),
        ({"insurance_type": "pension"}, "insurance_type", "invalid"),
        ({"channel": "fax"}, "channel", "invalid"),
        ({"note": "x" * 2001}, "note", "invalid"),
    ],
)
def test_bad_submissions_store_nothing(client_for, overrides, field, code):
    before = counts()
    r = client_for("cw_out").post("/api/v1/cases/", window_body(**overrides), format="json")
    assert r.status_code == 400, r.content
    assert r["Content-Type"] == PROBLEM
    body = r.json()
    assert body["code"] == code
    assert field in body["errors"]
    assert counts() == before


@pytest.mark.parametrize("applicant", [{}, {"phone": "13900001111"}, {"name": "王五"}])
def test_incomplete_applicant_is_a_field_error(client_for, applicant):
    # Found by schemathesis: an applicant object without a name was a 500.
    body = submit_body(channel="window", applicant=applicant)
    before = counts()
    r = client_for("cw_out").post("/api/v1/cases/", body, format="json")
    assert r.status_code == 400, r.content
    assert {"applicant.name", "applicant.id_number"} & set(r.json()["errors"])
    assert counts() == before


def test_second_open_case_for_same_person_and_type_is_refused(client_for, submit_case):
    submit_case()
    before = counts()
    r = client_for("applicant").post("/api/v1/cases/", submit_body(), format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "duplicate_open_case"
    assert counts() == before


def test_oversized_body_is_413(client_for):
    before = counts()
    r = client_for("cw_out").post("/api/v1/cases/", window_body(note="x" * 70_000), format="json")
    assert r.status_code == 413
    assert r.json()["code"] == "request_too_large"
    assert counts() == before


def test_wrong_content_type_is_415(client_for):
    r = client_for("cw_out").post(
        "/api/v1/cases/",
        data="insurance_type=employee",
        content_type="application/x-www-form-urlencoded",
    )
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"
    assert TransferCase.objects.count() == 0


def test_admin_accounts_may_not_submit(client_for, personas, django_user_model):
    from rest_framework.test import APIClient

    admin = django_user_model.objects.create_user(username="root", role="admin", is_staff=True)
    client = APIClient()
    client.force_authenticate(admin)
    r = client.post("/api/v1/cases/", window_body(), format="json")
    assert r.status_code == 403
    assert r.json()["code"] == "action_forbidden"


# --- idempotency ----------------------------------------------------------------------------------


def test_idempotent_replay_returns_first_response_and_creates_nothing(client_for):
    client = client_for("cw_out", HTTP_IDEMPOTENCY_KEY="4b1c1d7e-key-1")
    first = client.post(
        "/api/v1/cases/", window_body(applicant={"id_number": make_id_number()}), format="json"
    )
    assert first.status_code == 201
    body = first.json()
    # Same key, same body (re-sent as the client would).
    again = client.post("/api/v1/cases/", _same_body(body), format="json")
    assert again.status_code == 201
    assert again.json() == body
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert TransferCase.objects.count() == 1


def _same_body(doc: dict[str, Any]) -> dict[str, Any]:
    case = TransferCase.objects.get(reference=doc["reference"])
    from core.identity import id_number_decrypt

    return window_body(applicant={"id_number": id_number_decrypt(case.id_number_encrypted)})


def test_idempotency_key_reused_with_another_body_is_409(client_for):
    client = client_for("cw_out", HTTP_IDEMPOTENCY_KEY="key-2")
    assert client.post("/api/v1/cases/", window_body(), format="json").status_code == 201
    before = counts()
    r = client.post("/api/v1/cases/", window_body(note="another"), format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_key_reused"
    assert counts() == before


def test_idempotency_keys_are_per_user_and_expire(client_for):
    body = window_body()
    assert (
        client_for("cw_out", HTTP_IDEMPOTENCY_KEY="k")
        .post("/api/v1/cases/", body, format="json")
        .status_code
        == 201
    )
    # Another user with the same key is not a replay (here: the same person's second open case).
    r = client_for("supervisor", HTTP_IDEMPOTENCY_KEY="k").post(
        "/api/v1/cases/", body, format="json"
    )
    assert r.status_code == 400
    assert r.json()["code"] == "duplicate_open_case"
    with time_machine.travel(dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)):
        other = window_body(applicant={"id_number": make_id_number()})
        r = client_for("cw_out", HTTP_IDEMPOTENCY_KEY="k").post(
            "/api/v1/cases/", other, format="json"
        )
    assert r.status_code == 201
    assert TransferCase.objects.count() == 2


def test_failed_request_stores_no_idempotency_record(client_for):
    client = client_for("cw_out", HTTP_IDEMPOTENCY_KEY="k3")
    assert (
        client.post("/api/v1/cases/", window_body(from_agency="999999"), format="json").status_code
        == 400
    )
    assert IdempotencyRecord.objects.count() == 0
    assert client.post("/api/v1/cases/", window_body(), format="json").status_code == 201


def test_bad_idempotency_key_is_400(client_for):
    client = client_for("cw_out", HTTP_IDEMPOTENCY_KEY="x" * 201)
    r = client.post("/api/v1/cases/", window_body(), format="json")
    assert r.status_code == 400
    assert "Idempotency-Key" in r.json()["errors"]


# --- list -----------------------------------------------------------------------------------------


def test_list_filters_and_most_urgent_first(client_for, submit_case, personas):
    early = submit_case(now=dt.datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))
    late = submit_case(actor=personas["cw_out"])
    resident = submit_case(actor=personas["cw_out"], insurance_type="resident")
    client = client_for("cw_out")
    refs = [c["reference"] for c in client.get("/api/v1/cases/").json()["results"]]
    assert refs[0] == early.reference
    assert set(refs) == {early.reference, late.reference, resident.reference}
    r = client.get("/api/v1/cases/", {"insurance_type": "resident"}).json()
    assert [c["reference"] for c in r["results"]] == [resident.reference]
    assert client.get("/api/v1/cases/", {"side": "in"}).json()["results"] == []
    assert len(client.get("/api/v1/cases/", {"side": "out"}).json()["results"]) == 3
    assert client.get("/api/v1/cases/", {"overdue": "true"}).json()["results"] == []
    r = client.get("/api/v1/cases/", {"reference": late.reference}).json()
    assert [c["reference"] for c in r["results"]] == [late.reference]
    r = client.get("/api/v1/cases/", {"ordering": "-created_at"}).json()
    assert r["results"][-1]["reference"] == early.reference
    r = client.get("/api/v1/cases/", {"overdue": "maybe", "due_before": "soon"})
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"overdue", "due_before"}


def test_list_pages_with_a_cursor(client_for, submit_case, personas):
    made = {submit_case(actor=personas["cw_out"]).reference for _ in range(5)}
    client = client_for("cw_out")
    seen: list[str] = []
    url = "/api/v1/cases/?page_size=2"
    while url:
        page = client.get(url).json()
        seen += [c["reference"] for c in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(made)
