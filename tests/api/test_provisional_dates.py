"""Dates that rest on a year with no published holiday schedule say so (issue 9 defect 6).

Before: the expected completion date of a case applied in December 2026 counted days of 2027,
whose schedule is not published, and nothing said so; the reminders gave such a due date bare.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from cases.models import TransferCase
from cases.reminders import sla_scan
from core.identity import id_number_decrypt
from notifications.models import Notification
from workflow.calendar import SHANGHAI
from workflow.models import StageClock

pytestmark = pytest.mark.django_db


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def documents(client_for, case: TransferCase, now: dt.datetime) -> tuple[dict, dict]:
    with time_machine.travel(now, tick=False):
        document = client_for("applicant").get(f"/api/v1/cases/{case.reference}/").json()
        status = (
            client_for(None)
            .post(
                "/api/v1/status-lookup/",
                {
                    "reference": case.reference,
                    "id_number_suffix": id_number_decrypt(case.id_number_encrypted)[-6:],
                },
                format="json",
            )
            .json()
        )
    return document, status


def test_windows_inside_2026_are_not_provisional(client_for, submit_case, calendar_2026):
    case = submit_case(now=at("2026-11-02 09:00"))
    document, status = documents(client_for, case, at("2026-11-02 10:00"))
    assert document["expected_completion_on"] < "2027-01-01"
    assert document["expected_completion_provisional"] is False
    assert status["expected_completion_provisional"] is False


def test_an_expected_date_reaching_2027_is_provisional_though_the_stage_is_not(
    client_for, submit_case, calendar_2026
):
    # Applied 2026-12-10: due 12-24 (published 2026), then 5 working days to 12-31 and 5 more into
    # January 2027, whose schedule is not published.
    case = submit_case(now=at("2026-12-10 09:00"))
    document, status = documents(client_for, case, at("2026-12-10 10:00"))
    assert document["stage"]["provisional"] is False
    assert document["expected_completion_on"] >= "2027-01-01"
    assert document["expected_completion_provisional"] is True
    assert status["stage"]["provisional"] is False
    assert status["expected_completion_provisional"] is True


def test_a_provisional_due_date_is_said_provisional_in_the_reminder(submit_case, calendar_2026):
    case = submit_case(now=at("2026-12-28 09:00"))
    clock = StageClock.objects.get(case=case, completed_at__isnull=True)
    assert clock.provisional is True
    sla_scan(now=clock.warn_at)
    rows = Notification.objects.filter(kind="due_soon", subject_ref=case.reference)
    assert rows.exists()
    for row in rows:
        assert "（暂定）" in row.body  # the staff personas read zh-Hans
        assert row.payload["due_provisional"] is True


def test_the_admin_case_page_says_the_expected_date_is_provisional(
    client, personas, submit_case, calendar_2026
):
    from django.urls import reverse

    case = submit_case(now=at("2026-12-10 09:00"))
    with time_machine.travel(at("2026-12-10 10:00"), tick=False):
        # Signed in at the page's time: sessions last 30 minutes.
        client.force_login(personas["cw_out"])
        page = client.get(reverse("admin:cases_transfercase_change", args=[case.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    start = text.index("预计办结")
    assert "（暂定）" in text[start : start + 400]
