"""P6: working-day arithmetic in process (quality.md: >= 500,000/s, no per-call database query).

Builds the ``WorkingDayCalendar`` straight from the ``chinesecalendar`` package (2004-2026, the
same days ``calendar_sync`` stores), so no database or Django setup is needed: the engine is the
code under test and ``get_calendar()`` only hands out such an instance (its zero-query hot path is
pinned by tests/workflow/test_calendar.py). Then times, over the same random (start, n) pairs:

- ``add_working_days(date, n)``: the date arithmetic alone;
- ``deadline(aware datetime, n)``: what a request pays: local date in Asia/Shanghai, the
  arithmetic, the end-of-day instant and the ``Deadline`` object. The instants are UTC, as
  ``timezone.now()`` and PostgreSQL give them; a third line repeats it with the same instants in
  Asia/Shanghai.

Run: ``.venv/bin/python bench/bench_workdays.py [--pairs 2000000] [--runs 5]``
Prints the median calls per second of the runs for each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import chinese_calendar

from workflow.calendar import SHANGHAI, WorkingDayCalendar

TARGET = 500_000
FIRST = dt.date(2004, 1, 1)
LAST = dt.date(2026, 12, 31)


def build_calendar() -> WorkingDayCalendar:
    days = (FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1))
    return WorkingDayCalendar.from_days((d, chinese_calendar.is_workday(d)) for d in days)


def make_pairs(count: int, seed: int) -> tuple[list[dt.date], list[dt.datetime], list[int]]:
    """Random starts over the published years (and a little beyond, to include provisional
    deadlines), as dates and as aware UTC instants at any time of day, with windows of 1-30."""
    rng = random.Random(seed)
    span = int((LAST - FIRST).total_seconds()) + 30 * 86400
    base = dt.datetime.combine(FIRST, dt.time(), tzinfo=SHANGHAI).astimezone(dt.UTC)
    instants = [base + dt.timedelta(seconds=rng.randrange(span)) for _ in range(count)]
    dates = [i.astimezone(SHANGHAI).date() for i in instants]
    windows = [rng.choice((5, 10, 5, 10, 1, 2, 3, 15, 20, 30)) for _ in range(count)]
    return dates, instants, windows


def rate(fn: Callable[[Any, int], object], starts: Sequence[Any], windows: list[int]) -> float:
    t0 = time.perf_counter()
    for start, n in zip(starts, windows, strict=True):
        fn(start, n)
    return len(starts) / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()

    t0 = time.perf_counter()
    calendar = build_calendar()
    build_s = time.perf_counter() - t0
    dates, instants, windows = make_pairs(args.pairs, args.seed)

    # The two measures agree on every pair, so the faster path is not skipping work.
    sample = range(0, args.pairs, max(1, args.pairs // 10_000))
    for i in sample:
        due_on, provisional = calendar.add_working_days(dates[i], windows[i])
        deadline = calendar.deadline(instants[i], windows[i])
        assert (deadline.due_on, deadline.provisional) == (due_on, provisional)

    local_instants = [i.astimezone(SHANGHAI) for i in instants]
    add_rates, deadline_rates, local_rates = [], [], []
    for _ in range(args.runs):
        add_rates.append(rate(calendar.add_working_days, dates, windows))
        deadline_rates.append(rate(calendar.deadline, instants, windows))
        local_rates.append(rate(calendar.deadline, local_instants, windows))

    deadline_median = statistics.median(deadline_rates)
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.node()}")
    print(f"calendar built from chinesecalendar {chinese_calendar.__version__} in {build_s:.2f} s")
    print(f"{args.pairs:,} random (start, n) pairs, {args.runs} runs, median calls per second:")
    for name, rates in (
        ("add_working_days", add_rates),
        ("deadline (UTC)", deadline_rates),
        ("deadline (+08:00)", local_rates),
    ):
        median = statistics.median(rates)
        verdict = "ok" if median >= TARGET else f"BELOW the {TARGET:,}/s target"
        runs = ", ".join(f"{r:,.0f}" for r in rates)
        print(f"  {name:<18} {median:>12,.0f}/s  {verdict}  (runs: {runs})")
    return 0 if deadline_median >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
