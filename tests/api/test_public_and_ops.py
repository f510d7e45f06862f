"""Status lookup, agencies, SLA statistics, sign-in (JWT, lock-out, throttles), problem details
for errors outside the case views, operations endpoints, and pinned query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from rest_framework.settings import api_settings

from cases.services import case_transition
from core.identity import id_number_decrypt
from workflow.calendar import SHANGHAI

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def suffix_of(case) -> str:
    return id_number_decrypt(case.id_number_encrypted)[-6:]


# --- status lookup --------------------------------------------------------------------------------


def test_status_lookup_shows_nothing_personal(client_for, submit_case):
    case = submit_case()
    r = client_for(None).post(
        "/api/v1/status-lookup/",
        {"reference": case.reference, "id_number_suffix": suffix_of(case).lower()},
        format="json",
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {
        "reference",
        "state",
        "state_label",
        "stage",
        "due_at",
        "next_step",
        "expected_completion_on",
        "expected_completion_provisional",
        "updated_at",
    }
    assert body["state_label"] == "已申请（转出地审核中）"
    assert body["next_step"] == "转出地经办机构正在审核申请。"
    text = r.content.decode()
    for personal in (case.applicant_name, case.id_number_masked, case.phone, "深圳"):
        assert personal not in text


def test_wrong_reference_and_wrong_suffix_look_the_same(client_for, submit_case):
    case = submit_case()
    client = client_for(None)
    wrong_suffix = client.post(
        "/api/v1/status-lookup/",
        {"reference": case.reference, "id_number_suffix": "000000"},
        format="json",
    )
    wrong_reference = client.post(
        "/api/v1/status-lookup/",
        {"reference": "YB2026112399999999", "id_number_suffix": suffix_of(case)},
        format="json",
    )
    assert wrong_suffix.status_code == wrong_reference.status_code == 404
    assert wrong_suffix.json() == wrong_reference.json()


def test_status_lookup_is_throttled_per_address(client_for, submit_case):
    case = submit_case()
    client = client_for(None)
    body = {"reference": case.reference, "id_number_suffix": "000000"}
    codes = [
        client.post("/api/v1/status-lookup/", body, format="json").status_code for _ in range(11)
    ]
    assert codes[:10] == [404] * 10
    assert codes[10] == 429
    r = client.post("/api/v1/status-lookup/", body, format="json")
    assert r["Content-Type"] == PROBLEM
    assert r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) > 0


def test_status_lookup_validates_the_suffix(client_for):
    r = client_for(None).post(
        "/api/v1/status-lookup/", {"reference": "YB1", "id_number_suffix": "12"}, format="json"
    )
    assert r.status_code == 400
    assert "id_number_suffix" in r.json()["errors"]


# --- agencies -------------------------------------------------------------------------------------


def test_agencies_with_windows(client_for, agencies):
    r = client_for(None).get("/api/v1/agencies/", {"province": "44"})
    codes = [a["code"] for a in r.json()["results"]]
    assert codes == ["440000", "440100", "440300"]
    sz = client_for(None).get("/api/v1/agencies/440300/").json()
    assert sz["windows"] == {"transfer_out_days": 10, "transfer_in_days": 5, "balance_days": 5}
    assert client_for(None).get("/api/v1/agencies/999999/").status_code == 404


# --- SLA statistics -------------------------------------------------------------------------------


def test_sla_stats_counts_on_time_open_and_overdue(client_for, submit_case, personas):
    on_time = submit_case()
    submit_case(actor=personas["cw_out"])  # stays open, due 2026-12-07
    case_transition(
        case=on_time,
        action="request_materials",
        actor=personas["cw_out"],
        payload={"missing_materials": ["离职证明"]},
        now=dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI),
    )
    client = client_for("supervisor")
    r = client.get("/api/v1/stats/sla/", {"date_from": "2026-11-01", "date_to": "2026-11-30"})
    assert r.status_code == 200
    body = r.json()
    # The clock stopped by the request for materials is no completed stage (it would count as
    # on time and flatter the agency); the other case's stage is open.
    assert body["rows"] == [
        {
            "stage": "applied",
            "agency": {"code": "440300", "name": "深圳市医疗保障局"},
            "completed": 0,
            "on_time": 0,
            "on_time_rate": None,
            "open": 1,
            "overdue": 0,
            "repeat_materials_requests": 0,
        }
    ]
    assert body["totals"]["open"] == 1
    r = client.get("/api/v1/stats/sla/", {"date_from": "2026-12-01", "date_to": "2026-11-01"})
    assert r.status_code == 400


# --- sign-in --------------------------------------------------------------------------------------


def test_jwt_sign_in_and_refresh(client_for, personas):
    client = client_for(None)
    r = client.post(
        "/api/v1/auth/token/", {"username": "sz_cw", "password": "pw-sz_cw"}, format="json"
    )
    assert r.status_code == 200
    tokens = r.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v1/cases/").status_code == 200
    r = client_for(None).post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert r.status_code == 200
    assert "access" in r.json()


def test_bad_token_is_401_problem(client_for):
    client = client_for(None, HTTP_AUTHORIZATION="Bearer not-a-token")
    r = client.get("/api/v1/cases/")
    assert r.status_code == 401
    assert r["Content-Type"] == PROBLEM
    assert r.json()["code"] == "token_not_valid"
    assert r["WWW-Authenticate"].startswith("Bearer")


def test_repeated_failures_lock_the_account_out(client_for, personas):
    client = client_for(None)
    wrong = {"username": "sz_cw", "password": "nope"}
    codes = [client.post("/api/v1/auth/token/", wrong, format="json").status_code for _ in range(5)]
    assert codes[:4] == [401] * 4
    assert codes[4] == 429
    # Locked out: even the right password is refused for the cool-off time.
    r = client.post(
        "/api/v1/auth/token/", {"username": "sz_cw", "password": "pw-sz_cw"}, format="json"
    )
    assert r.status_code == 429
    assert r["Content-Type"] == PROBLEM
    assert r.json()["code"] == "login_locked_out"
    # Another account from the same address is not locked.
    r = client.post(
        "/api/v1/auth/token/", {"username": "cs_cw", "password": "pw-cs_cw"}, format="json"
    )
    assert r.status_code == 200


def test_sign_in_is_throttled(client_for, personas):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "login": "3/min"}
    with override_settings(REST_FRAMEWORK={**_rf(), "DEFAULT_THROTTLE_RATES": rates}):
        client = client_for(None)
        body = {"username": "cs_cw", "password": "pw-cs_cw"}
        codes = [
            client.post("/api/v1/auth/token/", body, format="json").status_code for _ in range(4)
        ]
    assert codes == [200, 200, 200, 429]


def _rf() -> dict:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


# --- problem details everywhere -------------------------------------------------------------------


def test_unknown_path_is_problem_404(client):
    r = client.get("/api/v1/nothing-here/")
    assert r.status_code == 404
    assert r["Content-Type"] == PROBLEM
    assert r.json()["code"] == "not_found"


def test_wrong_method_is_problem_405(client_for):
    r = client_for("cw_out").delete("/api/v1/cases/")
    assert r.status_code == 405
    assert r["Content-Type"] == PROBLEM
    assert r.json()["code"] == "method_not_allowed"


def test_server_error_is_problem_500(client_for, monkeypatch):
    from api.views import cases as views

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "case_list_for", boom)
    r = client_for("cw_out").get("/api/v1/cases/")
    assert r.status_code == 500
    assert r["Content-Type"] == PROBLEM
    assert r.json()["code"] == "server_error"
    assert "boom" not in r.content.decode()


def test_database_down_is_problem_503(client_for, monkeypatch):
    from django.db import OperationalError

    from api.views import cases as views

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "case_list_for", down)
    r = client_for("cw_out").get("/api/v1/cases/")
    assert r.status_code == 503
    assert r.json()["code"] == "service_unavailable"


# --- operations -----------------------------------------------------------------------------------


def test_health_ready_metrics_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["checks"]["database"] == "ok"
    assert client.get("/metrics").status_code == 200
    assert b"django_http_requests" in client.get("/metrics").content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from our own static files, not a CDN (closed agency networks).
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr.net" not in html


def test_readyz_reports_an_unreachable_broker(client):
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r["Content-Type"] == PROBLEM
    assert r.json()["checks"]["broker"] == "down"


# --- query counts ---------------------------------------------------------------------------------


def test_detail_query_count(client_for, submit_case, django_assert_num_queries):
    case = submit_case()
    client = client_for("cw_out")
    client.get(f"/api/v1/cases/{case.reference}/")  # warm the calendar cache
    # user (JWT); case with agencies, assignee's username and open clock (one LEFT JOIN)
    with django_assert_num_queries(2):
        assert client.get(f"/api/v1/cases/{case.reference}/").status_code == 200


def test_list_query_count_does_not_grow_with_the_page(
    client_for, submit_case, personas, django_assert_num_queries
):
    for _ in range(3):
        submit_case(actor=personas["cw_out"])
    client = client_for("cw_out")
    client.get("/api/v1/cases/")
    # user (JWT), the page of cases, their open clocks
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/cases/").json()["results"]) == 3
    for _ in range(7):
        submit_case(actor=personas["cw_out"])
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/cases/").json()["results"]) == 10


def test_status_lookup_takes_the_reference_as_people_type_it(client_for, submit_case):
    from core.identity import id_number_decrypt

    case = submit_case()
    suffix = id_number_decrypt(case.id_number_encrypted)[-6:]
    r = client_for(None).post(
        "/api/v1/status-lookup/",
        {"reference": f"  {case.reference.lower()} ", "id_number_suffix": suffix},
        format="json",
    )
    assert r.status_code == 200
    assert r.json()["reference"] == case.reference
