"""The state machine's vocabulary: states, their labels, actions, reason codes.

The transitions themselves are declared on ``TransferCase`` (cases/models.py), next to the field
they move; this module holds the names both the models and the API use.
"""

from __future__ import annotations

from typing import Final

from django.db import models
from django.utils.translation import gettext_lazy as _

from agencies.policies import Stage


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """A choice's label in the active language; the raw value for one not (or no longer) listed."""
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class CaseState(models.TextChoices):
    APPLIED = "applied", _("Applied (transfer-out review)")
    MATERIALS_REQUESTED = "materials_requested", _("Materials requested")
    TRANSFER_OUT_APPROVED = "transfer_out_approved", _("Transferred out (transfer-in review)")
    TRANSFER_IN_CONFIRMED = "transfer_in_confirmed", _("Transferred in (personal account moving)")
    BALANCE_MOVED = "balance_moved", _("Completed (personal account moved)")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATES: Final = (
    CaseState.APPLIED,
    CaseState.MATERIALS_REQUESTED,
    CaseState.TRANSFER_OUT_APPROVED,
    CaseState.TRANSFER_IN_CONFIRMED,
)
TERMINAL_STATES: Final = (CaseState.BALANCE_MOVED, CaseState.REJECTED, CaseState.WITHDRAWN)

# The stage whose clock runs while a case is in an open state.
STATE_STAGE: Final = {
    CaseState.APPLIED: Stage.APPLIED,
    CaseState.MATERIALS_REQUESTED: Stage.MATERIALS_REQUESTED,
    CaseState.TRANSFER_OUT_APPROVED: Stage.TRANSFER_OUT_APPROVED,
    CaseState.TRANSFER_IN_CONFIRMED: Stage.TRANSFER_IN_CONFIRMED,
}


class Action(models.TextChoices):
    """Public action names (the API's ``/transitions/{action}/``) plus the system's own."""

    SUBMIT = "submit", _("Submit")
    APPROVE_TRANSFER_OUT = "approve_transfer_out", _("Approve transfer out")
    REQUEST_MATERIALS = "request_materials", _("Request materials")
    RESUBMIT_MATERIALS = "resubmit_materials", _("Resubmit materials")
    CONFIRM_TRANSFER_IN = "confirm_transfer_in", _("Confirm transfer in")
    MOVE_BALANCE = "move_balance", _("Credit the personal account")
    PAY_OUT_BALANCE = "pay_out_balance", _("Pay out the balance to the person")
    COMPLETE_WITHOUT_BALANCE = "complete_without_balance", _("Completed without a balance step")
    REJECT = "reject", _("Reject")
    WITHDRAW = "withdraw", _("Withdraw")
    DEADLINE_RECOMPUTED = "deadline_recomputed", _("Deadline recomputed")
    ASSIGN = "assign", _("Assign")
    ATTACH = "attach", _("Attachment added")


# Actions a user may request; the others are recorded by the system.
USER_ACTIONS: Final = (
    Action.APPROVE_TRANSFER_OUT,
    Action.REQUEST_MATERIALS,
    Action.RESUBMIT_MATERIALS,
    Action.CONFIRM_TRANSFER_IN,
    Action.MOVE_BALANCE,
    Action.PAY_OUT_BALANCE,
    Action.REJECT,
    Action.WITHDRAW,
)

# Actions that stop a stage's clock without completing the stage: the supervisor statistics do not
# count them (a request for materials, on time as it usually is, would otherwise improve the
# agency's on-time rate with every request).
STOPS_WITHOUT_COMPLETING: Final = frozenset({Action.REQUEST_MATERIALS})


class RejectReason(models.TextChoices):
    NOT_STOPPED_AT_SOURCE = "not_stopped_at_source", _("Not stopped at the transfer-out agency")
    NOT_ENROLLED_AT_TARGET = "not_enrolled_at_target", _("Not enrolled at the transfer-in agency")
    ARREARS = "arrears", _("Contributions in arrears")
    DUPLICATE_ENROLMENT = "duplicate_enrolment", _("Enrolled twice")
    RETIRED = "retired", _("Retired (outside the transfer rules)")
    INELIGIBLE_BY_LOCAL_RULE = "ineligible_by_local_rule", _("Ineligible under a local rule")
    OTHER = "other", _("Other")


class BalanceOutcome(models.TextChoices):
    """What became of the personal account balance (domain.md "The balance")."""

    MOVED = "moved", _("Credited at the transfer-in agency")
    MERGED = "merged", _("Accounts merged within the province")
    PAID_OUT = "paid_out", _("Paid out to the person")
    NONE = "none", _("No balance to move")


class InsuranceType(models.TextChoices):
    EMPLOYEE = "employee", _("Employee basic medical insurance")
    RESIDENT = "resident", _("Urban and rural resident medical insurance")


class Scope(models.TextChoices):
    INTRA_PROVINCE = "intra_province", _("Within a province")
    INTER_PROVINCE = "inter_province", _("Between provinces")


class Channel(models.TextChoices):
    APP = "app", _("National platform app")
    PROVINCIAL_APP = "provincial_app", _("Provincial app")
    WECHAT = "wechat", _("WeChat")
    ALIPAY = "alipay", _("Alipay")
    WINDOW = "window", _("Service window")
    EMPLOYER = "employer", _("Employer")
    # 免申转: the provincial platform started the transfer on the person's behalf when they enrolled
    # at the new place (a platform account's submission only).
    AUTO = "auto", _("Started automatically by the provincial platform")


class CaseKind(models.TextChoices):
    """A transfer moves a relationship that has stopped; a merge cancels one of two relationships
    the person holds at once and keeps the other (domain.md "Several relationships at once")."""

    TRANSFER = "transfer", _("Transfer")
    MERGE = "merge", _("Merge (duplicate enrolment)")


class MainBasis(models.TextChoices):
    """Why a merge keeps the relationship it keeps (domain.md: employee over resident; between two
    of one type, where the person works or lives now, as the person confirms)."""

    EMPLOYEE_OVER_RESIDENT = "employee_over_resident", _("Employee insurance is kept over resident")
    WORKS_THERE = "works_there", _("The person works at the keeping agency's place now")
    LIVES_THERE = "lives_there", _("The person lives at the keeping agency's place now")


# A merge's own words where a transfer says "out" and "in" (domain.md: 原参保关系已注销 for
# transfer_out_approved). Every face asks ``state_label``/``action_label``/``stage_label``.
MERGE_STATE_LABELS: Final = {
    CaseState.APPLIED: _("Applied (cancelling agency's check)"),
    CaseState.TRANSFER_OUT_APPROVED: _(
        "Original relationship cancelled (keeping agency confirming)"
    ),
    CaseState.TRANSFER_IN_CONFIRMED: _("Relationship kept (personal account moving)"),
    CaseState.BALANCE_MOVED: _("Completed (relationships merged)"),
}
MERGE_ACTION_LABELS: Final = {
    Action.APPROVE_TRANSFER_OUT: _("Cancel the duplicate relationship"),
    Action.CONFIRM_TRANSFER_IN: _("Confirm the kept relationship"),
}
MERGE_STAGE_LABELS: Final = {
    Stage.APPLIED: _("Cancelling agency's check"),
    Stage.TRANSFER_OUT_APPROVED: _("Keeping agency's confirmation"),
}


def state_label(state: str, kind: str = CaseKind.TRANSFER) -> str:
    """The state's label for a case of ``kind``, in the active language."""
    if kind == CaseKind.MERGE and state in MERGE_STATE_LABELS:
        return str(MERGE_STATE_LABELS[state])
    return choice_label(CaseState, state)


def action_label(action: str, kind: str = CaseKind.TRANSFER) -> str:
    if kind == CaseKind.MERGE and action in MERGE_ACTION_LABELS:
        return str(MERGE_ACTION_LABELS[action])
    return choice_label(Action, action)


def stage_label(stage: str, kind: str = CaseKind.TRANSFER) -> str:
    if kind == CaseKind.MERGE and stage in MERGE_STAGE_LABELS:
        return str(MERGE_STAGE_LABELS[stage])
    return choice_label(Stage, stage)


def agency_side_labels(kind: str = CaseKind.TRANSFER) -> tuple[str, str]:
    """What the two agencies are called on a case of ``kind``: (from, to)."""
    if kind == CaseKind.MERGE:
        return str(_("Cancelling agency")), str(_("Keeping agency"))
    return str(_("Transfer-out agency")), str(_("Transfer-in agency"))
