"""The gap in cover and the advice an applicant sees."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.continuity import continuity_assess, gap_months, waiting_months_for


@pytest.mark.parametrize(
    ("stopped", "enrolled", "gap"),
    [
        ("2026-10-31", "2026-11-01", 0),
        ("2026-10-15", "2026-10-20", 0),
        ("2026-06-30", "2026-10-01", 3),
        ("2026-06-30", "2026-11-01", 4),
        ("2022-01-31", "2026-02-01", 48),
        ("2026-11-01", "2026-10-01", 0),
    ],
)
def test_gap_months(stopped, enrolled, gap):
    assert gap_months(dt.date.fromisoformat(stopped), dt.date.fromisoformat(enrolled)) == gap


@pytest.mark.parametrize(
    ("gap", "waiting"), [(0, 0), (3, 0), (4, 3), (12, 3), (13, 4), (25, 5), (37, 6), (120, 6)]
)
def test_waiting_period_grows_a_month_a_year_up_to_six(gap, waiting):
    assert waiting_months_for(gap) == waiting


def test_short_employee_gap_can_be_paid_for():
    c = continuity_assess(
        insurance_type="employee",
        stopped_on=dt.date(2026, 6, 30),
        enrolled_on=dt.date(2026, 9, 1),
    )
    assert (c.gap_months, c.waiting_months, c.advice_code) == (2, 0, "catch_up")
    assert "2" in c.advice


def test_long_gap_means_a_waiting_period():
    c = continuity_assess(
        insurance_type="employee",
        stopped_on=dt.date(2024, 6, 30),
        enrolled_on=dt.date(2026, 9, 1),
    )
    assert (c.gap_months, c.waiting_months, c.advice_code) == (26, 5, "waiting_period")


def test_resident_gap_has_a_waiting_period_even_when_short():
    c = continuity_assess(
        insurance_type="resident",
        stopped_on=dt.date(2026, 6, 30),
        enrolled_on=dt.date(2026, 9, 1),
    )
    assert (c.advice_code, c.waiting_months) == ("waiting_period", 3)


def test_unknown_without_both_dates():
    c = continuity_assess(
        insurance_type="employee", stopped_on=dt.date(2026, 6, 30), enrolled_on=None
    )
    assert (c.gap_months, c.advice_code) == (None, "unknown")


def test_continuous_cover():
    c = continuity_assess(
        insurance_type="resident",
        stopped_on=dt.date(2026, 10, 31),
        enrolled_on=dt.date(2026, 11, 1),
    )
    assert (c.gap_months, c.advice_code) == (0, "continuous")
