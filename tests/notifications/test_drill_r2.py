"""R2: three scans at once, two workers, one SIGKILLed mid-batch and restarted: every reminder is
delivered exactly once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from cases.reminders import sla_scan
from cases.services import Applicant
from notifications.models import Notification
from notifications.services import notification_sweep
from tests.conftest import make_id_number
from tests.notifications.conftest import emails_with_key, wait_for
from workflow.calendar import SHANGHAI
from workflow.models import StageClock

pytestmark = pytest.mark.django_db(transaction=True)

ACCEPTED = dt.datetime(2026, 9, 28, 9, tzinfo=SHANGHAI)
AFTER_DEADLINE = dt.datetime(2026, 10, 17, 0, 0, tzinfo=SHANGHAI)
CASES = 12


def test_r2_every_reminder_exactly_once(
    calendar_2026, personas, submit_case, start_worker, outbox, settings
):
    cw = personas["cw_out"]
    cw.email = "sz_cw@example.com"
    cw.save()
    for i in range(CASES):
        submit_case(
            actor=cw,
            applicant=Applicant(
                name="王五", id_number=make_id_number("440306", "19850101", 800 + i)
            ),
            now=ACCEPTED,
            stopped_at_source_on=dt.date(2026, 9, 1),
            enrolled_at_target_on=dt.date(2026, 9, 2),
        )
    # Each email takes 0.25 s, like a slow SMTP server, so the kill lands mid-batch.
    victim = start_worker("victim", TEST_EMAIL_DELAY="0.25")
    start_worker("survivor", TEST_EMAIL_DELAY="0.25")

    reports = []
    barrier = threading.Barrier(3)

    def scan() -> None:
        try:
            barrier.wait()
            reports.append(sla_scan(now=AFTER_DEADLINE, batch_size=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.counts["overdue"] for r in reports) == CASES
    assert StageClock.objects.filter(breached_at__isnull=False).count() == CASES

    overdue = Notification.objects.filter(kind="overdue")
    assert overdue.count() == CASES * 2  # in-app and email to the one caseworker
    # Kill one worker right after it finished a message: it is then inside the next one.
    wait_for(lambda: overdue.filter(channel="email", status="sent").count() >= 3, interval=0.01)
    victim.kill()
    assert overdue.filter(status="pending").exists(), "the kill should land mid-batch"
    start_worker("victim-restarted", TEST_EMAIL_DELAY="0.25")

    # The beat's sweeper, every second here: re-queues rows whose claim ran out or whose message
    # died with the worker.
    settings.NOTIFICATION_SWEEP_AFTER_SECONDS = 1
    deadline = time.monotonic() + 90
    while Notification.objects.filter(status="pending").exists():
        assert time.monotonic() < deadline, "not everything was delivered"
        notification_sweep()
        time.sleep(1)

    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    for row in overdue.filter(channel="email"):
        assert emails_with_key(outbox, row.dedup_key) == 1, row.dedup_key
    assert overdue.filter(channel="in_app").count() == CASES
