"""Concurrent requests through the API on PostgreSQL: exactly one move wins, the rest are 409;
concurrent duplicates of one idempotent submission create one case."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from cases.models import CaseEvent, IdempotencyRecord, TransferCase
from tests.api.conftest import bearer
from tests.api.test_cases import window_body
from tests.cases.test_concurrency import assert_consistent

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def race(n: int, call: Callable[[APIClient], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            client = APIClient()
            barrier.wait()
            results[i] = call(client)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize(
    ("who", "action", "body"),
    [
        (
            "cw_out",
            "approve_transfer_out",
            {"contribution_months": 1, "personal_account_balance": "1.00"},
        ),
        ("cw_out", "reject", {"reason_code": "arrears"}),
        ("applicant", "withdraw", {}),
    ],
)
def test_concurrent_moves_exactly_one_wins(personas, submit_case, who, action, body):
    case = submit_case()
    auth = bearer(personas[who])
    url = f"/api/v1/cases/{case.reference}/transitions/{action}/"

    def move(client: APIClient) -> tuple[int, str]:
        r = client.post(url, body, format="json", HTTP_AUTHORIZATION=auth)
        return r.status_code, r.json().get("code", "")

    results = race(THREADS, move)
    assert sorted(s for s, _ in results) == [200] + [409] * (THREADS - 1), results
    assert {c for s, c in results if s == 409} <= {"transition_not_allowed", "stale_case"}
    assert CaseEvent.objects.filter(case=case, action=action).count() == 1
    assert_consistent(case)


def test_mixed_conflicting_moves_one_wins(personas, submit_case):
    case = submit_case()
    url = f"/api/v1/cases/{case.reference}/transitions/"
    # Each of these ends the case, so after any one of them every other is not possible.
    calls = [
        ("applicant", "withdraw", {}),
        ("cw_out", "reject", {"reason_code": "arrears"}),
        ("supervisor", "reject", {"reason_code": "other", "note": "duplicate application"}),
        ("cw_out", "reject", {"reason_code": "retired"}),
    ] * 2
    auths = [bearer(personas[who]) for who, _a, _b in calls]
    lock = threading.Lock()
    order = iter(range(len(calls)))

    def move(client: APIClient) -> int:
        with lock:
            i = next(order)
        _who, action, body = calls[i]
        return client.post(
            url + action + "/", body, format="json", HTTP_AUTHORIZATION=auths[i]
        ).status_code

    results = race(len(calls), move)
    assert sorted(results) == [200] + [409] * (len(calls) - 1), results
    assert CaseEvent.objects.filter(case=case).count() == 2
    assert_consistent(case)


def test_concurrent_idempotent_submissions_create_one_case(personas):
    auth = bearer(personas["cw_out"])
    body = window_body()

    def submit(client: APIClient) -> tuple[int, str]:
        r = client.post(
            "/api/v1/cases/",
            body,
            format="json",
            HTTP_AUTHORIZATION=auth,
            HTTP_IDEMPOTENCY_KEY="same",
        )
        return r.status_code, r.json().get("reference", r.json().get("code"))

    results = race(THREADS, submit)
    assert TransferCase.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    reference = TransferCase.objects.get().reference
    assert results == [(201, reference)] * THREADS
