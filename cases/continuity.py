"""Continuity of cover: the gap between the stop at source and the enrolment at target.

What an applicant most needs to know (domain.md, "Gaps in cover"): whether the gap can be paid for
and covered retroactively, or whether a waiting period applies.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_CATCH_UP_GAP_MONTHS = 3
BASE_WAITING_MONTHS = 3
MAX_WAITING_MONTHS = 6


@dataclass(frozen=True, slots=True)
class Continuity:
    gap_months: int | None
    waiting_months: int
    advice_code: str
    advice: str


def gap_months(stopped_on: dt.date, enrolled_on: dt.date) -> int:
    """Whole calendar months with no cover: a stop in October and enrolment in November is 0."""
    months = (enrolled_on.year * 12 + enrolled_on.month) - (stopped_on.year * 12 + stopped_on.month)
    return max(0, months - 1)


def waiting_months_for(gap: int) -> int:
    """3 months, plus 1 for each further year of gap, at most 6 (the rule since 2025)."""
    if gap <= MAX_CATCH_UP_GAP_MONTHS:
        return 0
    years = math.ceil(gap / 12)
    return min(MAX_WAITING_MONTHS, BASE_WAITING_MONTHS + max(0, years - 1))


def continuity_assess(
    *, insurance_type: str, stopped_on: dt.date | None, enrolled_on: dt.date | None
) -> Continuity:
    if stopped_on is None or enrolled_on is None:
        return Continuity(
            gap_months=None,
            waiting_months=0,
            advice_code="unknown",
            advice=_(
                "The gap in cover is assessed once both the stop date at the transfer-out agency "
                "and the enrolment date at the transfer-in agency are known."
            ),
        )
    gap = gap_months(stopped_on, enrolled_on)
    if gap == 0:
        return Continuity(
            gap_months=0,
            waiting_months=0,
            advice_code="continuous",
            advice=_("Cover is continuous: there is no gap to pay for."),
        )
    if gap <= MAX_CATCH_UP_GAP_MONTHS and insurance_type == "employee":
        return Continuity(
            gap_months=gap,
            waiting_months=0,
            advice_code="catch_up",
            advice=_(
                "The gap is {gap} month(s): you can pay contributions for it at the transfer-in "
                "agency. Benefits start in the month you pay and the gap months are covered "
                "retroactively."
            ).format(gap=gap),
        )
    waiting = waiting_months_for(gap) or BASE_WAITING_MONTHS
    return Continuity(
        gap_months=gap,
        waiting_months=waiting,
        advice_code="waiting_period",
        advice=_(
            "The gap is {gap} month(s): the transfer-in agency may apply a waiting period of up to "
            "{waiting} month(s) before benefits start. Ask it whether paying for the gap shortens it."
        ).format(gap=gap, waiting=waiting),
    )
