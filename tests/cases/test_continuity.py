"""The gap (or overlap) in cover and the advice an applicant sees (domain.md "Gaps in cover").

Issue 9 defect 4: the resident waiting period was capped at 6 months (the rule has no cap: 5 years
without cover is 7), and enrolment at the target before the stop at source was "continuous".
"""

from __future__ import annotations

import datetime as dt

import pytest

from cases.continuity import (
    ContinuityRules,
    continuity_assess,
    gap_months,
    overlap_months,
    resident_waiting_months,
    years_without_cover,
)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


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
    assert gap_months(d(stopped), d(enrolled)) == gap


@pytest.mark.parametrize(
    ("stopped", "enrolled", "overlap"),
    [
        ("2026-10-31", "2026-11-01", 0),
        ("2026-10-15", "2026-10-15", 0),
        ("2026-10-20", "2026-10-15", 1),
        ("2026-05-31", "2026-03-15", 3),
        ("2026-01-31", "2025-12-01", 2),
    ],
)
def test_overlap_months(stopped, enrolled, overlap):
    assert overlap_months(d(stopped), d(enrolled)) == overlap


@pytest.mark.parametrize(
    ("stopped", "enrolled", "years"),
    [
        ("2020-12-31", "2026-01-01", 5),
        ("2024-06-30", "2026-07-01", 1),
        ("2026-06-30", "2026-09-01", 0),
        ("2024-12-31", "2026-01-01", 1),
        ("2015-12-31", "2026-01-01", 10),
    ],
)
def test_years_without_cover_are_whole_calendar_years(stopped, enrolled, years):
    assert years_without_cover(d(stopped), d(enrolled)) == years


@pytest.mark.parametrize(("years", "waiting"), [(0, 3), (1, 3), (2, 4), (4, 6), (5, 7), (10, 12)])
def test_the_resident_waiting_period_has_no_cap(years, waiting):
    assert resident_waiting_months(years) == waiting


def test_five_years_without_resident_cover_is_seven_months():
    c = continuity_assess(
        insurance_type="resident", stopped_on=d("2020-12-31"), enrolled_on=d("2026-01-01")
    )
    assert (c.gap_months, c.waiting_months, c.advice_code) == (60, 7, "waiting_period")
    assert "7" in c.advice
    assert "5" in c.advice


def test_enrolment_before_the_stop_is_a_duplicate_enrolment_not_continuous():
    c = continuity_assess(
        insurance_type="employee", stopped_on=d("2026-05-31"), enrolled_on=d("2026-03-15")
    )
    assert (c.advice_code, c.overlap_months, c.gap_months, c.waiting_months) == (
        "duplicate_enrolment",
        3,
        0,
        0,
    )
    assert "3" in c.advice


def test_short_employee_gap_can_be_paid_for():
    c = continuity_assess(
        insurance_type="employee", stopped_on=d("2026-06-30"), enrolled_on=d("2026-09-01")
    )
    assert (c.gap_months, c.waiting_months, c.advice_code) == (2, 0, "catch_up")
    assert "2" in c.advice


def test_a_long_employee_gap_means_the_targets_waiting_period():
    c = continuity_assess(
        insurance_type="employee", stopped_on=d("2024-06-30"), enrolled_on=d("2026-09-01")
    )
    assert (c.gap_months, c.waiting_months, c.advice_code) == (26, 6, "waiting_period")


def test_the_numbers_are_data():
    rules = ContinuityRules(catch_up_max_gap_months=6, employee_waiting_months=3)
    c = continuity_assess(
        insurance_type="employee",
        stopped_on=d("2026-01-31"),
        enrolled_on=d("2026-07-01"),
        rules=rules,
    )
    assert (c.gap_months, c.advice_code) == (5, "catch_up")


def test_resident_gap_has_a_waiting_period_even_when_short():
    c = continuity_assess(
        insurance_type="resident", stopped_on=d("2026-06-30"), enrolled_on=d("2026-09-01")
    )
    assert (c.advice_code, c.waiting_months) == ("waiting_period", 3)


def test_unknown_without_both_dates():
    c = continuity_assess(insurance_type="employee", stopped_on=d("2026-06-30"), enrolled_on=None)
    assert (c.gap_months, c.advice_code) == (None, "unknown")


def test_continuous_cover():
    c = continuity_assess(
        insurance_type="resident", stopped_on=d("2026-10-31"), enrolled_on=d("2026-11-01")
    )
    assert (c.gap_months, c.overlap_months, c.advice_code) == (0, 0, "continuous")
