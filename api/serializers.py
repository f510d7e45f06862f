"""Every shape the API reads or writes, defined once.

Input serializers check the shape of what comes in (types, enums, and the lengths and ranges of
``cases.inputs`` and ``core.identity``); the services run the rules themselves, with their messages
and in their order (state, permission, then the body), so a body is judged by the action it is for. Output serializers *render* every response (``render`` below): a view
passes them the read model (``cases.presenters``, a model instance) and sends what they return, so
the OpenAPI schema (and schemathesis) describes exactly what is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer as SimpleJwtRefresh
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from agencies.models import AgeLimitScope, agency_code_validator
from agencies.policies import IntraProvinceMode, Responsible, Stage
from api.fields import AsciiDateField, AsciiIntegerField
from api.rendering import Represent, represent_with
from cases.continuity import ADVICE_CODES
from cases.inputs import (
    AMOUNT_TEXT_MAX_LENGTH,
    ASSIGNEE_FILTERS,
    CONTRIBUTION_MONTHS_MAX,
    DUE_WITHIN_MAX,
    ID_NUMBER_TEXT_MAX_LENGTH,
    ID_SUFFIX_PATTERN,
    MATERIAL_MAX_LENGTH,
    MATERIALS_MAX_ITEMS,
    MSG_DATE_RANGE,
    MSG_ID_SUFFIX,
    NOTE_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    REPEAT_REASON_MAX_LENGTH,
    SLA_FIRST_DAY,
    SLA_LAST_DAY,
    TURN_FILTERS,
    YEARS_REPAIRED_MAX,
    period_parse,
    reference_clean,
    stats_range_clean,
)
from cases.presenters import FINDING_CODES
from cases.services.attachments import LABEL_MAX_LENGTH as ATTACHMENT_LABEL_MAX_LENGTH
from cases.states import (
    USER_ACTIONS,
    BalanceOutcome,
    CaseKind,
    CaseState,
    Channel,
    InsuranceType,
    MainBasis,
    RejectReason,
    Scope,
)
from cases.workload import AGEING_BUCKETS
from core.identity import NAME_MAX_LENGTH, PHONE_TEXT_MAX_LENGTH
from documents.models import DocumentKind
from documents.services import STATUSES as DOCUMENT_STATUSES
from workflow.calendar import local_date

USER_ACTION_CHOICES = [(str(a.value), a.label) for a in USER_ACTIONS]
ORDERINGS = ("due_at", "-due_at", "created_at", "-created_at")


# --- input ----------------------------------------------------------------------------------------


class ApplicantInputSerializer(serializers.Serializer):
    # Only the lengths here: the service reports every field's rule at once (core.identity).
    name = serializers.CharField(max_length=NAME_MAX_LENGTH, required=False, allow_blank=True)
    id_number = serializers.CharField(
        max_length=ID_NUMBER_TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text=_("18-character resident ID"),
    )
    phone = serializers.CharField(
        max_length=PHONE_TEXT_MAX_LENGTH, required=False, allow_blank=True
    )


class CaseSubmitInputSerializer(serializers.Serializer):
    insurance_type = serializers.ChoiceField(choices=InsuranceType.choices)
    target_insurance_type = serializers.ChoiceField(
        choices=InsuranceType.choices,
        required=False,
        help_text=_("The type joined at the target (a cross-type move); default: insurance_type"),
    )
    retired = serializers.BooleanField(
        required=False,
        help_text=_("Stated by the applicant; retirees are outside the transfer rules (400)"),
    )
    from_agency = serializers.CharField(max_length=6, help_text=_("GB/T 2260 code"))
    to_agency = serializers.CharField(max_length=6, help_text=_("GB/T 2260 code"))
    channel = serializers.ChoiceField(choices=Channel.choices)
    applicant = ApplicantInputSerializer(
        required=False,
        help_text=_(
            "Required when staff or a platform applies on someone's behalf; an applicant applies "
            "with their account's verified identity."
        ),
    )
    kind = serializers.ChoiceField(
        choices=CaseKind.choices,
        required=False,
        help_text=_(
            "transfer (default) or merge: the person is insured at both agencies at once; the "
            "relationship at to_agency is kept, the one at from_agency cancelled"
        ),
    )
    stopped_at_source_on = AsciiDateField(
        required=False, help_text=_("A transfer: required. A merge: none (cover is still active)")
    )
    enrolled_at_target_on = AsciiDateField(required=False, allow_null=True)
    enrolled_at_source_since = AsciiDateField(
        required=False, help_text=_("A merge: required, the person is enrolled there since")
    )
    main_relationship_confirmed = serializers.BooleanField(
        required=False,
        help_text=_(
            "A merge of two relationships of one type: true, the person works (employee) or lives "
            "(resident) at to_agency's place now, so that one is kept"
        ),
    )
    # The information form's figures from the provincial system: an instant-mode province only.
    contribution_months = AsciiIntegerField(
        min_value=0,
        max_value=CONTRIBUTION_MONTHS_MAX,
        required=False,
        help_text=_(
            "Instant mode: required, the months actually paid (from the provincial system)"
        ),
    )
    deemed_months = AsciiIntegerField(
        min_value=0,
        max_value=CONTRIBUTION_MONTHS_MAX,
        required=False,
        help_text=_("Instant mode: deemed contribution months, default 0"),
    )
    personal_account_balance = serializers.CharField(
        max_length=AMOUNT_TEXT_MAX_LENGTH,
        required=False,
        help_text=_("Instant mode: required for employee insurance, yuan, e.g. 1234.56"),
    )
    interest = serializers.CharField(
        max_length=AMOUNT_TEXT_MAX_LENGTH,
        required=False,
        help_text=_("Instant mode: interest included with the balance, yuan, default 0"),
    )
    refund_amount = serializers.CharField(
        max_length=AMOUNT_TEXT_MAX_LENGTH,
        required=False,
        help_text=_(
            "Instant mode, dates that overlap: the refund of the personal contributions paid "
            "twice, yuan"
        ),
    )
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True)


class TransitionInputSerializer(serializers.Serializer):
    """One body for every action; each action reads the fields it needs (domain.md)."""

    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True)
    reason_code = serializers.ChoiceField(
        choices=RejectReason.choices, required=False, help_text=_("reject")
    )
    contribution_months = AsciiIntegerField(
        min_value=0,
        max_value=CONTRIBUTION_MONTHS_MAX,
        required=False,
        help_text=_("approve_transfer_out"),
    )
    personal_account_balance = serializers.CharField(
        max_length=AMOUNT_TEXT_MAX_LENGTH,
        required=False,
        help_text=_("approve_transfer_out; yuan, e.g. 1234.56"),
    )
    deemed_months = AsciiIntegerField(
        min_value=0,
        max_value=CONTRIBUTION_MONTHS_MAX,
        required=False,
        help_text=_("approve_transfer_out; deemed contribution months (视同缴费月数), default 0"),
    )
    interest = serializers.CharField(
        max_length=AMOUNT_TEXT_MAX_LENGTH,
        required=False,
        help_text=_("approve_transfer_out; interest included with the balance, yuan, default 0"),
    )
    no_arrears = serializers.BooleanField(
        required=False,
        help_text=_("approve_transfer_out; the no-arrears statement, true (the default) or a 400"),
    )
    stopped_at_source_on = AsciiDateField(
        required=False,
        help_text=_(
            "approve_transfer_out; the actual stop date at source, replaces the intake one"
        ),
    )
    months_at_target = AsciiIntegerField(
        min_value=0,
        max_value=CONTRIBUTION_MONTHS_MAX,
        required=False,
        help_text=_(
            "confirm_transfer_in; the months the person already had at the target in the same "
            "insurance type, default 0"
        ),
    )
    years_repaired = AsciiIntegerField(
        min_value=0,
        max_value=YEARS_REPAIRED_MAX,
        required=False,
        help_text=_(
            "confirm_transfer_in, resident insurance: years of contributions paid back at the "
            "target (缴费修复), each removing a month of the waiting period; default 0"
        ),
    )
    enrolled_at_source_since = AsciiDateField(
        required=False,
        help_text=_(
            "approve_transfer_out; the start of the enrolment period at source (information form)"
        ),
    )
    overlap_months = AsciiIntegerField(
        min_value=0,
        max_value=CONTRIBUTION_MONTHS_MAX,
        required=False,
        help_text=_(
            "approve_transfer_out of a merge: required, the months enrolled at both places"
        ),
    )
    refund_amount = serializers.CharField(
        max_length=AMOUNT_TEXT_MAX_LENGTH,
        required=False,
        help_text=_(
            "approve_transfer_out: the refund of the personal contributions paid twice for the "
            "overlap, yuan; required for a merge, allowed for a transfer whose dates overlap"
        ),
    )
    account_normal = serializers.BooleanField(
        required=False,
        help_text=_(
            "approve_transfer_out of a merge: the relationship cancelled is in a normal state, "
            "true (the default) or a 400"
        ),
    )
    missing_materials = serializers.ListField(
        child=serializers.CharField(max_length=MATERIAL_MAX_LENGTH),
        required=False,
        max_length=MATERIALS_MAX_ITEMS,
        help_text=_("request_materials"),
    )
    repeat_reason = serializers.CharField(
        max_length=REPEAT_REASON_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text=_(
            "request_materials, when materials were already requested once: what is wrong with "
            "the resubmitted materials"
        ),
    )
    amount = serializers.CharField(
        max_length=AMOUNT_TEXT_MAX_LENGTH,
        required=False,
        help_text=_(
            "move_balance: yuan received; pay_out_balance: yuan paid to the person; the balance "
            "plus declared interest, e.g. 1234.56"
        ),
    )


class AssignmentInputSerializer(serializers.Serializer):
    assignee = serializers.CharField(
        max_length=150,
        required=False,
        allow_null=True,
        help_text=_("Username; omitted: yourself (take the case); null: nobody"),
    )


class StatusLookupInputSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=REFERENCE_MAX_LENGTH)
    id_number_suffix = serializers.RegexField(
        ID_SUFFIX_PATTERN,
        help_text=_("The last 6 characters of the ID number"),
        error_messages={"invalid": MSG_ID_SUFFIX},
    )

    def validate_reference(self, value: str) -> str:
        return reference_clean(value)


class CaseListQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=CaseState.choices, required=False)
    side = serializers.ChoiceField(
        choices=[("out", _("my agency is transfer-out")), ("in", _("my agency is transfer-in"))],
        required=False,
    )
    overdue = serializers.ChoiceField(
        choices=[("true", "true"), ("false", "false")], required=False
    )
    due_before = AsciiDateField(required=False)
    due_within = AsciiIntegerField(
        min_value=1,
        max_value=DUE_WITHIN_MAX,
        required=False,
        help_text=_("Due by the end of the Nth working day after today (overdue included)"),
    )
    insurance_type = serializers.ChoiceField(choices=InsuranceType.choices, required=False)
    scope = serializers.ChoiceField(choices=Scope.choices, required=False)
    from_agency = serializers.CharField(max_length=6, required=False)
    to_agency = serializers.CharField(max_length=6, required=False)
    reference = serializers.CharField(max_length=20, required=False)
    assignee = serializers.ChoiceField(
        choices=[(v, v) for v in ASSIGNEE_FILTERS],
        required=False,
        help_text=_("me: assigned to you; nobody: unassigned"),
    )
    turn = serializers.ChoiceField(
        choices=[(v, v) for v in TURN_FILTERS],
        required=False,
        help_text=_("mine: the open stage is your agency's to act on"),
    )
    ordering = serializers.ChoiceField(
        choices=[(o, o) for o in ORDERINGS],
        required=False,
        help_text=_("Default due_at: the most urgent first"),
    )

    def validate_due_before(self, day: dt.date) -> dt.date:
        # Compared as an Asia/Shanghai instant in UTC: keep clear of date.min/max.
        if not (SLA_FIRST_DAY <= day <= SLA_LAST_DAY):
            raise serializers.ValidationError(MSG_DATE_RANGE)
        return day

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "overdue" in attrs:
            attrs["overdue"] = attrs["overdue"] == "true"
        return attrs


class AgencyQuerySerializer(serializers.Serializer):
    province = serializers.RegexField(
        r"^[0-9]{2}$", required=False, help_text=_("Two-digit province code")
    )


class SlaStatsQuerySerializer(serializers.Serializer):
    date_from = AsciiDateField(required=False, help_text=_("Default: 30 days ago"))
    date_to = AsciiDateField(required=False, help_text=_("Default: today"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The range asked for, its defaults filled in (the rule of ``cases.inputs``)."""
        try:
            start, end = stats_range_clean(
                attrs.get("date_from"), attrs.get("date_to"), today=local_date(timezone.now())
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return {"date_from": start, "date_to": end}


class SlaSeriesQuerySerializer(SlaStatsQuerySerializer):
    agency = serializers.CharField(
        required=False,
        validators=[agency_code_validator],
        help_text=_("One agency's series (GB/T 2260 code, one you oversee); default: all of them"),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        agency = attrs.get("agency")
        return {**super().validate(attrs), "agency": agency or None}


# --- output: each renders one response ------------------------------------------------------------


class YuanField(serializers.CharField):
    """An amount in yuan as text with two decimals ("1234.50"): exact, unlike a JSON number."""

    def to_representation(self, value: Decimal) -> str:
        return f"{value:.2f}"


class AgencyRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class MaskedApplicantSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("Masked: 张*"))
    id_number = serializers.CharField(help_text=_("Masked: 110105********002X"))
    phone = serializers.CharField(help_text=_("Masked: 138****5678"), allow_blank=True)


class StageSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=Stage.choices)
    label = serializers.CharField()
    responsible = serializers.ChoiceField(choices=Responsible.choices)
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    working_days_allowed = serializers.IntegerField(allow_null=True)
    working_days_left = serializers.IntegerField(allow_null=True, help_text=_("Negative when late"))
    overdue = serializers.BooleanField()
    overdue_since = serializers.DateTimeField(allow_null=True)
    provisional = serializers.BooleanField(
        help_text=_("The deadline reaches into a year with no published holiday schedule")
    )


class ContinuitySerializer(serializers.Serializer):
    gap_months = serializers.IntegerField(allow_null=True)
    overlap_months = serializers.IntegerField(
        help_text=_("Months insured at both ends at once (a duplicate enrolment); they count once")
    )
    waiting_months = serializers.IntegerField()
    advice_code = serializers.ChoiceField(choices=[(c, c) for c in ADVICE_CODES])
    advice = serializers.CharField()


class InformationFormSerializer(serializers.Serializer):
    """参保人员基本医疗保险信息表, as the transfer-out agency recorded it."""

    contribution_months = serializers.IntegerField(help_text=_("Months actually paid"))
    deemed_months = serializers.IntegerField()
    cumulative_months = serializers.IntegerField(help_text=_("Paid plus deemed"))
    overlap_months = serializers.IntegerField(
        help_text=_("Months insured at both ends at once; counted once at the target")
    )
    months_carried_in = serializers.IntegerField(
        help_text=_("Cumulative months less the overlap: what counts at the target")
    )
    cumulative_at_target = serializers.IntegerField(
        allow_null=True,
        help_text=_(
            "Once the transfer-in agency confirmed: the months the person already had there plus "
            "the months carried in"
        ),
    )
    personal_account_balance = YuanField()
    interest = YuanField(help_text=_("Declared on the form; recorded apart from the balance"))
    balance_due = YuanField(help_text=_("Balance plus interest: what must arrive, to the fen"))
    stopped_at_source_on = serializers.DateField(allow_null=True)
    enrolled_at_source_since = serializers.DateField(
        allow_null=True, help_text=_("Start of the enrolment period at source, where recorded")
    )
    no_arrears = serializers.BooleanField()
    refund_amount = YuanField(
        allow_null=True,
        help_text=_(
            "The refund of the personal contributions paid twice for the overlap, where recorded"
        ),
    )


class BalanceOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=BalanceOutcome.choices)
    amount = YuanField(allow_null=True)


class MaterialsRequestsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("How many times materials were requested"))
    repeat = serializers.BooleanField(
        help_text=_("Whether materials were requested more than once (counted against the agency)")
    )


class FindingSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[(c, c) for c in FINDING_CODES])
    overlap_months = serializers.IntegerField(required=False)
    refund_amount = YuanField(
        required=False,
        allow_null=True,
        help_text=_("duplicate_enrolment: the refund recorded on approval; null before"),
    )


# The case document (api.md), rendered from ``cases.presenters.CaseView``.
EXPECTED_PROVISIONAL_HELP = _(
    "The expected date counts days of a year whose holiday schedule is not published yet: it "
    "moves when the schedule is loaded"
)


class CaseDocumentSerializer(serializers.Serializer):
    reference = serializers.CharField(source="case.reference")
    state = serializers.ChoiceField(choices=CaseState.choices, source="case.state")
    state_label = serializers.CharField()
    version = serializers.IntegerField(
        source="case.version", help_text=_('Also the ETag: W/"<version>"')
    )
    kind = serializers.ChoiceField(choices=CaseKind.choices, source="case.kind")
    mode = serializers.ChoiceField(
        choices=IntraProvinceMode.choices,
        source="case.mode",
        help_text=_(
            "The province's intra-province mode the case runs by (standard between provinces); "
            "instant: completed at submission"
        ),
    )
    main_basis = serializers.ChoiceField(
        choices=MainBasis.choices,
        source="case.main_basis",
        allow_blank=True,
        help_text=_("A merge: why the relationship at to_agency is the one kept"),
    )
    insurance_type = serializers.ChoiceField(
        choices=InsuranceType.choices, source="case.insurance_type"
    )
    scope = serializers.ChoiceField(choices=Scope.choices, source="case.scope")
    channel = serializers.ChoiceField(choices=Channel.choices, source="case.channel")
    from_agency = AgencyRefSerializer(source="case.from_agency")
    to_agency = AgencyRefSerializer(source="case.to_agency")
    applicant = MaskedApplicantSerializer()
    stage = StageSerializer(allow_null=True, help_text=_("null once the case is closed"))
    expected_completion_on = serializers.DateField(allow_null=True, source="expected.on")
    expected_completion_provisional = serializers.BooleanField(
        source="expected.provisional", help_text=EXPECTED_PROVISIONAL_HELP
    )
    continuity = ContinuitySerializer()
    findings = FindingSerializer(
        many=True, help_text=_("What the rules found, e.g. a duplicate enrolment and its months")
    )
    stopped_at_source_on = serializers.DateField(
        allow_null=True, source="case.stopped_at_source_on"
    )
    enrolled_at_target_on = serializers.DateField(
        allow_null=True, source="case.enrolled_at_target_on"
    )
    personal_account_balance = YuanField(allow_null=True, source="case.personal_account_balance")
    contribution_months = serializers.IntegerField(
        allow_null=True, source="case.contribution_months"
    )
    target_insurance_type = serializers.ChoiceField(
        choices=InsuranceType.choices, source="case.target_insurance_type"
    )
    information_form = InformationFormSerializer(
        allow_null=True, help_text=_("Recorded by the transfer-out agency at approval; null before")
    )
    balance_outcome = BalanceOutcomeSerializer(
        allow_null=True, help_text=_("What became of the balance; null until the case is done")
    )
    missing_materials = serializers.ListField(
        child=serializers.CharField(), source="case.missing_materials"
    )
    materials_requests = MaterialsRequestsSerializer()
    reject_reason = serializers.ChoiceField(choices=RejectReason.choices, allow_null=True)
    assignee = serializers.CharField(allow_null=True)
    next_actions = serializers.ListField(child=serializers.ChoiceField(choices=USER_ACTION_CHOICES))
    created_at = serializers.DateTimeField(source="case.created_at")
    updated_at = serializers.DateTimeField(source="case.updated_at")
    closed_at = serializers.DateTimeField(allow_null=True, source="case.closed_at")


class AttachmentInputSerializer(serializers.Serializer):
    """The multipart form of an upload (for the schema; the service judges the file)."""

    file = serializers.FileField(help_text=_("PDF, JPEG or PNG, at most 10 MB"))
    label = serializers.CharField(
        max_length=ATTACHMENT_LABEL_MAX_LENGTH, help_text=_("What the file is, e.g. 离职证明")
    )


# One attachment, rendered from ``cases.models.Attachment``.
class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    content_type = serializers.ChoiceField(
        choices=[(t, t) for t in ("application/pdf", "image/jpeg", "image/png")]
    )
    size = serializers.IntegerField(help_text=_("Bytes, as stored (images re-encoded)"))
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_url(self, attachment: Any) -> str:
        return f"/api/v1/cases/{attachment.case.reference}/attachments/{attachment.pk}/"


# One timeline entry, rendered from ``cases.models.CaseEvent``.
class CaseEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    action_label = serializers.CharField()
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField(allow_blank=True)
    actor_role = serializers.CharField()
    at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True)
    reason_code = serializers.CharField(allow_blank=True)
    data = serializers.DictField()


class StatusStageSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=Stage.choices)
    label = serializers.CharField()
    responsible = serializers.ChoiceField(choices=Responsible.choices)
    due_at = serializers.DateTimeField(allow_null=True)
    working_days_left = serializers.IntegerField(allow_null=True)
    overdue = serializers.BooleanField()
    provisional = serializers.BooleanField(
        help_text=_("The due date rests on a year whose holiday schedule is not published yet")
    )


# The anonymous status lookup's answer, rendered from ``cases.presenters.StatusView``.
class StatusDocumentSerializer(serializers.Serializer):
    reference = serializers.CharField(source="case.reference")
    state = serializers.ChoiceField(choices=CaseState.choices, source="case.state")
    state_label = serializers.CharField()
    stage = StatusStageSerializer(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    next_step = serializers.CharField()
    expected_completion_on = serializers.DateField(allow_null=True, source="expected.on")
    expected_completion_provisional = serializers.BooleanField(
        source="expected.provisional", help_text=EXPECTED_PROVISIONAL_HELP
    )
    updated_at = serializers.DateTimeField(source="case.updated_at")


class AgencyWindowsSerializer(serializers.Serializer):
    transfer_out_days = serializers.IntegerField()
    transfer_in_days = serializers.IntegerField()
    balance_days = serializers.IntegerField()


class AgencyRuleSerializer(serializers.Serializer):
    set_by = serializers.CharField(
        source="agency_id",
        help_text=_("The agency whose rule this is: the agency itself, or its province's"),
    )
    effective_from = serializers.DateField()
    max_age_male = serializers.IntegerField(
        allow_null=True,
        help_text=_("Men must be under this age at application (未满); null: no limit"),
    )
    max_age_female = serializers.IntegerField(allow_null=True)
    age_limit_scope = serializers.ChoiceField(choices=AgeLimitScope.choices)
    insurance_types_accepted = serializers.ListField(child=serializers.CharField())
    accepts_balance = serializers.BooleanField(
        help_text=_("false: a transferred balance is paid out to the person")
    )
    resident_keeps_personal_account = serializers.BooleanField(
        help_text=_(
            "true: a balance moving from employee to resident insurance is credited here instead "
            "of paid out"
        )
    )
    catch_up_max_gap_months = serializers.IntegerField(
        allow_null=True, help_text=_("null: the national reading (3)")
    )
    employee_waiting_months = serializers.IntegerField(
        allow_null=True, help_text=_("null: the national reading (up to 6)")
    )
    resident_fixed_waiting_months = serializers.IntegerField(
        allow_null=True, help_text=_("null: the national reading (3)")
    )
    resident_repair_floor_months = serializers.IntegerField(
        allow_null=True,
        help_text=_(
            "null: the national reading (after 4 or more years without cover, contributions paid "
            "back leave a wait of at least 6 months)"
        ),
    )
    transfer_out_days = serializers.IntegerField(
        allow_null=True, help_text=_("null: the agency's own window")
    )
    transfer_in_days = serializers.IntegerField(
        allow_null=True, help_text=_("null: the agency's own window")
    )
    balance_days = serializers.IntegerField(
        allow_null=True, help_text=_("null: the agency's own window")
    )
    basis = serializers.CharField(allow_blank=True)


class ProvinceModeSerializer(serializers.Serializer):
    province = serializers.CharField(source="province_id")
    mode = serializers.ChoiceField(choices=IntraProvinceMode.choices)
    effective_from = serializers.DateField()
    basis = serializers.CharField(allow_blank=True)


# ``GET /api/v1/agencies/{code}/rules/``, rendered from ``agencies.rules.AgencyRules``.
class AgencyRulesSerializer(serializers.Serializer):
    agency = AgencyRefSerializer()
    in_force = AgencyRuleSerializer(
        allow_null=True, help_text=_("null: no local rule, the national rules alone")
    )
    scheduled = AgencyRuleSerializer(many=True, help_text=_("Rules set to take effect later"))
    windows = AgencyWindowsSerializer(source="agency")
    intra_province_mode = serializers.ChoiceField(
        choices=IntraProvinceMode.choices,
        help_text=_(
            "The province's mode for moves within it today (standard: none set); moves between "
            "provinces always run the national process"
        ),
    )
    mode_in_force = ProvinceModeSerializer(
        allow_null=True, help_text=_("The province's mode row in force; null: none set")
    )
    modes_scheduled = ProvinceModeSerializer(
        many=True, help_text=_("Modes set to take effect later")
    )


# An agency, rendered from ``agencies.models.Agency``.
class AgencySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    province_code = serializers.CharField()
    province_name = serializers.CharField()
    level = serializers.CharField()
    is_active = serializers.BooleanField()
    balance_policy = serializers.CharField()
    windows = AgencyWindowsSerializer(
        source="*", help_text=_("Working days in force at this agency")
    )


REPEAT_REQUESTS_HELP = _(
    "Materials requested again in the period (一次性告知: every request after a case's first), "
    "counted against the transfer-out agency"
)


class SlaRowSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    agency = AgencyRefSerializer()
    completed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    repeat_materials_requests = serializers.IntegerField(help_text=REPEAT_REQUESTS_HELP)


class SlaTotalsSerializer(serializers.Serializer):
    completed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    repeat_materials_requests = serializers.IntegerField(help_text=REPEAT_REQUESTS_HELP)


# SLA statistics, rendered from ``cases.selectors.sla_stats``.
class SlaStatsSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    totals = SlaTotalsSerializer()
    rows = SlaRowSerializer(many=True)


class SlaSeriesRowSerializer(serializers.Serializer):
    day = serializers.DateField(help_text=_("Asia/Shanghai date of completion"))
    stage = serializers.ChoiceField(choices=Stage.choices)
    completed = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)


# The daily SLA series, rendered from ``cases.selectors.sla_series``.
class SlaSeriesSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    agency = serializers.CharField(
        allow_null=True, help_text=_("null: all the agencies you oversee")
    )
    rows = SlaSeriesRowSerializer(
        many=True, help_text=_("One row per day and stage with a completed stage, oldest first")
    )


class AgeingRowSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    # One count per bucket of lateness, as ``cases.workload.AGEING_BUCKETS`` defines them.
    locals().update(
        {code: serializers.IntegerField(help_text=label) for code, label, _most in AGEING_BUCKETS}
    )


class LoadAssigneeSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    agency = serializers.CharField()


class LoadRowSerializer(serializers.Serializer):
    assignee = LoadAssigneeSerializer(allow_null=True, help_text=_("null: the unassigned stages"))
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()


class DueAheadRowSerializer(serializers.Serializer):
    day = serializers.DateField(help_text=_("A working day, Asia/Shanghai"))
    due = serializers.IntegerField(help_text=_("Open stages whose deadline is the end of this day"))


# The open work now, rendered from ``cases.workload.workload_stats``.
class WorkloadSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    ageing = AgeingRowSerializer(many=True)
    caseworkers = LoadRowSerializer(
        many=True, help_text=_("Most overdue first; the last row is the unassigned stages")
    )
    due_ahead = DueAheadRowSerializer(many=True, help_text=_("The next 10 working days"))


class SettlementQuerySerializer(serializers.Serializer):
    agency = serializers.CharField(
        required=False,
        validators=[agency_code_validator],
        help_text=_("One fund's items, paying or owed (GB/T 2260 code); default: all you may see"),
    )
    period = serializers.CharField(
        required=False,
        max_length=7,
        help_text=_("A month, YYYY-MM (Asia/Shanghai); default: every period"),
    )

    def validate_period(self, value: str) -> dt.date:
        try:
            return period_parse(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class SettlementItemSerializer(serializers.Serializer):
    case_reference = serializers.CharField(source="case.reference")
    payer = AgencyRefSerializer(help_text=_("The fund that owes (the transfer-out agency's)"))
    payee = AgencyRefSerializer(
        help_text=_("The fund owed (the transfer-in agency's, which credited first)")
    )
    amount = YuanField()
    opened_at = serializers.DateTimeField()
    statement = serializers.CharField(
        source="statement.number", allow_null=True, help_text=_("null: not drawn up yet")
    )
    settled_at = serializers.DateTimeField(allow_null=True)


class SettlementStatementSerializer(serializers.Serializer):
    number = serializers.CharField()
    period = serializers.SerializerMethodField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    payer = AgencyRefSerializer()
    payee = AgencyRefSerializer()
    total = YuanField(help_text=_("Always the sum of its items, to the fen"))
    item_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)
    settled_by = serializers.SerializerMethodField(
        help_text=_("Who marked it settled (their name); null until then")
    )

    def get_period(self, statement: Any) -> str:
        return statement.period_start.strftime("%Y-%m")

    def get_settled_by(self, statement: Any) -> str | None:
        person = statement.settled_by
        if person is None:
            return None
        return person.real_name or person.username


class SettlementTotalsSerializer(serializers.Serializer):
    items = serializers.IntegerField()
    amount = YuanField(help_text=_("All the items listed"))
    unsettled = YuanField(help_text=_("Of which not settled yet"))


# ``GET /api/v1/settlements/``, rendered from ``cases.selectors.SettlementView``.
class SettlementsSerializer(serializers.Serializer):
    agency = serializers.CharField(allow_null=True)
    period = serializers.CharField(allow_null=True)
    statements = SettlementStatementSerializer(many=True)
    items = SettlementItemSerializer(
        many=True, help_text=_("The newest items, at most 1,000 (narrow by agency and period)")
    )
    items_truncated = serializers.BooleanField(
        help_text=_("true: there are more items than listed; the totals count them all")
    )
    totals = SettlementTotalsSerializer(help_text=_("Every item of the selection"))


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text=_("Stable machine-readable code"))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=_("Field -> messages (validation errors)"),
    )
    state = serializers.CharField(required=False, help_text=_("transition_not_allowed"))
    state_label = serializers.CharField(required=False)
    allowed_actions = serializers.ListField(child=serializers.CharField(), required=False)


class NotificationQuerySerializer(serializers.Serializer):
    unread = serializers.ChoiceField(choices=[("true", "true"), ("false", "false")], required=False)


# An in-app notification, rendered from ``notifications.models.Notification``.
class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField(allow_blank=True)
    subject_ref = serializers.CharField(allow_blank=True, help_text=_("e.g. a case reference"))
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


# --- rendering ---------------------------------------------------------------------------------------


@cache
def _plan(serializer_class: type[serializers.Serializer]) -> Represent:
    # One instance per class and process (DRF deep-copies its fields for every new instance, which
    # would cost more than the rendering) and its fields walked once (api.rendering).
    return represent_with(serializer_class())


def render(serializer_class: type[serializers.Serializer], instance: Any) -> dict[str, Any]:
    """What the API sends for ``instance`` under ``serializer_class`` (the schema's shape)."""
    return _plan(serializer_class)(instance)


def render_many(
    serializer_class: type[serializers.Serializer], instances: Iterable[Any]
) -> list[dict[str, Any]]:
    represent = _plan(serializer_class)
    return [represent(instance) for instance in instances]


# --- tokens --------------------------------------------------------------------------------------


# simplejwt's refresh, refusing what it would let through: a token of an account that is gone (its
# lookup would raise) and a token issued before the account's password last changed (it would mint
# an access token that is refused at once). Named as simplejwt's, so the schema is unchanged.
class TokenRefreshSerializer(SimpleJwtRefresh):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            refresh = RefreshToken(attrs["refresh"])
        except TokenError as exc:
            raise InvalidToken(str(exc)) from None
        user = (
            get_user_model()
            .objects.filter(**{jwt_settings.USER_ID_FIELD: refresh.get(jwt_settings.USER_ID_CLAIM)})
            .first()
        )
        revoked = user is not None and refresh.get(
            jwt_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password)
        if user is None or revoked:
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        return super().validate(attrs)


# --- documents ------------------------------------------------------------------------------------


class DocumentSerializer(serializers.Serializer):
    """One document the case can have now; ``number`` and ``issued_at`` once it was first fetched."""

    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    kind_label = serializers.CharField()
    number = serializers.CharField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    valid = serializers.BooleanField(allow_null=True)
    url = serializers.CharField(help_text=_("The signed PDF (issued on first fetch)"))


class DocumentIssuerSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DocumentVerificationSerializer(serializers.Serializer):
    """What anyone holding a document's number may check; nothing personal beyond a masked name."""

    number = serializers.CharField(source="document.number")
    kind = serializers.ChoiceField(choices=DocumentKind.choices, source="document.kind")
    kind_label = serializers.CharField()
    issuer = DocumentIssuerSerializer(source="document.issuer")
    issued_at = serializers.DateTimeField(source="document.issued_at")
    case_reference = serializers.CharField(source="document.case.reference")
    applicant = serializers.CharField(help_text=_("The applicant's name, masked"))
    sha256 = serializers.CharField(source="document.sha256")
    status = serializers.ChoiceField(
        choices=[(s, s) for s in DOCUMENT_STATUSES],
        help_text=_(
            "valid; superseded (the case's facts it printed changed: ask for the current one); "
            "void (the case was withdrawn or rejected)"
        ),
    )
