"""The SLA roll-ups (StageTally, RepeatRequestTally): kept with each transition, in its
transaction, exactly; the statistics read from them equal the old scan (tests/cases/sla_oracle.py)."""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from accounts.models import Role, User
from cases.models import RepeatRequestTally, TransferCase
from cases.selectors import sla_series, sla_stats
from cases.services import case_transition
from core.errors import DomainError
from tests.cases.sla_oracle import old_sla_series, old_sla_stats
from workflow.calendar import SHANGHAI
from workflow.models import StageClock, StageTally
from workflow.services import _write_open


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


EARLY = {"stopped_at_source_on": dt.date(2026, 9, 1), "enrolled_at_target_on": dt.date(2026, 9, 2)}
APPROVE = {"contribution_months": 60, "personal_account_balance": "100.00"}
NOW = at("2026-11-30 10:00")


def tallies() -> dict[tuple[dt.date, str, str], tuple[int, int]]:
    return {
        (t.day, t.stage, t.agency_id): (t.completed, t.on_time) for t in StageTally.objects.all()
    }


def repeat_tallies() -> dict[tuple[dt.date, str], int]:
    return {(t.day, t.agency_id): t.repeats for t in RepeatRequestTally.objects.all()}


@pytest.fixture
def gz_cw(personas: dict[str, User]) -> User:
    user = User(username="gz_cw", role=Role.CASEWORKER, agency_id="440100", is_staff=True)
    user.set_password("pw-gz_cw")
    user.save()
    return user


@pytest.fixture
def window_case(
    calendar_2026: None, submit_case: Callable[..., TransferCase], personas: dict[str, User]
) -> Callable[..., TransferCase]:
    """A case submitted at the window (a fresh person each time) at ``when``."""

    def make(when: str, actor: User | None = None, **overrides: Any) -> TransferCase:
        return submit_case(actor=actor or personas["cw_out"], now=at(when), **EARLY, **overrides)

    return make


def move(case: TransferCase, action: str, actor: User, when: str, **payload: Any) -> TransferCase:
    return case_transition(case=case, action=action, actor=actor, payload=payload, now=at(when))


# --- kept with each transition ---------------------------------------------------------------------


def test_a_completed_stage_is_counted_on_its_shanghai_day_on_time_or_late(window_case, personas):
    on_time = window_case("2026-11-23 09:00")
    late = window_case("2026-10-08 09:00")
    # 00:30 in Shanghai is the evening before in UTC: the day is Shanghai's.
    move(on_time, "approve_transfer_out", personas["cw_out"], "2026-11-25 00:30", **APPROVE)
    move(late, "approve_transfer_out", personas["cw_out"], "2026-11-25 09:00", **APPROVE)
    assert tallies() == {(dt.date(2026, 11, 25), "applied", "440300"): (2, 1)}


def test_a_request_for_materials_stops_the_clock_without_counting_a_stage(window_case, personas):
    case = window_case("2026-11-23 09:00")
    case = move(
        case, "request_materials", personas["cw_out"], "2026-11-24 10:00", missing_materials=["x"]
    )
    assert tallies() == {}
    # The applicant's turn (no agency, no deadline) is no agency's stage either.
    case = move(case, "resubmit_materials", personas["cw_out"], "2026-11-25 10:00")
    assert tallies() == {}
    assert StageClock.objects.filter(case=case, completed_at__isnull=False).count() == 2
    move(case, "approve_transfer_out", personas["cw_out"], "2026-11-26 10:00", **APPROVE)
    assert tallies() == {(dt.date(2026, 11, 26), "applied", "440300"): (1, 1)}


def test_a_repeat_request_is_counted_for_the_transfer_out_agency(window_case, personas, gz_cw):
    case = window_case("2026-11-23 09:00", actor=gz_cw, from_agency="440100")
    case = move(case, "request_materials", gz_cw, "2026-11-24 10:00", missing_materials=["x"])
    case = move(case, "resubmit_materials", gz_cw, "2026-11-24 11:00")
    assert repeat_tallies() == {}
    case = move(
        case,
        "request_materials",
        gz_cw,
        "2026-11-25 00:10",
        missing_materials=["x"],
        repeat_reason="没有盖章",
    )
    assert repeat_tallies() == {(dt.date(2026, 11, 25), "440100"): 1}


def test_a_rolled_back_transition_leaves_no_tally(window_case, personas):
    case = window_case("2026-11-23 09:00")

    seen_inside = {}

    class Undo(Exception):
        pass

    def approve_then_fail() -> None:
        with transaction.atomic():
            move(case, "approve_transfer_out", personas["cw_out"], "2026-11-24 10:00", **APPROVE)
            seen_inside.update(tallies())
            raise Undo

    with pytest.raises(Undo):
        approve_then_fail()
    # Written in the transition's own transaction (not after it, not on another connection).
    assert seen_inside == {(dt.date(2026, 11, 24), "applied", "440300"): (1, 1)}
    assert tallies() == {}
    assert StageClock.objects.get(case=case, completed_at__isnull=True).stage == "applied"
    # A refused transition writes nothing either.
    with pytest.raises(DomainError):
        move(case, "confirm_transfer_in", personas["cw_in"], "2026-11-24 10:00")
    assert tallies() == {}


def test_a_completed_clock_keeps_its_deadline_when_deadlines_are_recomputed(window_case, personas):
    case = window_case("2026-11-23 09:00")
    move(case, "approve_transfer_out", personas["cw_out"], "2026-11-24 10:00", **APPROVE)
    clock = StageClock.objects.get(case=case, stage="applied")
    due_at = clock.due_at
    # What clocks_recompute writes for a clock it read while open, completed since: nothing, so
    # the tally's "on time" stays what the clock says.
    clock.due_at = at("2026-11-24 09:00")
    _write_open([clock], ["due_at"])
    clock.refresh_from_db()
    assert clock.due_at == due_at
    assert tallies() == {(dt.date(2026, 11, 24), "applied", "440300"): (1, 1)}


@pytest.mark.django_db(transaction=True)
def test_concurrent_completions_of_one_day_stage_and_agency_count_exactly(
    calendar_2026, submit_case, personas
):
    assert connection.vendor == "postgresql"
    n = 8
    cases = [submit_case(actor=personas["cw_out"], **EARLY) for _ in range(n)]
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(case: TransferCase) -> None:
        try:
            barrier.wait()
            move(case, "approve_transfer_out", personas["cw_out"], "2026-11-24 10:00", **APPROVE)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(case,)) for case in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert tallies() == {(dt.date(2026, 11, 24), "applied", "440300"): (n, n)}


# --- the statistics read from them equal the scan -------------------------------------------------


@pytest.fixture
def varied(window_case, personas, gz_cw) -> dict[str, User]:
    """Cases of two Guangdong agencies, on time and late, with materials requests and a repeat,
    rejected, withdrawn around midnight, open and overdue; the supervisors who read them."""
    sz, cw_in = personas["cw_out"], personas["cw_in"]
    a = window_case("2026-11-02 09:00")
    a = move(a, "approve_transfer_out", sz, "2026-11-03 10:00", **APPROVE)
    a = move(a, "confirm_transfer_in", cw_in, "2026-11-05 10:00")
    move(a, "move_balance", cw_in, "2026-11-06 10:00", amount="100.00")
    b = window_case("2026-10-08 09:00")
    b = move(b, "approve_transfer_out", sz, "2026-10-30 10:00", **APPROVE)  # late
    move(b, "confirm_transfer_in", cw_in, "2026-11-20 23:59")  # late
    c = window_case("2026-11-10 09:00", actor=gz_cw, from_agency="440100")
    c = move(c, "request_materials", gz_cw, "2026-11-11 10:00", missing_materials=["x"])
    c = move(c, "resubmit_materials", gz_cw, "2026-11-12 10:00")
    c = move(
        c,
        "request_materials",
        gz_cw,
        "2026-11-13 10:00",
        missing_materials=["y"],
        repeat_reason="又缺",
    )
    c = move(c, "resubmit_materials", gz_cw, "2026-11-14 10:00")
    move(c, "approve_transfer_out", gz_cw, "2026-11-24 23:59:59", **APPROVE)
    d = window_case("2026-11-20 09:00")
    move(d, "reject", sz, "2026-11-21 10:00", reason_code="arrears")
    e = window_case("2026-11-24 08:00", from_agency="440300", to_agency="440100")
    move(e, "approve_transfer_out", sz, "2026-11-25 00:00", **APPROVE)
    window_case("2026-10-01 09:00")  # open, overdue now
    window_case("2026-11-27 09:00", actor=gz_cw, from_agency="440100")  # open, not yet due
    supervisor_gd = User.objects.create(
        username="gd_sup", role=Role.SUPERVISOR, agency_id="440000", province_wide=True
    )
    supervisor_gz = User.objects.create(username="gz_sup", role=Role.SUPERVISOR, agency_id="440100")
    admin = User.objects.create(username="root", role=Role.ADMIN)
    return {
        "sz": personas["supervisor"],
        "gz": supervisor_gz,
        "gd": supervisor_gd,
        "admin": admin,
        "applicant": personas["applicant"],
        "platform": personas["platform"],
    }


RANGES = [
    (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    (dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    (dt.date(2026, 11, 24), dt.date(2026, 11, 24)),
    (dt.date(2026, 11, 25), dt.date(2026, 11, 30)),
    (dt.date(2026, 11, 13), dt.date(2026, 11, 13)),
]


def test_sla_stats_equal_the_old_scan(varied):
    sz = sla_stats(user=varied["sz"], date_from=RANGES[0][0], date_to=RANGES[0][1], now=NOW)
    assert sz["totals"]["completed"] > 0  # the data is varied
    assert sz["totals"]["overdue"] == 1
    gz = sla_stats(user=varied["gz"], date_from=RANGES[0][0], date_to=RANGES[0][1], now=NOW)
    assert gz["totals"]["repeat_materials_requests"] == 1
    for user in varied.values():
        for date_from, date_to in RANGES:
            new = sla_stats(user=user, date_from=date_from, date_to=date_to, now=NOW)
            old = old_sla_stats(user=user, date_from=date_from, date_to=date_to, now=NOW)
            assert new == old, (user.username, date_from, date_to)


def test_sla_series_counts_what_the_clocks_say(varied):
    rows = sla_series(user=varied["gd"], date_from=RANGES[0][0], date_to=RANGES[0][1])
    assert {"day": dt.date(2026, 10, 30), "stage": "applied", "completed": 1, "on_time": 0,
            "on_time_rate": 0.0} in rows  # fmt: skip
    for user in varied.values():
        for date_from, date_to in RANGES:
            assert sla_series(user=user, date_from=date_from, date_to=date_to) == old_sla_series(
                user=user, date_from=date_from, date_to=date_to
            ), (user.username, date_from, date_to)
    assert sla_series(user=varied["applicant"], date_from=RANGES[0][0], date_to=RANGES[0][1]) == []


def test_the_backfill_migrations_give_the_roll_ups_the_transitions_kept(varied):
    kept, kept_repeats = tallies(), repeat_tallies()
    assert kept
    assert kept_repeats
    StageTally.objects.all().delete()
    RepeatRequestTally.objects.all().delete()
    # The migrations' own functions, on the models as the database has them, in small chunks so
    # the ranges of ids are stepped through.
    apps = MigrationLoader(connection).project_state().apps
    for module in (
        "workflow.migrations.0007_backfill_stage_tally",
        "cases.migrations.0019_backfill_repeat_request_tally",
    ):
        importlib.import_module(module).backfill(apps, None, chunk=3)
    assert tallies() == kept
    assert repeat_tallies() == kept_repeats
    for user in varied.values():
        for date_from, date_to in RANGES:
            new = sla_stats(user=user, date_from=date_from, date_to=date_to, now=NOW)
            assert new == old_sla_stats(user=user, date_from=date_from, date_to=date_to, now=NOW)
