"""The national SLA windows and the per-agency policy that may shorten them.

Every window is a national maximum (医保办发〔2021〕43号): an agency may set a shorter one, never a
longer one.
"""

from __future__ import annotations

from typing import Any, Final

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """A stage is named after the case state during which its clock runs."""

    APPLIED = "applied", _("Transfer-out review")
    MATERIALS_REQUESTED = "materials_requested", _("Waiting for materials")
    TRANSFER_OUT_APPROVED = "transfer_out_approved", _("Transfer-in review")
    TRANSFER_IN_CONFIRMED = "transfer_in_confirmed", _("Personal account transfer")


class Responsible(models.TextChoices):
    FROM_AGENCY = "from_agency", _("Transfer-out agency")
    TO_AGENCY = "to_agency", _("Transfer-in agency")
    APPLICANT = "applicant", _("Applicant")


class IntraProvinceMode(models.TextChoices):
    """How a province runs the moves within it (domain.md "Provinces' own modes"). An
    inter-province case always runs the national process, whatever either province's mode."""

    STANDARD = "standard", _("The national process")
    MERGE = "merge", _("Accounts merged on the provincial platform (no money moves)")
    INSTANT = "instant", _("Completed at submission, settled between the funds later")


class BalancePolicy(models.TextChoices):
    TRANSFER = "transfer", _("Transfer the balance")
    MERGE = "merge", _("Merge accounts (no money moves)")


NATIONAL_TRANSFER_OUT_DAYS: Final = 10
NATIONAL_TRANSFER_IN_DAYS: Final = 5
NATIONAL_BALANCE_DAYS: Final = 5
# Reminders to an applicant who has not sent requested materials (working days).
MATERIALS_REMINDER_DAYS: Final = 5
# Overdue stages are escalated to supervisors after this many further working days by default.
DEFAULT_ESCALATION_DAYS: Final = 2

STAGE_RESPONSIBLE: Final = {
    Stage.APPLIED: Responsible.FROM_AGENCY,
    Stage.MATERIALS_REQUESTED: Responsible.APPLICANT,
    Stage.TRANSFER_OUT_APPROVED: Responsible.TO_AGENCY,
    Stage.TRANSFER_IN_CONFIRMED: Responsible.TO_AGENCY,
}

NATIONAL_WINDOWS: Final = {
    Stage.APPLIED: NATIONAL_TRANSFER_OUT_DAYS,
    Stage.TRANSFER_OUT_APPROVED: NATIONAL_TRANSFER_IN_DAYS,
    Stage.TRANSFER_IN_CONFIRMED: NATIONAL_BALANCE_DAYS,
}


class WindowPolicy:
    """What an agency row must provide for its windows (duck-typed to keep workflow independent)."""

    transfer_out_days: int
    transfer_in_days: int
    balance_days: int


def window_for(stage: str, agency: WindowPolicy | None, rule: Any = None) -> int | None:
    """Working days allowed for ``stage`` at ``agency``, or None for a stage with no agency window.

    ``rule`` is the agency's rule in force for the case (``agencies.rules``): the shortest of the
    rule's window, the agency's own and the national one."""
    national = NATIONAL_WINDOWS.get(Stage(stage))
    if national is None:
        return None
    field = {
        Stage.APPLIED: "transfer_out_days",
        Stage.TRANSFER_OUT_APPROVED: "transfer_in_days",
        Stage.TRANSFER_IN_CONFIRMED: "balance_days",
    }[Stage(stage)]
    # A rule and the agency's own setting only ever shorten the national window.
    candidates = [national]
    if rule is not None and getattr(rule, field, None):
        candidates.append(getattr(rule, field))
    if agency is not None and getattr(agency, field, None):
        candidates.append(getattr(agency, field))
    return min(candidates)
