"""The transfer case and its audit trail. The state machine lives here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.permissions import user_acts_for, user_may_credit_balance, user_owns
from agencies.models import Agency
from agencies.policies import (
    STAGE_RESPONSIBLE,
    BalancePolicy,
    IntraProvinceMode,
    Responsible,
    Stage,
    window_for,
)
from agencies.rules import agency_rule_in_force, agency_rule_in_force_memo
from cases.inputs import NOTE_MAX_LENGTH
from cases.states import (
    OPEN_STATES,
    STATE_STAGE,
    BalanceOutcome,
    CaseKind,
    CaseState,
    Channel,
    InsuranceType,
    MainBasis,
    RejectReason,
    Scope,
    action_label,
    state_label,
)
from core.identity import NAME_MAX_LENGTH
from workflow.calendar import local_date

# --- who may move a case -------------------------------------------------------------------------
# Permission callables for django-fsm: (case, user) -> bool. Each asks accounts.permissions, the one
# place those rules live, about the side of the case whose move it is.


def can_act_for_from_agency(case: TransferCase, user: Any) -> bool:
    return user_acts_for(user, case.from_agency_id)


def can_act_for_to_agency(case: TransferCase, user: Any) -> bool:
    return user_acts_for(user, case.to_agency_id)


def can_move_balance(case: TransferCase, user: Any) -> bool:
    return user_may_credit_balance(user, case.to_agency_id)


def can_reject(case: TransferCase, user: Any) -> bool:
    """The agency whose move it is: transfer-out while applied, transfer-in after approval."""
    return user_acts_for(user, case.responsible_agency_code())


def can_resubmit(case: TransferCase, user: Any) -> bool:
    """The applicant, or staff of either agency bringing the materials in on their behalf."""
    return (
        user_owns(user, case.id_number_digest)
        or can_act_for_from_agency(case, user)
        or can_act_for_to_agency(case, user)
    )


def can_withdraw(case: TransferCase, user: Any) -> bool:
    return user_owns(user, case.id_number_digest)


def system_only(case: TransferCase, user: Any) -> bool:
    """Steps the system records on its own; no user may ask for them."""
    return False


class TransferCaseQuerySet(models.QuerySet):
    def open(self) -> TransferCaseQuerySet:
        return self.filter(state__in=OPEN_STATES)


class TransferCase(ConcurrentTransitionMixin, models.Model):
    """One application to move a person's basic medical insurance relationship.

    ``state`` is protected: only the transitions below change it, and ``ConcurrentTransitionMixin``
    turns the save into ``UPDATE ... WHERE state = <the state we read>`` so two concurrent moves of
    the same case cannot both succeed. Transitions change fields only; services save, open and
    close clocks, write events and notifications.
    """

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    state = FSMField(
        _("state"),
        default=CaseState.APPLIED,
        choices=CaseState.choices,
        protected=True,
        max_length=30,
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    kind = models.CharField(
        _("case kind"), max_length=10, choices=CaseKind.choices, default=CaseKind.TRANSFER
    )
    # The province's intra-province mode the case runs by, as in force on the day it was submitted
    # (always standard between provinces): recorded once, so a later change never moves it.
    mode = models.CharField(
        _("mode"),
        max_length=10,
        choices=IntraProvinceMode.choices,
        default=IntraProvinceMode.STANDARD,
        editable=False,
    )
    # A merge: why the relationship at the keeping agency is the one kept.
    main_basis = models.CharField(
        _("why this relationship is kept"), max_length=30, choices=MainBasis.choices, blank=True
    )

    insurance_type = models.CharField(
        _("insurance type"), max_length=10, choices=InsuranceType.choices
    )
    # The type the person joins at the target (a cross-type move when it differs; domain.md).
    target_insurance_type = models.CharField(
        _("insurance type at the target"), max_length=10, choices=InsuranceType.choices
    )
    from_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="cases_out",
        verbose_name=_("transfer-out agency"),
    )
    to_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="cases_in",
        verbose_name=_("transfer-in agency"),
    )
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, editable=False)
    # The two leading digits of each agency code, so province-wide views are an index probe.
    from_province = models.CharField(_("transfer-out province"), max_length=2, editable=False)
    to_province = models.CharField(_("transfer-in province"), max_length=2, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)

    applicant_name = models.CharField(_("applicant's name"), max_length=NAME_MAX_LENGTH)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), editable=False)
    id_number_digest = models.CharField(
        _("ID number digest"), max_length=64, db_index=True, editable=False
    )
    id_number_masked = models.CharField(_("ID number (masked)"), max_length=18, editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="own_cases",
        help_text=_("The applicant's own account, when they applied themselves"),
        verbose_name=_("applicant's account"),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submitted_cases",
        verbose_name=_("submitted by"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )

    stopped_at_source_on = models.DateField(_("cover stopped at source on"), null=True, blank=True)
    # The start of the enrolment period at source, as the transfer-out agency records it on the
    # information form (a merge's intake states it: the person is still enrolled there).
    enrolled_at_source_since = models.DateField(
        _("enrolled at source since"), null=True, blank=True
    )
    enrolled_at_target_on = models.DateField(_("enrolled at target on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=NOTE_MAX_LENGTH)

    # The information form (参保人员基本医疗保险信息表), filled in at transfer-out approval: months
    # actually paid (实际缴费月数), deemed months (视同缴费月数), the balance and the interest the
    # transfer-out agency declared on it (recorded apart), and its statement of no arrears.
    contribution_months = models.PositiveIntegerField(
        _("contribution months"), null=True, blank=True
    )
    deemed_months = models.PositiveIntegerField(_("deemed months"), null=True, blank=True)
    personal_account_balance = models.DecimalField(
        _("personal account balance"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    interest = models.DecimalField(
        _("interest declared"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    no_arrears = models.BooleanField(_("no arrears"), null=True, blank=True)
    # A duplicate enrolment (a merge, or a transfer with an overlap): the months insured at both
    # ends, as the cancelling agency recorded them (a merge), and the refund of the personal
    # contributions paid twice for them.
    overlap_months = models.PositiveIntegerField(_("months enrolled twice"), null=True, blank=True)
    refund_amount = models.DecimalField(
        _("refund of duplicate contributions"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
    )
    # Recorded by the transfer-in agency on confirming: the months the person already had there
    # in the target insurance type, so the case can show the cumulative total at the target.
    months_at_target = models.PositiveIntegerField(
        _("months already at the target"), null=True, blank=True
    )
    # Resident insurance: years of contributions paid back at the target (缴费修复), recorded on
    # confirming; each removes a month of the waiting period.
    resident_years_repaired = models.PositiveSmallIntegerField(
        _("years of contributions paid back"), default=0
    )
    balance_received = models.DecimalField(
        _("balance received"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    balance_paid_out = models.DecimalField(
        _("balance paid out"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    missing_materials = models.JSONField(_("missing materials"), default=list, blank=True)
    # 一次性告知: how many times materials were asked for; every request after the first is a
    # repeat, counted against the agency (domain.md "Materials: one notice, once").
    materials_requests = models.PositiveSmallIntegerField(
        _("materials requests"), default=0, editable=False
    )
    reject_reason = models.CharField(
        _("reason for rejection"), max_length=30, choices=RejectReason.choices, blank=True
    )

    created_at = models.DateTimeField(_("submitted at"))
    updated_at = models.DateTimeField(_("updated at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = TransferCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("transfer case")
        verbose_name_plural = _("transfer cases")
        constraints = [
            models.CheckConstraint(
                name="case_agencies_differ", condition=~Q(from_agency=F("to_agency"))
            ),
            models.CheckConstraint(
                name="case_balance_not_negative",
                condition=Q(personal_account_balance__isnull=True)
                | Q(personal_account_balance__gte=Decimal("0")),
            ),
            models.CheckConstraint(
                name="case_refund_not_negative",
                condition=Q(refund_amount__isnull=True) | Q(refund_amount__gte=Decimal("0")),
            ),
            models.CheckConstraint(
                name="case_received_not_negative",
                condition=Q(balance_received__isnull=True) | Q(balance_received__gte=Decimal("0")),
            ),
            # Nobody may be insured twice: one open case per person and insurance type.
            models.UniqueConstraint(
                fields=["id_number_digest", "insurance_type"],
                condition=Q(state__in=[str(state) for state in OPEN_STATES]),
                name="one_open_case_per_person_and_type",
            ),
            # An instant case closes in the transaction that opens it, so the constraint above
            # never sees two at once: this one stops the same relationship (person, type,
            # source, stop date) moving twice, however many submissions race.
            models.UniqueConstraint(
                fields=[
                    "id_number_digest",
                    "insurance_type",
                    "from_agency",
                    "stopped_at_source_on",
                ],
                condition=Q(mode=IntraProvinceMode.INSTANT),
                name="one_instant_transfer_per_relationship",
            ),
        ]
        indexes = [
            models.Index(fields=["from_agency", "state"], name="case_from_state"),
            models.Index(fields=["to_agency", "state"], name="case_to_state"),
            models.Index(fields=["from_province", "state"], name="case_from_province_state"),
            models.Index(fields=["to_province", "state"], name="case_to_province_state"),
            # Who holds the open cases (the dashboard's load per caseworker): an index of the open
            # cases only, so reading it costs what is open, never the history.
            models.Index(
                fields=["assignee", "id"],
                name="case_open_assignee",
                condition=Q(state__in=[str(state) for state in OPEN_STATES]),
            ),
        ]

    def __str__(self) -> str:
        # Never the plain ID number: this string reaches logs and the admin.
        return f"{self.reference} {self.id_number_masked}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def state_label(self) -> str:
        """The state in words for the case's kind (a merge says cancelled and kept)."""
        return state_label(self.state, self.kind)

    @property
    def is_merge(self) -> bool:
        return self.kind == CaseKind.MERGE

    @property
    def is_instant(self) -> bool:
        return self.mode == IntraProvinceMode.INSTANT

    @property
    def merges_accounts(self) -> bool:
        """The accounts are merged, no money moves: an intra-province case whose transfer-in
        agency merges. Never an inter-province one, whatever that agency's policy: the balance
        crosses funds and must be tracked (domain.md; issue 9 defect 2)."""
        return (
            self.scope == Scope.INTRA_PROVINCE
            and (
                self.mode == IntraProvinceMode.MERGE
                or self.to_agency.balance_policy == BalancePolicy.MERGE
            )
            # Merging needs an account at the target: into resident insurance it is paid out.
            and self.target_insurance_type == InsuranceType.EMPLOYEE
        )

    @property
    def expects_balance_step(self) -> bool:
        """Whether a balance stage is (still) to come: employee insurance, accounts not merged,
        and a positive balance (or none recorded yet: before approval it is unknown)."""
        due = self.balance_due
        return (
            self.insurance_type == InsuranceType.EMPLOYEE
            and not self.merges_accounts
            # Interest declared on a zero balance still has to arrive.
            and (due is None or due > 0)
        )

    @property
    def has_balance_step(self) -> bool:
        """Whether money must move, once the information form says how much."""
        return self.expects_balance_step and self.personal_account_balance is not None

    @property
    def balance_accepted(self) -> bool:
        """Whether the target credits the balance to a personal account; otherwise it is paid out
        to the person (个人账户提取). Resident insurance keeps no personal account, unless the
        target's rule in force when the case was submitted says it keeps one for people moving in
        from employee insurance; and that rule may take no balances at all."""
        rule = agency_rule_in_force(self.to_agency_id, local_date(self.created_at))
        if self.target_insurance_type != InsuranceType.EMPLOYEE and not (
            rule is not None and rule.resident_keeps_personal_account
        ):
            return False
        return rule is None or rule.accepts_balance

    @property
    def balance_due(self) -> Decimal | None:
        """What must arrive (or be paid out), to the fen: the form's balance plus the interest
        the transfer-out agency declared on it."""
        if self.personal_account_balance is None:
            return None
        return self.personal_account_balance + (self.interest or Decimal("0.00"))

    @property
    def cumulative_months(self) -> int | None:
        """Months paid plus deemed months: what the information form carries to the target."""
        if self.contribution_months is None:
            return None
        return self.contribution_months + (self.deemed_months or 0)

    @property
    def balance_outcome(self) -> str | None:
        """What became of the balance, once the case is done (None before)."""
        if self.state != CaseState.BALANCE_MOVED:
            return None
        if self.balance_paid_out is not None:
            return BalanceOutcome.PAID_OUT
        if self.balance_received is not None:
            return BalanceOutcome.MOVED
        if self.merges_accounts and (self.balance_due or 0) > 0:
            return BalanceOutcome.MERGED
        return BalanceOutcome.NONE

    def stage_agency(self, stage: str) -> Agency | None:
        """The agency responsible for ``stage`` (``STAGE_RESPONSIBLE``); None for the applicant's."""
        responsible = STAGE_RESPONSIBLE[Stage(stage)]
        if responsible == Responsible.FROM_AGENCY:
            return self.from_agency
        if responsible == Responsible.TO_AGENCY:
            return self.to_agency
        return None

    def stage_window(self, stage: str, *, exact: bool = True) -> int | None:
        """Working days for ``stage``: the responsible agency's rule in force when the case was
        submitted (a shorter window it sets), else the agency's own, never over the national.
        ``exact=False`` reads the rule through the per-process memo (reads, not writes)."""
        agency = self.stage_agency(stage)
        if agency is None:
            return window_for(stage, None)
        lookup = agency_rule_in_force if exact else agency_rule_in_force_memo
        return window_for(stage, agency, lookup(agency.code, local_date(self.created_at)))

    def responsible_agency_code(self, state: str | None = None) -> str | None:
        """The code of the agency whose move it is in ``state`` (default: now); None for the
        applicant's turn or a closed case. Read from the ids: no agency row is fetched."""
        stage = STATE_STAGE.get(state or self.state)
        responsible = STAGE_RESPONSIBLE[stage] if stage is not None else None
        if responsible == Responsible.FROM_AGENCY:
            return self.from_agency_id
        if responsible == Responsible.TO_AGENCY:
            return self.to_agency_id
        return None

    # --- transitions (sources, targets, who) ---------------------------------------------------

    @transition(
        field=state,
        source=CaseState.APPLIED,
        target=CaseState.TRANSFER_OUT_APPROVED,
        permission=can_act_for_from_agency,
    )
    def approve_transfer_out(
        self,
        *,
        contribution_months: int,
        personal_account_balance: Decimal,
        deemed_months: int = 0,
        interest: Decimal = Decimal("0.00"),
        no_arrears: bool = True,
        stopped_at_source_on: dt.date | None = None,
        enrolled_at_source_since: dt.date | None = None,
        overlap_months: int | None = None,
        refund_amount: Decimal | None = None,
        account_normal: bool = True,
    ) -> None:
        """Approve the transfer out; for a merge, cancel the duplicate relationship (the
        information form then also carries the overlap and the refund; ``account_normal`` is the
        cancelling agency's statement, recorded on the event)."""
        self.contribution_months = contribution_months
        if overlap_months is not None:
            self.overlap_months = overlap_months
        if refund_amount is not None:
            self.refund_amount = refund_amount
        self.deemed_months = deemed_months
        self.personal_account_balance = personal_account_balance
        self.interest = interest
        self.no_arrears = no_arrears
        if stopped_at_source_on is not None:
            self.stopped_at_source_on = stopped_at_source_on
        if enrolled_at_source_since is not None:
            self.enrolled_at_source_since = enrolled_at_source_since

    @transition(
        field=state,
        source=CaseState.APPLIED,
        target=CaseState.MATERIALS_REQUESTED,
        permission=can_act_for_from_agency,
    )
    def request_materials(self, *, missing: list[str], repeat_reason: str = "") -> None:
        self.missing_materials = missing
        self.materials_requests += 1

    @property
    def materials_requested_before(self) -> bool:
        """Whether the next materials request would be a repeat."""
        return self.materials_requests > 0

    @transition(
        field=state,
        source=CaseState.MATERIALS_REQUESTED,
        target=CaseState.APPLIED,
        permission=can_resubmit,
    )
    def resubmit_materials(self) -> None:
        self.missing_materials = []

    @transition(
        field=state,
        source=CaseState.TRANSFER_OUT_APPROVED,
        target=CaseState.TRANSFER_IN_CONFIRMED,
        permission=can_act_for_to_agency,
    )
    def confirm_transfer_in(self, *, months_at_target: int = 0, years_repaired: int = 0) -> None:
        self.months_at_target = months_at_target
        self.resident_years_repaired = years_repaired

    @transition(
        field=state,
        source=CaseState.TRANSFER_IN_CONFIRMED,
        target=CaseState.BALANCE_MOVED,
        permission=can_move_balance,
        conditions=[lambda case: case.balance_accepted],
    )
    def move_balance(self, *, amount: Decimal) -> None:
        self.balance_received = amount

    @transition(
        field=state,
        source=CaseState.TRANSFER_IN_CONFIRMED,
        target=CaseState.BALANCE_MOVED,
        permission=can_act_for_to_agency,
        conditions=[lambda case: not case.balance_accepted],
    )
    def pay_out_balance(self, *, amount: Decimal) -> None:
        """The target keeps no personal account for this person: the balance is paid out."""
        self.balance_paid_out = amount

    @transition(
        field=state,
        source=CaseState.TRANSFER_IN_CONFIRMED,
        target=CaseState.BALANCE_MOVED,
        permission=system_only,
    )
    def complete_without_balance(self) -> None:
        """Resident insurance, a zero balance or a merge policy: nothing to credit."""

    @transition(
        field=state,
        source=[CaseState.APPLIED, CaseState.TRANSFER_OUT_APPROVED],
        target=CaseState.REJECTED,
        permission=can_reject,
    )
    def reject(self, *, reason_code: str) -> None:
        self.reject_reason = reason_code

    @transition(
        field=state,
        source=[CaseState.APPLIED, CaseState.MATERIALS_REQUESTED],
        target=CaseState.WITHDRAWN,
        permission=can_withdraw,
    )
    def withdraw(self) -> None:
        pass


class CaseEventQuerySet(models.QuerySet):
    """Events are append-only: bulk updates and deletes are refused here and in the database."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError("case events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("case events are append-only")


class CaseEvent(models.Model):
    """One entry of a case's audit timeline. Never updated, never deleted."""

    case = models.ForeignKey(
        TransferCase, on_delete=models.PROTECT, related_name="events", verbose_name=_("case")
    )
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("from state"), max_length=30, blank=True)
    to_state = models.CharField(_("to state"), max_length=30, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_role = models.CharField(
        _("role"), max_length=20, help_text=_("Role at the time; the system's own entries say so")
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    reason_code = models.CharField(_("reason"), max_length=30, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [models.Index(fields=["case", "at"], name="event_case_at")]

    def __str__(self) -> str:
        return self.action_label

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("case events are append-only")

    @property
    def action_label(self) -> str:
        """The action in words for the case's kind (a merge says cancel and keep), in the active
        language (the code if it is not one of ours). Read through ``case.events``, the case is
        the one already loaded."""
        return action_label(self.action, self.case.kind)


# How long a creating POST's response is kept for replay under its Idempotency-Key.
IDEMPOTENCY_TTL = dt.timedelta(hours=24)


class IdempotencyRecord(models.Model):
    """The response to a creating ``POST``, kept under the client's ``Idempotency-Key``.

    Written in the same transaction as what the request created, so a retry within
    ``IDEMPOTENCY_TTL`` either finds the record (and gets the first response back) or finds
    nothing was created. ``fingerprint`` is a hash of method, path and body: the same key with
    another request is refused.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=200)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    response_body = models.JSONField(_("response body"))
    response_headers = models.JSONField(_("response headers"), default=dict)
    created_at = models.DateTimeField(_("submitted at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class Attachment(models.Model):
    """A file of the case's materials (PDF, JPEG or PNG by content), stored through Django's storage
    API under a random name; reached only through the API, by those who may see the case."""

    case = models.ForeignKey(
        TransferCase, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("case")
    )
    label = models.CharField(_("label"), max_length=100)
    content_type = models.CharField(_("file type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField("SHA-256", max_length=64)
    storage_name = models.CharField(_("stored as"), max_length=200, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["case", "uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return f"{self.case_id} {self.label}"


class RepeatRequestTally(models.Model):
    """Repeat requests for materials (一次性告知: every request after a case's first) per
    Asia/Shanghai day and transfer-out agency.

    Kept by ``cases.services.transitions`` in the transaction of the request, so the supervisor
    statistics read a row per day instead of every materials event ever appended (quality.md P9).
    """

    day = models.DateField(_("day"), help_text=_("Asia/Shanghai date of the request"))
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("transfer-out agency"),
    )
    repeats = models.PositiveIntegerField(_("repeat requests"), default=0)

    class Meta:
        ordering = ["day", "agency"]
        verbose_name = _("repeat materials request tally")
        verbose_name_plural = _("repeat materials request tallies")
        constraints = [
            # The key of the upsert (core.rollup): one row per day and agency.
            models.UniqueConstraint(fields=["day", "agency"], name="repeattally_key"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.agency_id}"


# --- settlement (先划转后清算): what one agency's fund owes another's for instant-mode cases ------


class SettlementStatement(models.Model):
    """One period's statement between two funds: the payer (the transfer-out agency's fund, whose
    balance the transfer-in agency credited first) owes the payee the total of its items.

    Written once by ``cases.services.settlement`` with its items in the same transaction, and never
    changed after, except to be marked settled, once. On PostgreSQL triggers (migration ``0023``)
    refuse any change after which ``total`` or ``item_count`` differs from the items, an item of
    another pair or month is bound to it, or a settled row changes; elsewhere the service and
    ``statement_problems`` hold the same line.
    """

    number = models.CharField(_("number"), max_length=40, unique=True, editable=False)
    payer = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("paying fund")
    )
    payee = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("receiving fund")
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, editable=False)
    item_count = models.PositiveIntegerField(_("items"), editable=False)
    created_at = models.DateTimeField(_("drawn up at"), editable=False)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True, editable=False)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("settled by"),
    )

    class Meta:
        ordering = ["-period_start", "payer", "payee"]
        verbose_name = _("settlement statement")
        verbose_name_plural = _("settlement statements")
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "payee", "period_start"], name="settlement_one_per_pair_period"
            ),
            models.CheckConstraint(
                name="settlement_total_positive", condition=Q(total__gt=Decimal("0"))
            ),
            models.CheckConstraint(
                name="settlement_period_order", condition=Q(period_end__gte=F("period_start"))
            ),
            models.CheckConstraint(name="settlement_funds_differ", condition=~Q(payer=F("payee"))),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_settled(self) -> bool:
        return self.settled_at is not None


class SettlementItemQuerySet(models.QuerySet):
    """Items change only through the service (drawn into a statement, settled with it): a bulk
    update or delete here could make a statement's total lie, so both are refused."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError("settlement items change only through cases.services.settlement")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("settlement items are never deleted")


class SettlementItem(models.Model):
    """What one instant-mode case moved ahead of the money (先划转): the transfer-in agency credited
    (or paid out) ``amount`` at once; the transfer-out agency's fund owes it that, to the fen."""

    case = models.OneToOneField(
        TransferCase,
        on_delete=models.PROTECT,
        related_name="settlement_item",
        verbose_name=_("case"),
    )
    payer = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("paying fund")
    )
    payee = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("receiving fund")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    opened_at = models.DateTimeField(_("opened at"))
    day = models.DateField(_("day"), help_text=_("Asia/Shanghai date the item was opened"))
    statement = models.ForeignKey(
        SettlementStatement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("statement"),
    )
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("settled by"),
    )

    objects = SettlementItemQuerySet.as_manager()

    class Meta:
        ordering = ["day", "id"]
        verbose_name = _("settlement item")
        verbose_name_plural = _("settlement items")
        constraints = [
            models.CheckConstraint(
                name="settlement_item_positive", condition=Q(amount__gt=Decimal("0"))
            ),
            models.CheckConstraint(
                name="settlement_item_settled_in_statement",
                condition=Q(settled_at__isnull=True) | Q(statement__isnull=False),
            ),
        ]
        indexes = [
            # Drawing up a period: the open items of a pair, by day.
            models.Index(
                fields=["payer", "payee", "day"],
                name="settlement_item_undrawn",
                condition=Q(statement__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.amount}"
