"""The working-day engine on the real 2026 schedule (loaded from chinesecalendar through the service).

2026 facts used below (domain.md): make-up working days 02-14 (Sat), 02-28 (Sat), 09-20 (Sun),
10-10 (Sat); Spring Festival 02-15..02-23 off; Mid-autumn 09-25..09-27 off; National Day
10-01..10-07 off.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from workflow.calendar import SHANGHAI, Deadline, end_of_day, get_calendar
from workflow.calendar_data import calendar_import_file
from workflow.models import CalendarDay, CalendarRevision

UTC = dt.UTC


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


pytestmark = pytest.mark.usefixtures("calendar_2026")


# --- the counting rule ----------------------------------------------------------------------


def test_the_domain_example_ten_working_days_across_national_day() -> None:
    # 09-29, 09-30, 10-08, 10-09, 10-10 (Sat, make-up), 10-12 .. 10-16.
    deadline = get_calendar().deadline(at(2026, 9, 28), 10)

    assert deadline == Deadline(
        due_on=dt.date(2026, 10, 16), due_at=end_of(2026, 10, 16), provisional=False
    )
    assert deadline.due_at.isoformat() == "2026-10-16T23:59:59+08:00"


@pytest.mark.parametrize(("hour", "minute"), [(0, 0), (0, 1), (9, 0), (12, 30), (17, 59), (23, 59)])
def test_any_time_on_the_start_day_gives_the_same_deadline(hour: int, minute: int) -> None:
    assert get_calendar().deadline(at(2026, 9, 28, hour, minute), 10).due_on == dt.date(
        2026, 10, 16
    )


def test_ten_working_days_across_the_spring_festival_count_the_makeup_saturdays() -> None:
    # 02-11, 02-12, 02-13, 02-14 (Sat, make-up), 02-24 .. 02-27, 02-28 (Sat, make-up), 03-02.
    deadline = get_calendar().deadline(at(2026, 2, 10), 10)

    assert deadline.due_on == dt.date(2026, 3, 2)
    assert deadline.due_at == end_of(2026, 3, 2)
    assert deadline.provisional is False


def test_the_makeup_days_are_counted_in_order() -> None:
    cal = get_calendar()

    assert cal.add_working_days(dt.date(2026, 2, 10), 4) == (dt.date(2026, 2, 14), False)
    assert cal.add_working_days(dt.date(2026, 2, 10), 9) == (dt.date(2026, 2, 28), False)
    assert cal.add_working_days(dt.date(2026, 9, 28), 5) == (dt.date(2026, 10, 10), False)
    assert cal.add_working_days(dt.date(2026, 9, 18), 1) == (dt.date(2026, 9, 20), False)


def test_five_working_days() -> None:
    cal = get_calendar()

    # 09-29, 09-30, 10-08, 10-09, 10-10: a make-up Saturday can be the due day.
    assert cal.deadline(at(2026, 9, 28), 5).due_at == end_of(2026, 10, 10)
    # An ordinary week: Monday + 5 is the next Monday.
    assert cal.deadline(at(2026, 11, 16), 5).due_at == end_of(2026, 11, 23)
    # 02-13 (Fri) + 5: 02-14 (Sat, make-up), then the festival, 02-24 .. 02-27.
    assert cal.deadline(at(2026, 2, 13), 5).due_at == end_of(2026, 2, 27)


def test_one_working_day() -> None:
    cal = get_calendar()

    assert cal.deadline(at(2026, 10, 9), 1).due_on == dt.date(2026, 10, 10)  # make-up Saturday
    assert cal.deadline(at(2026, 9, 30), 1).due_on == dt.date(2026, 10, 8)  # over National Day
    assert cal.deadline(at(2026, 11, 20), 1).due_on == dt.date(2026, 11, 23)  # Friday -> Monday
    assert cal.deadline(at(2026, 11, 17), 1).due_on == dt.date(2026, 11, 18)
    with pytest.raises(ValueError, match="at least one working day"):
        cal.add_working_days(dt.date(2026, 11, 17), 0)


def test_a_stage_that_starts_on_a_holiday_or_a_weekend() -> None:
    cal = get_calendar()

    # Saturday 10-03, a National Day holiday: 10-08, 10-09, 10-10, 10-12, 10-13.
    assert cal.deadline(at(2026, 10, 3), 5).due_on == dt.date(2026, 10, 13)
    # The first day of the festival: counting starts on 02-24.
    assert cal.deadline(at(2026, 2, 15), 1).due_on == dt.date(2026, 2, 24)
    # An ordinary Saturday and Sunday both give the following Friday for 5 days.
    assert cal.deadline(at(2026, 3, 7), 5).due_on == dt.date(2026, 3, 13)
    assert cal.deadline(at(2026, 3, 8), 5).due_on == dt.date(2026, 3, 13)
    # A make-up Saturday is a working day, but as the start day it does not count either.
    assert cal.deadline(at(2026, 10, 10), 1).due_on == dt.date(2026, 10, 12)


def test_the_local_date_decides_not_the_utc_date() -> None:
    cal = get_calendar()

    # 23:30 in Shanghai is 15:30 UTC on the same date.
    late = dt.datetime(2026, 9, 28, 15, 30, tzinfo=UTC)
    assert late == at(2026, 9, 28, 23, 30)
    assert cal.deadline(late, 10).due_on == dt.date(2026, 10, 16)
    # 16:30 UTC on 09-28 is already 00:30 on 09-29 in Shanghai: one working day later.
    assert cal.deadline(dt.datetime(2026, 9, 28, 16, 30, tzinfo=UTC), 10).due_on == dt.date(
        2026, 10, 19
    )
    # 20:00 UTC on 09-27 (a holiday) is 04:00 on Monday 09-28 in Shanghai.
    assert cal.deadline(dt.datetime(2026, 9, 27, 20, 0, tzinfo=UTC), 10).due_on == dt.date(
        2026, 10, 16
    )


def test_the_day_changes_at_midnight_in_shanghai_whatever_the_instants_time_zone() -> None:
    cal = get_calendar()
    before_midnight = [
        dt.datetime(2026, 9, 28, 15, 59, 59, tzinfo=UTC),
        dt.datetime(2026, 9, 28, 15, 59, 59, tzinfo=ZoneInfo("UTC")),
        dt.datetime(2026, 9, 28, 23, 59, 59, tzinfo=SHANGHAI),
        dt.datetime(2026, 9, 28, 11, 59, 59, tzinfo=ZoneInfo("America/New_York")),
        dt.datetime(2026, 9, 29, 0, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=9))),
    ]
    for instant in before_midnight:
        assert cal.deadline(instant, 10).due_on == dt.date(2026, 10, 16), instant
        after = instant + dt.timedelta(seconds=1)
        assert cal.deadline(after, 10).due_on == dt.date(2026, 10, 19), after


def test_deadline_refuses_what_add_working_days_refuses() -> None:
    cal = get_calendar()

    with pytest.raises(ValueError, match="at least one working day"):
        cal.deadline(at(2026, 9, 28), 0)
    with pytest.raises(ValueError, match=r"1999-12-31 is outside the calendar \(2000-01-01"):
        cal.deadline(dt.datetime(1999, 12, 31, 15, 59, tzinfo=UTC), 1)
    with pytest.raises(ValueError, match="2100-12-31 \\+ 1 working days is beyond 2100-12-31"):
        cal.deadline(dt.datetime(2100, 12, 31, 12, tzinfo=SHANGHAI), 1)


ZONES = [
    UTC,
    SHANGHAI,
    ZoneInfo("UTC"),
    ZoneInfo("Asia/Tokyo"),
    ZoneInfo("America/New_York"),
    dt.timezone(dt.timedelta(hours=-3, minutes=-30)),
]


@hypothesis_settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    instant=st.datetimes(
        min_value=dt.datetime(2025, 12, 1),
        max_value=dt.datetime(2027, 2, 1),
        timezones=st.sampled_from(ZONES),
    ),
    n=st.integers(min_value=1, max_value=30),
)
def test_deadline_is_add_working_days_on_the_shanghai_date_in_any_time_zone(
    instant: dt.datetime, n: int
) -> None:
    cal = get_calendar()
    due_on, provisional = cal.add_working_days(instant.astimezone(SHANGHAI).date(), n)

    assert cal.deadline(instant, n) == Deadline(
        due_on=due_on, due_at=end_of_day(due_on), provisional=provisional
    )


def test_the_deadline_is_stored_in_shanghai_time_and_compares_as_an_instant() -> None:
    deadline = get_calendar().deadline(at(2026, 9, 28), 10)

    assert deadline.due_at.utcoffset() == dt.timedelta(hours=8)
    assert deadline.due_at == dt.datetime(2026, 10, 16, 15, 59, 59, tzinfo=UTC)


# --- provisional years -----------------------------------------------------------------------


def test_a_deadline_inside_a_published_year_is_not_provisional() -> None:
    cal = get_calendar()

    assert cal.deadline(at(2026, 12, 10), 10).provisional is False
    assert cal.deadline(at(2026, 12, 17), 10) == Deadline(
        due_on=dt.date(2026, 12, 31), due_at=end_of(2026, 12, 31), provisional=False
    )


def test_a_deadline_in_an_unpublished_year_is_provisional_then_moves_with_the_schedule(
    write_file: Any,
) -> None:
    # 12-25, 12-28 .. 12-31, then 2027 by weekends and fixed holidays: 01-01 (Fri) off,
    # 01-04 .. 01-08.
    provisional = get_calendar().deadline(at(2026, 12, 24), 10)
    assert provisional == Deadline(
        due_on=dt.date(2027, 1, 8), due_at=end_of(2027, 1, 8), provisional=True
    )
    assert get_calendar().is_workday(dt.date(2027, 1, 1)) is False
    assert get_calendar().is_workday(dt.date(2027, 1, 4)) is True

    # A made-up schedule in which Monday 01-04 is also off.
    calendar_import_file(
        path=write_file(
            "2027.yaml",
            "year: 2027\n"
            "holidays:\n"
            "  - {from: 2027-01-01, to: 2027-01-03, name: 元旦}\n"
            "  - {date: 2027-01-04, name: 元旦}\n",
        )
    )

    final = get_calendar().deadline(at(2026, 12, 24), 10)
    assert final == Deadline(
        due_on=dt.date(2027, 1, 11), due_at=end_of(2027, 1, 11), provisional=False
    )
    assert get_calendar().published_years == frozenset({2026, 2027})


def test_a_deadline_beyond_the_last_published_year_stays_provisional() -> None:
    deadline = get_calendar().deadline(at(2026, 12, 31), 1)

    assert deadline.due_on == dt.date(2027, 1, 4)
    assert deadline.provisional is True


def test_provisional_days_off_include_the_lunar_holidays_and_qingming() -> None:
    """Issue 9 defect 7: a stage started 2027-01-29 was provisionally due 02-12, with Spring
    Festival counted as working days; 除夕 (02-05, Fri) and 初三 (02-08, Mon) are days off."""
    deadline = get_calendar().deadline(at(2027, 1, 29), 10)

    assert deadline == Deadline(
        due_on=dt.date(2027, 2, 16), due_at=end_of(2027, 2, 16), provisional=True
    )


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # Computed, then checked by hand against the lunar calendar and the solar terms.
        (
            2027,
            {"春节": ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08"], "清明": ["2027-04-05"],
             "端午": ["2027-06-09"], "中秋": ["2027-09-15"]},
        ),
        (
            2028,
            {"春节": ["2028-01-25", "2028-01-26", "2028-01-27", "2028-01-28"], "清明": ["2028-04-04"],
             "端午": ["2028-05-28"], "中秋": ["2028-10-03"]},
        ),
    ],
)  # fmt: skip
def test_statutory_holidays_of_an_unpublished_year(
    year: int, expected: dict[str, list[str]]
) -> None:
    from workflow.calendar import statutory_holidays

    days = statutory_holidays(year)
    fixed = {dt.date(year, m, d) for m, d in ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))}
    lunar = {dt.date.fromisoformat(d) for group in expected.values() for d in group}
    assert days == fixed | lunar
    # Mid-Autumn can fall inside National Day (2028-10-03): one day off, not two.
    assert len(days) == len(fixed | lunar)


def test_the_published_2026_schedule_agrees_with_the_computed_holidays(calendar_2026: Any) -> None:
    """Every computed statutory day of 2026 is a day off in the official schedule (the schedule
    adds bridges and make-up days, never fewer holidays)."""
    from workflow.calendar import statutory_holidays

    cal = get_calendar()
    assert all(not cal.is_workday(day) for day in statutory_holidays(2026))


# --- other questions the engine answers ------------------------------------------------------


def test_is_workday_follows_the_schedule() -> None:
    cal = get_calendar()

    assert cal.is_workday(dt.date(2026, 10, 10)) is True  # make-up Saturday
    assert cal.is_workday(dt.date(2026, 9, 20)) is True  # make-up Sunday
    assert cal.is_workday(dt.date(2026, 10, 1)) is False  # National Day, a Thursday
    assert cal.is_workday(dt.date(2026, 10, 3)) is False  # National Day on a Saturday
    assert cal.is_workday(dt.date(2026, 10, 8)) is True  # back to work
    assert cal.is_workday(dt.date(2026, 10, 17)) is False  # ordinary Saturday
    assert cal.is_workday(dt.date(2026, 2, 16)) is False  # Spring Festival, a Monday


def test_working_days_between() -> None:
    cal = get_calendar()

    assert cal.working_days_between(dt.date(2026, 9, 28), dt.date(2026, 10, 16)) == 10
    assert cal.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 7)) == 0
    assert cal.working_days_between(dt.date(2026, 10, 9), dt.date(2026, 10, 10)) == 1
    assert cal.working_days_between(dt.date(2026, 2, 10), dt.date(2026, 3, 2)) == 10
    assert cal.working_days_between(dt.date(2026, 10, 16), dt.date(2026, 9, 28)) == -10
    assert cal.workdays_in(dt.date(2026, 10, 1), dt.date(2026, 10, 12)) == [
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        dt.date(2026, 10, 10),
        dt.date(2026, 10, 12),
    ]


def test_working_days_left() -> None:
    cal = get_calendar()
    due_at = end_of(2026, 10, 16)

    assert cal.working_days_left(due_at, at(2026, 9, 28, 10)) == 10
    assert cal.working_days_left(due_at, at(2026, 10, 3)) == 8  # on holiday: 10-08 .. 10-16
    assert cal.working_days_left(due_at, at(2026, 10, 9)) == 6  # 10-10 (Sat) still counts
    assert cal.working_days_left(due_at, at(2026, 10, 16, 23, 59)) == 0
    assert cal.working_days_left(due_at, at(2026, 10, 17, 0, 0)) == -1  # late over the weekend
    assert cal.working_days_left(due_at, at(2026, 10, 19)) == -1
    assert cal.working_days_left(due_at, at(2026, 10, 21)) == -3


def test_next_workday_on_or_after() -> None:
    cal = get_calendar()

    assert cal.next_workday_on_or_after(dt.date(2026, 10, 1)) == dt.date(2026, 10, 8)
    assert cal.next_workday_on_or_after(dt.date(2026, 10, 10)) == dt.date(2026, 10, 10)
    assert cal.next_workday_on_or_after(dt.date(2026, 10, 11)) == dt.date(2026, 10, 12)


# --- the engine against a day-by-day count over the stored days --------------------------------


def naive_add_working_days(workday: dict[dt.date, bool], start: dt.date, n: int) -> dt.date:
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= workday[day]
    return day


@pytest.fixture
def stored_workdays(calendar_all: None) -> dict[dt.date, bool]:
    workday = dict(CalendarDay.objects.values_list("date", "is_workday"))
    assert len(workday) == (dt.date(2027, 1, 1) - dt.date(2004, 1, 1)).days
    return workday


@hypothesis_settings(
    max_examples=400,
    deadline=None,
    # The database fixture is loaded once and only read: sharing it between examples is right.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    start=st.dates(min_value=dt.date(2004, 1, 1), max_value=dt.date(2026, 11, 15)),
    n=st.integers(min_value=1, max_value=30),
)
def test_add_working_days_equals_a_day_by_day_count(
    stored_workdays: dict[dt.date, bool], start: dt.date, n: int
) -> None:
    due, provisional = get_calendar().add_working_days(start, n)

    assert due == naive_add_working_days(stored_workdays, start, n)
    assert provisional is False
    assert get_calendar().working_days_between(start, due) == n


# --- the process cache -----------------------------------------------------------------------


def test_deadline_arithmetic_does_no_query_after_warm_up() -> None:
    get_calendar()
    starts = [at(2026, 1, 1) + dt.timedelta(hours=7 * i) for i in range(1000)]

    with CaptureQueriesContext(connection) as queries:
        deadlines = [get_calendar().deadline(start, 10) for start in starts]

    assert len(queries) == 0
    # 01-02 and 01-03 are off; make-up Sunday 01-04 is the first of 01-04 .. 01-09, 01-12 .. 01-15.
    assert deadlines[0].due_on == dt.date(2026, 1, 15)
    assert len({d.due_on for d in deadlines}) > 100


def test_a_change_by_another_process_is_picked_up_after_the_reload_interval(
    settings: Any,
) -> None:
    settings.CALENDAR_RELOAD_SECONDS = 3600
    before = get_calendar()
    assert before.is_workday(dt.date(2026, 11, 20)) is True

    # Another process makes Friday 11-20 a holiday: it writes the row and bumps the revision, and
    # this process's cache is not told.
    CalendarDay.objects.filter(date=dt.date(2026, 11, 20)).update(
        kind="holiday", is_workday=False, source="admin"
    )
    CalendarRevision.objects.filter(pk=1).update(
        revision=CalendarRevision.objects.get().revision + 1
    )

    # Within the interval the cached calendar answers, without asking the database.
    with CaptureQueriesContext(connection) as queries:
        assert get_calendar() is before
    assert len(queries) == 0

    settings.CALENDAR_RELOAD_SECONDS = 0
    after = get_calendar()
    assert after is not before
    assert after.is_workday(dt.date(2026, 11, 20)) is False
    assert after.deadline(at(2026, 11, 19), 1).due_on == dt.date(2026, 11, 23)

    # Nothing changed since: the check is one query for the revision, no reload.
    with CaptureQueriesContext(connection) as queries:
        assert get_calendar() is after
    assert len(queries) == 1


def test_no_revision_row_yet_does_not_reload_on_every_check(settings: Any) -> None:
    CalendarRevision.objects.all().delete()
    settings.CALENDAR_RELOAD_SECONDS = 0
    first = get_calendar()

    with CaptureQueriesContext(connection) as queries:
        assert get_calendar() is first
    assert len(queries) == 1  # the revision check, and no reload of the days
