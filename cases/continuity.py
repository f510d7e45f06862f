"""Continuity of cover: the gap (or the overlap) between the stop at source and the enrolment at
target, and what it means for the applicant.

What an applicant most needs to know (domain.md, "Gaps in cover"): whether the gap can be paid for
and covered retroactively, whether a waiting period applies and how long, or whether they were
insured at both ends at once (a duplicate enrolment: the overlapping months count once).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from django.utils.translation import gettext as _

from agencies.rules import agency_rule_in_force_memo
from workflow.calendar import local_date


@dataclass(frozen=True, slots=True)
class ContinuityRules:
    """The numbers of the waiting-period rules. Per-province data in time (domain.md); this is the
    national reading, and the default."""

    # Employee insurance: a gap of at most this many months can be paid for (补缴), and is then
    # covered retroactively.
    catch_up_max_gap_months: int = 3
    # Employee insurance, longer gaps: the target's local waiting period, "often up to 6 months".
    employee_waiting_months: int = 6
    # Resident insurance since 2025 (国办发〔2024〕38号): 3 fixed months for anyone not
    # continuously insured, plus 1 variable month for each further calendar year without cover,
    # with no upper cap.
    resident_fixed_waiting_months: int = 3
    # Each extra year of contributions paid (缴费修复) removes 1 variable month; after this many
    # years without cover the repaired total stays at least ``resident_repair_floor_months``.
    resident_repair_floor_years: int = 4
    resident_repair_floor_months: int = 6


NATIONAL: Final = ContinuityRules()

UNKNOWN: Final = "unknown"
CONTINUOUS: Final = "continuous"
CATCH_UP: Final = "catch_up"
WAITING_PERIOD: Final = "waiting_period"
DUPLICATE_ENROLMENT: Final = "duplicate_enrolment"
ADVICE_CODES: Final = (UNKNOWN, CONTINUOUS, CATCH_UP, WAITING_PERIOD, DUPLICATE_ENROLMENT)


@dataclass(frozen=True, slots=True)
class Continuity:
    gap_months: int | None
    overlap_months: int
    waiting_months: int
    advice_code: str
    advice: str


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def gap_months(stopped_on: dt.date, enrolled_on: dt.date) -> int:
    """Whole calendar months with no cover: a stop in October and enrolment in November is 0;
    enrolment before the stop (an overlap) is 0 too, see ``overlap_months``."""
    return max(0, _month_index(enrolled_on) - _month_index(stopped_on) - 1)


def overlap_months(stopped_on: dt.date, enrolled_on: dt.date) -> int:
    """Months insured at both ends at once: enrolled at target before cover stopped at source,
    counted from the month of enrolment to the month of the stop, both included."""
    if enrolled_on >= stopped_on:
        return 0
    return _month_index(stopped_on) - _month_index(enrolled_on) + 1


def years_without_cover(stopped_on: dt.date, enrolled_on: dt.date) -> int:
    """Calendar years (resident insurance's insurance years) entirely inside the gap."""
    first_uncovered = _month_index(stopped_on) + 1
    last_uncovered = _month_index(enrolled_on) - 1
    first_full_year = (first_uncovered + 11) // 12  # the first January at or after it
    last_full_year = (last_uncovered + 1) // 12 - 1  # the last December at or before it
    return max(0, last_full_year - first_full_year + 1)


def resident_waiting_months(
    years: int, rules: ContinuityRules = NATIONAL, *, years_repaired: int = 0
) -> int:
    """3 months, plus 1 for each further year without cover (5 years: 7), no cap; each year of
    contributions paid back removes 1 of the added months, and after 4 or more years without
    cover the repaired total stays at least 6 (5 years, 3 repaired: 6, not 4)."""
    added = max(0, years - 1)
    unrepaired = rules.resident_fixed_waiting_months + added
    repaired = min(max(0, years_repaired), added)
    waiting = unrepaired - repaired
    if repaired and years >= rules.resident_repair_floor_years:
        # The floor limits what repair removes; it never makes the wait longer than without.
        waiting = max(waiting, min(rules.resident_repair_floor_months, unrepaired))
    return waiting


def continuity_assess(
    *,
    insurance_type: str,
    stopped_on: dt.date | None,
    enrolled_on: dt.date | None,
    rules: ContinuityRules = NATIONAL,
    years_repaired: int = 0,
) -> Continuity:
    if stopped_on is None or enrolled_on is None:
        return Continuity(
            gap_months=None,
            overlap_months=0,
            waiting_months=0,
            advice_code=UNKNOWN,
            advice=_(
                "The gap in cover is assessed once both the stop date at the transfer-out agency "
                "and the enrolment date at the transfer-in agency are known."
            ),
        )
    overlap = overlap_months(stopped_on, enrolled_on)
    if overlap:
        return Continuity(
            gap_months=0,
            overlap_months=overlap,
            waiting_months=0,
            advice_code=DUPLICATE_ENROLMENT,
            advice=_(
                "You were insured at both ends at once for {months} month(s): a duplicate "
                "enrolment. Those months count once; the personal contributions paid twice for "
                "them can be refunded by the agency whose cover ends."
            ).format(months=overlap),
        )
    gap = gap_months(stopped_on, enrolled_on)
    if gap == 0:
        return Continuity(
            gap_months=0,
            overlap_months=0,
            waiting_months=0,
            advice_code=CONTINUOUS,
            advice=_("Cover is continuous: there is no gap to pay for."),
        )
    if insurance_type == "employee":
        if gap <= rules.catch_up_max_gap_months:
            return Continuity(
                gap_months=gap,
                overlap_months=0,
                waiting_months=0,
                advice_code=CATCH_UP,
                advice=_(
                    "The gap is {gap} month(s): you can pay contributions for it at the "
                    "transfer-in agency. Benefits start in the month you pay and the gap months "
                    "are covered retroactively."
                ).format(gap=gap),
            )
        waiting = rules.employee_waiting_months
        advice = _(
            "The gap is {gap} month(s), more than {limit}: the transfer-in agency's waiting period "
            "applies, up to {waiting} month(s) before benefits start. Ask it whether paying for "
            "the gap shortens it."
        ).format(gap=gap, limit=rules.catch_up_max_gap_months, waiting=waiting)
    else:
        years = years_without_cover(stopped_on, enrolled_on)
        waiting = resident_waiting_months(years, rules, years_repaired=years_repaired)
        advice = _(
            "The gap is {gap} month(s), {years} full year(s) without cover: resident insurance "
            "has a waiting period of {waiting} month(s) before benefits start ({fixed} fixed, plus "
            "1 for each further year without cover). Each extra year of contributions paid "
            "removes 1 of the added months."
        ).format(gap=gap, years=years, waiting=waiting, fixed=rules.resident_fixed_waiting_months)
        if years_repaired:
            advice += " " + _("Contributions paid back for {repaired} year(s) are counted.").format(
                repaired=years_repaired
            )
    return Continuity(
        gap_months=gap,
        overlap_months=0,
        waiting_months=waiting,
        advice_code=WAITING_PERIOD,
        advice=advice,
    )


def rules_from(rule: Any) -> ContinuityRules:
    """An agency rule's waiting-period numbers, the national reading where it leaves them empty."""
    if rule is None:
        return NATIONAL
    return ContinuityRules(
        catch_up_max_gap_months=_or(rule.catch_up_max_gap_months, NATIONAL.catch_up_max_gap_months),
        employee_waiting_months=_or(rule.employee_waiting_months, NATIONAL.employee_waiting_months),
        resident_fixed_waiting_months=_or(
            rule.resident_fixed_waiting_months, NATIONAL.resident_fixed_waiting_months
        ),
        resident_repair_floor_months=_or(
            rule.resident_repair_floor_months, NATIONAL.resident_repair_floor_months
        ),
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def merge_continuity(case: Any) -> Continuity:
    """A merge: the person is insured at both ends until the cancellation, so there is no gap;
    the months enrolled twice are the cancelling agency's figure once recorded, else estimated
    from the later of the two enrolment dates to the cancellation (or today)."""
    months = case.overlap_months
    if months is None:
        starts = [d for d in (case.enrolled_at_target_on, case.enrolled_at_source_since) if d]
        end = case.stopped_at_source_on or local_date(case.closed_at or case.updated_at)
        months = overlap_months(end, max(starts)) if starts else 0
    return Continuity(
        gap_months=0,
        overlap_months=months,
        waiting_months=0,
        advice_code=DUPLICATE_ENROLMENT,
        advice=_(
            "You hold two relationships at once: the one at the keeping agency stays, the other "
            "is cancelled and its months and balance move to the one kept. The {months} month(s) "
            "enrolled at both places count once; the personal contributions paid twice for them "
            "are refunded by the cancelling agency."
        ).format(months=months),
    )


def case_continuity(case: Any) -> Continuity:
    """The case's continuity, judged at the target: its insurance type and the numbers of the
    transfer-in agency's rule in force when the case was submitted."""
    if getattr(case, "kind", "") == "merge":
        return merge_continuity(case)
    rule = agency_rule_in_force_memo(case.to_agency_id, local_date(case.created_at))
    return continuity_assess(
        insurance_type=case.target_insurance_type,
        stopped_on=case.stopped_at_source_on,
        enrolled_on=case.enrolled_at_target_on,
        rules=rules_from(rule),
        years_repaired=case.resident_years_repaired or 0,
    )
