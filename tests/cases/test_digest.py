"""The caseworkers' daily digest (cases.digest): working days only, one message each."""

from __future__ import annotations

import time_machine

from cases.digest import DIGEST, sla_digest
from notifications.models import Notification
from tests.cases.sla import SUBMIT, at


def test_digest_on_working_days_only(calendar_2026, submit_case, personas):
    # Due at the end of 10-10 (make-up Saturday); due soon from 10-08.
    submit_case(**{**SUBMIT, "now": at("2026-09-21 09:00")})
    holiday_monday = sla_digest(now=at("2026-10-05 08:30"))
    assert holiday_monday.skipped
    assert not Notification.objects.filter(kind=DIGEST).exists()
    sunday = sla_digest(now=at("2026-10-11 08:30"))
    assert sunday.skipped

    makeup_saturday = sla_digest(now=at("2026-10-10 08:30"))
    assert not makeup_saturday.skipped
    assert makeup_saturday.recipients == 1
    digest = Notification.objects.get(kind=DIGEST)
    assert digest.recipient == personas["cw_out"]
    assert "即将到期 1 件" in digest.subject
    # Once per day: a second run (a second beat) adds nothing.
    assert sla_digest(now=at("2026-10-10 08:31")).notifications == 0


def test_digest_task_follows_the_clock(calendar_2026, submit_case):
    from cases.tasks import sla_digest as task

    submit_case(**{**SUBMIT, "now": at("2026-09-21 09:00")})
    # The task body, run in this process (eager): it reads the instant from the clock.
    with time_machine.travel(at("2026-10-05 08:30"), tick=False):
        assert task.apply().get() == 0
    with time_machine.travel(at("2026-10-12 08:30"), tick=False):
        assert task.apply().get() == 1


def test_each_caseworker_gets_their_own_cases_and_the_unassigned_ones(
    calendar_2026, submit_case, personas
):
    from accounts.models import Role, User
    from cases.services import Applicant
    from tests.conftest import make_id_number

    second = User.objects.create(username="sz_cw2", role=Role.CASEWORKER, agency_id="440300")

    def submit(day: str, seq: int):
        return submit_case(
            actor=personas["cw_out"],
            applicant=Applicant(name="王五", id_number=make_id_number("440306", "19850101", seq)),
            **{**SUBMIT, "now": at(day)},
        )

    unassigned = submit("2026-09-21 09:00", 1)  # due 10-10, due soon since 10-08
    mine = submit("2026-09-21 10:00", 2)
    mine.assignee = second
    mine.save(update_fields=["assignee"])
    not_yet = submit("2026-10-09 09:00", 3)  # due 10-23: not due soon on 10-12
    late = submit("2026-09-14 09:00", 4)  # due 09-28 (before National Day): overdue on 10-12
    from cases.reminders import sla_scan

    sla_scan(now=at("2026-10-12 08:00"))  # flags the late one, as beat would have

    report = sla_digest(now=at("2026-10-12 08:30"))
    assert report.recipients == 2
    first = Notification.objects.get(kind=DIGEST, recipient=personas["cw_out"], channel="in_app")
    other = Notification.objects.get(kind=DIGEST, recipient=second, channel="in_app")
    assert first.payload == {"date": "2026-10-12", "overdue": 1, "due_soon": 1}
    assert unassigned.reference in first.body
    assert late.reference in first.body
    assert mine.reference not in first.body
    assert not_yet.reference not in first.body
    # The second caseworker: their own case and the agency's unassigned ones.
    assert other.payload == {"date": "2026-10-12", "overdue": 1, "due_soon": 2}
    assert mine.reference in other.body
    assert unassigned.reference in other.body
    assert not_yet.reference not in other.body
