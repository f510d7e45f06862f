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
