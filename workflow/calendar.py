"""Working-day arithmetic on the official calendar, with no day-by-day loop at request time.

The engine holds, for every day from ``EPOCH`` to ``HORIZON``, the cumulative count of working days
up to and including that day, plus the list of working days in order. "Start + N working days" is
then two list look-ups: ``workdays[cum[start] + N - 1]``.

Counting rule (domain.md): the start day does not count; the deadline is the end (23:59:59
Asia/Shanghai) of the Nth working day after it.

Years with a published schedule come from the ``CalendarDay`` table. Other years use weekends plus
every statutory holiday at its date (``statutory_holidays``: the lunar ones and Qingming computed),
and any deadline whose counted days touch such a year is provisional.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from chinese_calendar import get_solar_terms
from django.conf import settings
from lunardate import LunarDate

SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH = dt.date(2000, 1, 1)
HORIZON = dt.date(2100, 12, 31)
END_OF_DAY = dt.time(23, 59, 59)

# Holidays with a fixed Gregorian date (全国年节及纪念日放假办法, 2024 revision, in force 2025-01-01):
# New Year's Day, Labour Day (two days), National Day (three days).
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})
QINGMING = "清明"  # the solar term's name in chinesecalendar


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> frozenset[dt.date]:
    """Every statutory day off of ``year`` at its date, for a year with no published schedule.

    The fixed-date ones; Spring Festival from New Year's Eve (除夕, the day before 正月初一) to 正月初三
    (four days); the Dragon Boat Festival (五月初五) and Mid-Autumn (八月十五), from the lunar calendar
    (``lunardate``); Qingming, the day of the 清明 solar term (``chinesecalendar``). No make-up
    working day and no bridge is guessed: only the State Council's schedule says those. Outside the
    libraries' range (lunardate: 1900-2099) only the fixed-date holidays.
    """
    days = {dt.date(year, month, day) for month, day in FIXED_HOLIDAYS}
    try:
        new_year = LunarDate(year, 1, 1).to_solar_date()
        days.update(new_year + dt.timedelta(days=offset) for offset in range(-1, 3))
        days.add(LunarDate(year, 5, 5).to_solar_date())
        days.add(LunarDate(year, 8, 15).to_solar_date())
    except ValueError:
        pass
    try:
        terms = get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10))
    except (ValueError, NotImplementedError):
        terms = []
    days.update(day for day, name in terms if name == QINGMING)
    return frozenset(days)


def _shanghai_is_utc_plus_8() -> bool:
    """Whether Asia/Shanghai is UTC+8 throughout EPOCH..HORIZON (true since 1991 in tzdata).

    Checked weekly, which would catch any daylight-saving rule; ``deadline`` converts time zones
    the slow, exact way if a future tzdata ever says otherwise.
    """
    plus_8 = dt.timedelta(hours=8)
    start = dt.datetime.combine(EPOCH, dt.time(12))
    weeks = (HORIZON - EPOCH).days // 7 + 1
    return all(SHANGHAI.utcoffset(start + dt.timedelta(weeks=w)) == plus_8 for w in range(weeks))


_SHANGHAI_IS_UTC_PLUS_8 = _shanghai_is_utc_plus_8()


@dataclass(frozen=True, slots=True)
class Deadline:
    due_on: dt.date
    due_at: dt.datetime
    provisional: bool


def provisional_is_workday(day: dt.date) -> bool:
    """The rule for a year without a published schedule: weekends and the statutory holidays off."""
    return day.weekday() < 5 and day not in statutory_holidays(day.year)


def local_date(instant: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an aware instant."""
    return instant.astimezone(SHANGHAI).date()


def end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


class WorkingDayCalendar:
    """An immutable, precomputed calendar. Build one with ``from_days``; share it freely."""

    __slots__ = (
        "_cum",
        "_deadlines",
        "_epoch",
        "_next_unpublished",
        "_size",
        "_workdays",
        "published_years",
    )

    def __init__(
        self, workday_flags: list[bool], published: list[bool], published_years: frozenset[int]
    ) -> None:
        self._epoch = EPOCH.toordinal()
        self._size = len(workday_flags)
        cum: list[int] = [0] * self._size
        workdays: list[int] = []
        count = 0
        for i, is_work in enumerate(workday_flags):
            if is_work:
                count += 1
                workdays.append(i)
            cum[i] = count
        # For each day, the index of the first day at or after it that is not published; lets
        # "does (start, due] touch an unpublished day?" be one comparison.
        nxt: list[int] = [self._size] * (self._size + 1)
        for i in range(self._size - 1, -1, -1):
            nxt[i] = i if not published[i] else nxt[i + 1]
        self._cum = cum
        self._workdays = workdays
        self._next_unpublished = nxt
        self.published_years = published_years
        # Deadline objects are immutable and depend only on (due day, provisional): built once
        # each, on first use, at index 2 * due + provisional (see ``deadline``).
        self._deadlines: list[Deadline | None] = [None] * (2 * self._size)

    @classmethod
    def from_days(cls, days: Iterable[tuple[dt.date, bool]]) -> WorkingDayCalendar:
        """Build from (date, is_workday) pairs of published years; every other day is provisional."""
        size = HORIZON.toordinal() - EPOCH.toordinal() + 1
        flags = [provisional_is_workday(EPOCH + dt.timedelta(days=i)) for i in range(size)]
        published = [False] * size
        years: set[int] = set()
        base = EPOCH.toordinal()
        for day, is_work in days:
            i = day.toordinal() - base
            if 0 <= i < size:
                flags[i] = is_work
                published[i] = True
                years.add(day.year)
        return cls(flags, published, frozenset(years))

    def _index(self, day: dt.date) -> int:
        i = day.toordinal() - self._epoch
        if not 0 <= i < self._size:
            raise ValueError(f"{day} is outside the calendar ({EPOCH} to {HORIZON})")
        return i

    def is_workday(self, day: dt.date) -> bool:
        i = self._index(day)
        return self._cum[i] != (self._cum[i - 1] if i else 0)

    def add_working_days(self, start: dt.date, n: int) -> tuple[dt.date, bool]:
        """The Nth working day after ``start`` (start excluded) and whether it is provisional."""
        if n < 1:
            raise ValueError("a window has at least one working day")
        i = start.toordinal() - self._epoch
        if not 0 <= i < self._size:
            raise ValueError(f"{start} is outside the calendar ({EPOCH} to {HORIZON})")
        k = self._cum[i] + n - 1
        if k >= len(self._workdays):
            raise ValueError(f"{start} + {n} working days is beyond {HORIZON}")
        due = self._workdays[k]
        return (
            dt.date.fromordinal(due + self._epoch),
            due >= self._next_unpublished[i + 1],
        )

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        return self._cum[self._index(end)] - self._cum[self._index(start)]

    def next_workday_on_or_after(self, day: dt.date) -> dt.date:
        i = self._index(day)
        before = self._cum[i - 1] if i else 0
        return dt.date.fromordinal(self._workdays[before] + self._epoch)

    def deadline(self, started_at: dt.datetime, working_days: int) -> Deadline:
        """Deadline of a stage that started at the aware instant ``started_at``.

        The same as ``add_working_days(local_date(started_at), n)`` plus the end of that day, but
        on the request path (P6: >= 500,000/s), so: the local date of a UTC or Shanghai instant
        without a time-zone conversion, the arithmetic inline, and one shared ``Deadline`` per
        (due day, provisional) instead of three new objects per call.
        """
        tz = started_at.tzinfo
        if tz is SHANGHAI:
            i = started_at.toordinal() - self._epoch
        elif tz is dt.UTC and _SHANGHAI_IS_UTC_PLUS_8:
            # Midnight in Shanghai is 16:00 UTC the day before.
            i = started_at.toordinal() - self._epoch + (started_at.hour >= 16)
        else:
            i = local_date(started_at).toordinal() - self._epoch
        if working_days < 1:
            raise ValueError("a window has at least one working day")
        if not 0 <= i < self._size:
            raise ValueError(
                f"{local_date(started_at)} is outside the calendar ({EPOCH} to {HORIZON})"
            )
        k = self._cum[i] + working_days - 1
        if k >= len(self._workdays):
            raise ValueError(
                f"{local_date(started_at)} + {working_days} working days is beyond {HORIZON}"
            )
        due = self._workdays[k]
        key = 2 * due + (due >= self._next_unpublished[i + 1])
        cached = self._deadlines[key]
        if cached is None:
            due_on = dt.date.fromordinal(due + self._epoch)
            cached = Deadline(due_on=due_on, due_at=end_of_day(due_on), provisional=bool(key & 1))
            self._deadlines[key] = cached
        return cached

    def working_days_left(self, due_at: dt.datetime, now: dt.datetime) -> int:
        """Working days from today (excluded) to the due date (included); negative when late."""
        today = local_date(now)
        due_on = local_date(due_at)
        if now > due_at:
            return -max(1, self.working_days_between(due_on, today))
        return max(0, self.working_days_between(today, due_on))

    def is_published(self, day: dt.date) -> bool:
        i = self._index(day)
        return self._next_unpublished[i] != i

    def workdays_in(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Working days in [start, end], for displays and tests (not for deadline arithmetic)."""
        lo = bisect.bisect_left(self._workdays, self._index(start))
        hi = bisect.bisect_right(self._workdays, self._index(end))
        return [dt.date.fromordinal(d + self._epoch) for d in self._workdays[lo:hi]]


# --- the process-wide instance ------------------------------------------------------------------

_lock = threading.Lock()
_state: dict[str, object] = {"calendar": None, "revision": None, "checked": 0.0}


def _load() -> tuple[WorkingDayCalendar, int]:
    from workflow.models import CalendarDay, CalendarRevision

    revision = CalendarRevision.objects.filter(pk=1).values_list("revision", flat=True).first()
    days = CalendarDay.objects.values_list("date", "is_workday").iterator(chunk_size=5000)
    return WorkingDayCalendar.from_days(days), revision or 0


def get_calendar() -> WorkingDayCalendar:
    """The calendar for this process, reloaded when another process changed the table.

    The revision is checked at most every ``CALENDAR_RELOAD_SECONDS``, so deadline arithmetic costs
    no query on the request path.
    """
    now = time.monotonic()
    cal = _state["calendar"]
    if cal is not None and now - float(_state["checked"]) < settings.CALENDAR_RELOAD_SECONDS:  # type: ignore[arg-type]
        return cal  # type: ignore[return-value]
    with _lock:
        from workflow.models import CalendarRevision

        # "or 0" as in _load: with no revision row yet, comparing None to 0 reloaded every time.
        revision = (
            CalendarRevision.objects.filter(pk=1).values_list("revision", flat=True).first() or 0
        )
        if _state["calendar"] is None or revision != _state["revision"]:
            _state["calendar"], _state["revision"] = _load()
        _state["checked"] = now
        return _state["calendar"]  # type: ignore[return-value]


def calendar_invalidate() -> None:
    """Forget the cached calendar in this process (after a change made here)."""
    with _lock:
        _state["calendar"] = None
        _state["revision"] = None
        _state["checked"] = 0.0
