"""The caseworkers' and supervisors' admin: agencies, and the transfer case queue.

Nothing on a case is edited here: the change page is read-only, and every write is a button leading
to a small form that calls ``cases.services`` (``case_transition``, ``case_assign``), which decide
who may do what. Which cases a user sees comes from ``cases.selectors.case_queryset_for``, once.
Plain ID numbers never reach a page: lists show the masked form, and the lookup by ID number is a
POST whose number becomes a keyed digest before it goes anywhere (never a URL, so never a log line).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    URLField,
    Value,
    When,
)
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import (
    is_case_staff,
    is_staff_administrator,
    user_may_assign,
    user_may_edit_windows,
    user_may_take,
    user_settlement_reach,
)
from agencies.models import Agency, AgencyRule, AgencyRuleChange, ProvinceMode
from agencies.rules import agency_rule_delete, agency_rule_save, rule_change_problem
from cases.continuity import case_continuity
from cases.forms import (
    MSG_ID_LOOKUP_NONE,
    MSG_ID_LOOKUP_THROTTLED,
    AssignForm,
    IdNumberLookupForm,
    action_refusal,
    assigned_text,
    refusal_text,
    transition_done_text,
    transition_form_for,
)
from cases.models import (
    Attachment,
    CaseEvent,
    SettlementItem,
    SettlementStatement,
    TransferCase,
)
from cases.presenters import case_open_clock, expected_completion
from cases.selectors import (
    case_find_by_id_number,
    case_queryset_for,
    case_side_filter,
    settlement_fund_filter,
)
from cases.services import case_allowed_actions, case_assign, case_transition
from cases.states import (
    USER_ACTIONS,
    Action,
    RejectReason,
    action_label,
    choice_label,
    state_label,
)
from cases.timeline import event_actor_named, event_facts
from core.errors import DomainError, InvalidInput
from core.identity import phone_mask
from core.throttling import IdLookupThrottle
from workflow.calendar import end_of_day, get_calendar, local_date
from workflow.models import StageClock

logger = logging.getLogger(__name__)

MSG_DAYS_OVERDUE = _("overdue by {days} working day(s)")

# Windows an agency's supervisor may shorten for their own agency; everything else is the
# administrators'.
AGENCY_WINDOW_FIELDS = ("transfer_out_days", "transfer_in_days", "balance_days")
# Shown to nobody; administrators may replace them.
AGENCY_SECRET_FIELDS = ("webhook_secret",)


def _open_clocks() -> QuerySet[StageClock]:
    """The open clock of the outer case (at most one: constraint ``one_open_clock``)."""
    return StageClock.objects.filter(case=OuterRef("pk"), completed_at__isnull=True)


# --- agencies -----------------------------------------------------------------------------------


class AgencyForm(forms.ModelForm):
    """Secrets are write-only: never rendered back, and left as they are when the box is empty.

    The admin builds the concrete form (model and fields) from this base.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in AGENCY_SECRET_FIELDS:
            if name in self.fields:
                field = self.fields[name]
                field.widget = forms.PasswordInput(render_value=False)
                field.required = False
                if self.instance.pk is not None:
                    field.help_text = _("Leave empty to keep the current value.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in AGENCY_SECRET_FIELDS:
            if name in self.fields and not cleaned.get(name) and self.instance.pk is not None:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    """Agencies and their local windows. Model validators keep every window within the national one.

    Administrators edit agencies; a supervisor may shorten their own agency's windows. Nobody deletes
    an agency here (cases refer to it): deactivate it instead.
    """

    # Webhook receivers must be https; say so in the form rather than guessing http.
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
    list_display = (
        "code",
        "name",
        "province_name",
        "level",
        "transfer_out_days",
        "transfer_in_days",
        "balance_days",
        "balance_policy",
        "escalation_days",
        "is_active",
    )
    list_filter = ("level", "province_name", "balance_policy", "is_active")
    search_fields = ("=code", "name")
    search_help_text = _("Agency code (exact) or part of the name")
    show_facets = admin.ShowFacets.NEVER
    form = AgencyForm

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = super().get_fields(request, obj)
        if is_staff_administrator(request.user):
            return list(fields)
        return [f for f in fields if f not in AGENCY_SECRET_FIELDS]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if is_staff_administrator(request.user):
            # The code is the primary key: editing it would create a second agency.
            return ("code",) if obj is not None else ()
        fields = [f.name for f in Agency._meta.fields]
        return tuple(
            f for f in fields if f not in AGENCY_WINDOW_FIELDS and f not in AGENCY_SECRET_FIELDS
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_case_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_case_staff(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_staff_administrator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        if is_staff_administrator(user):
            return True
        return obj is not None and is_case_staff(user) and user_may_edit_windows(user, obj.code)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AgencyRule)
class AgencyRuleAdmin(admin.ModelAdmin):
    """An agency's own eligibility rules, each in force from a date. The agency's supervisor edits
    its own, administrators every agency's; every save and delete is recorded with the values
    before and after (``agencies.rules``)."""

    list_display = (
        "agency",
        "effective_from",
        "max_age_male",
        "max_age_female",
        "age_limit_scope",
        "accepts_employee",
        "accepts_resident",
        "accepts_balance",
    )
    list_filter = ("age_limit_scope", "accepts_balance")
    search_fields = ("=agency__code",)
    search_help_text = _("Agency code (exact)")
    show_facets = admin.ShowFacets.NEVER
    raw_id_fields = ("agency",)
    # No bulk delete: each rule is judged on its own (one in force is never deleted).
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request).select_related("agency")
        user = request.user
        if is_staff_administrator(user):
            return queryset
        return queryset.filter(agency_id=getattr(user, "agency_id", None))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_case_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_case_staff(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return is_staff_administrator(user) or user_may_edit_windows(
            user, getattr(user, "agency_id", None) or ""
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        if obj is None:
            return self.has_add_permission(request)
        return user_may_edit_windows(user, obj.agency_id)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A rule in force is never deleted: cases were judged by it.
        if obj is not None and obj.effective_from <= timezone.localdate():
            return False
        return self.has_change_permission(request, obj)

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        stored = obj

        class RuleForm(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                problem = rule_change_problem(
                    stored=stored,
                    effective_from=data.get("effective_from"),
                    today=timezone.localdate(),
                )
                if problem:
                    raise ValidationError(problem)
                return data

        form = RuleForm
        user = request.user
        if not is_staff_administrator(user) and "agency" in form.base_fields:
            # A supervisor writes rules for their own agency only.
            field = form.base_fields["agency"]
            field.queryset = Agency.objects.filter(code=getattr(user, "agency_id", None))
            field.initial = getattr(user, "agency_id", None)
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not user_may_edit_windows(request.user, obj.agency_id):
            raise PermissionDenied
        agency_rule_save(rule=obj, actor=request.user, now=timezone.now())

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        agency_rule_delete(rule=obj, actor=request.user, now=timezone.now())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for rule in queryset:
            agency_rule_delete(rule=rule, actor=request.user, now=timezone.now())


def _rule_in_words(snapshot: dict[str, Any] | None) -> str:
    """A recorded rule as "label: value" lines, with the rule's own labels (never its keys)."""
    if not snapshot:
        return "—"
    lines = []
    for key, value in snapshot.items():
        try:
            field = AgencyRule._meta.get_field(key)
        except FieldDoesNotExist:
            continue  # a field since removed: its old value says nothing now
        if isinstance(value, bool):
            shown = gettext("yes") if value else gettext("no")
        elif value is None or value == "":
            shown = "—"
        elif field.choices:
            shown = str(dict(field.flatchoices).get(value, value))
        else:
            shown = str(value)
        lines.append(f"{field.verbose_name}：{shown}")
    return "；".join(lines)


class StaffReadOnlyAdmin(admin.ModelAdmin):
    """Seen by case staff (which rows: ``get_queryset``), changed by nobody through the admin."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_case_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_case_staff(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProvinceModeForm(forms.ModelForm):
    class Meta:
        model = ProvinceMode
        fields = ("province", "effective_from", "mode", "basis")

    def clean(self) -> dict[str, Any]:
        """A mode in force is never changed (cases were submitted under it), and a new one takes
        effect tomorrow at the earliest: the same line as the agencies' rules."""
        data = super().clean()
        stored = (
            ProvinceMode.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        )
        problem = rule_change_problem(
            stored=stored, effective_from=data.get("effective_from"), today=timezone.localdate()
        )
        if problem:
            raise ValidationError({"effective_from": problem})
        return data


@admin.register(ProvinceMode)
class ProvinceModeAdmin(admin.ModelAdmin):
    """The provinces' modes for the moves within them, each in force from a date. Administrators
    edit them; case staff read them. A case records the mode it was submitted under."""

    form = ProvinceModeForm
    list_display = ("province", "effective_from", "mode", "basis")
    list_filter = ("mode",)
    show_facets = admin.ShowFacets.NEVER
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("province")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_case_staff(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_case_staff(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_staff_administrator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.effective_from <= timezone.localdate():
            return False
        return is_staff_administrator(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)


class SettlementItemInline(admin.TabularInline):
    model = SettlementItem
    extra = 0
    can_delete = False
    fields = readonly_fields = ("case", "amount", "opened_at", "settled_at", "settled_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SettlementStatement)
class SettlementStatementAdmin(admin.ModelAdmin):
    """The settlement statements between funds (read only here: they are drawn up by the daily
    task or ``manage.py settlement_statements``, and marked settled through the API)."""

    list_display = (
        "number",
        "payer",
        "payee",
        "period_start",
        "period_end",
        "total",
        "item_count",
        "settled_at",
    )
    search_fields = ("=number",)
    show_facets = admin.ShowFacets.NEVER
    actions = None
    inlines = (SettlementItemInline,)

    class Media:
        css = {"all": ("cases/admin.css",)}

    fields = readonly_fields = (*list_display, "created_at", "settled_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request).select_related("payer", "payee", "settled_by")
        reach = user_settlement_reach(request.user)
        return queryset.filter(settlement_fund_filter(reach)) if reach else queryset.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_case_staff(request.user) and user_settlement_reach(request.user) is not None

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AgencyRuleChange)
class AgencyRuleChangeAdmin(StaffReadOnlyAdmin):
    """The audit of rule changes: read only."""

    list_display = ("changed_at", "agency_code", "changed_by_words", "before_words", "after_words")
    search_fields = ("=agency_code",)
    search_help_text = _("Agency code (exact)")
    show_facets = admin.ShowFacets.NEVER
    fields = readonly_fields = (
        "changed_at",
        "agency_code",
        "changed_by_words",
        "before_words",
        "after_words",
    )

    @admin.display(description=_("changed by"), ordering="changed_by_name")
    def changed_by_words(self, change: AgencyRuleChange) -> str:
        return (
            gettext("The system") if change.changed_by_name == "system" else change.changed_by_name
        )

    @admin.display(description=_("before"))
    def before_words(self, change: AgencyRuleChange) -> str:
        return _rule_in_words(change.before)

    @admin.display(description=_("after"))
    def after_words(self, change: AgencyRuleChange) -> str:
        return _rule_in_words(change.after)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        user = request.user
        if is_staff_administrator(user):
            return queryset
        return queryset.filter(agency_code=getattr(user, "agency_id", None))


# --- case list filters --------------------------------------------------------------------------


class SideFilter(admin.SimpleListFilter):
    """Which side of the case the user's agency (or province, for province-wide staff) is on."""

    title = _("my agency's side")
    parameter_name = "side"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        if not request.user.agency_id:
            return []
        return [("out", _("Transfer-out (ours)")), ("in", _("Transfer-in (ours)"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() not in ("out", "in"):
            return None
        condition = case_side_filter(request.user, self.value())
        return queryset.none() if condition is None else queryset.filter(condition)


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() not in ("yes", "no"):
            return None
        late = Exists(_open_clocks().filter(due_at__lt=timezone.now()))
        return queryset.filter(late if self.value() == "yes" else ~late)


class DueFilter(admin.SimpleListFilter):
    """When the current stage is due: the deadline is the end of a working day, Asia/Shanghai."""

    title = _("current stage due")
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("past", _("Overdue")),
            ("today", _("Due today")),
            ("3wd", _("Within 3 working days")),
            ("7d", _("Within 7 days")),
            ("none", _("No deadline running")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = self.value()
        now = timezone.now()
        today = local_date(now)
        if value == "past":
            clocks = _open_clocks().filter(due_at__lt=now)
        elif value == "today":
            clocks = _open_clocks().filter(due_at__gte=now, due_at__lte=end_of_day(today))
        elif value == "3wd":
            last_day, _provisional = get_calendar().add_working_days(today, 3)
            clocks = _open_clocks().filter(due_at__gte=now, due_at__lte=end_of_day(last_day))
        elif value == "7d":
            clocks = _open_clocks().filter(due_at__gte=now, due_at__lte=now + dt.timedelta(days=7))
        elif value == "none":
            return queryset.filter(~Exists(_open_clocks().filter(due_at__isnull=False)))
        else:
            return None
        return queryset.filter(Exists(clocks))


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("me", _("Me")), ("nobody", _("Nobody"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return None


class IdNumberFilter(admin.SimpleListFilter):
    """Cases of one person, by the keyed digest the ID number lookup form put in the URL.

    Shown only while in use, so the user sees why the list is short and can clear it.
    """

    title = _("ID number")
    parameter_name = "id_digest"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        if self.value():
            return [(self.value(), _("The ID number looked up"))]
        return []

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = self.value()
        if not value:
            return None
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            return queryset.none()
        return queryset.filter(id_number_digest=value)


# --- inlines: the case's clocks and timeline, read-only -----------------------------------------


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_case_staff(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StageClockInline(_ReadOnlyInline):
    model = StageClock
    verbose_name = _("stage clock")
    verbose_name_plural = _("stage clocks")
    fields = readonly_fields = (
        "stage",
        "responsible",
        "agency",
        "window_days",
        "started_at",
        "due_at",
        "provisional",
        "completed_at",
        "closed_by_label",
        "breached_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[StageClock]:
        return super().get_queryset(request).select_related("agency")

    @admin.display(description=_("closed by"))
    def closed_by_label(self, clock: StageClock) -> str:
        return choice_label(Action, clock.closed_by) if clock.closed_by else ""


class AttachmentInline(_ReadOnlyInline):
    """The case's materials, each a link to the file (the API's download, same access rule)."""

    model = Attachment
    verbose_name = _("attachment")
    verbose_name_plural = _("attachments")
    fields = readonly_fields = ("uploaded_at", "label", "content_type", "size", "file_link")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Attachment]:
        return super().get_queryset(request).select_related("case").order_by("uploaded_at", "id")

    @admin.display(description=_("file"))
    def file_link(self, attachment: Attachment) -> str:
        url = f"/api/v1/cases/{attachment.case.reference}/attachments/{attachment.pk}/"
        return format_html('<a href="{}">{}</a>', url, gettext("Download"))


class CaseEventInline(_ReadOnlyInline):
    """The audit timeline. Events are append-only: the inline offers nothing but reading."""

    model = CaseEvent
    verbose_name = _("event")
    verbose_name_plural = _("timeline")
    fields = readonly_fields = (
        "at",
        "action_label",
        "from_state_label",
        "to_state_label",
        "actor_words",
        "reason_label",
        "details_words",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseEvent]:
        return (
            super()
            .get_queryset(request)
            .select_related("actor__agency", "case")
            .order_by("at", "id")
        )

    @admin.display(description=_("action"))
    def action_label(self, event: CaseEvent) -> str:
        return event.action_label

    @admin.display(description=_("from"))
    def from_state_label(self, event: CaseEvent) -> str:
        return state_label(event.from_state, event.case.kind) if event.from_state else ""

    @admin.display(description=_("to"))
    def to_state_label(self, event: CaseEvent) -> str:
        return state_label(event.to_state, event.case.kind) if event.to_state else ""

    @admin.display(description=_("reason"))
    def reason_label(self, event: CaseEvent) -> str:
        return choice_label(RejectReason, event.reason_code)

    @admin.display(description=_("by"))
    def actor_words(self, event: CaseEvent) -> str:
        return event_actor_named(event)

    @admin.display(description=_("details"))
    def details_words(self, event: CaseEvent) -> str:
        return "；".join(event_facts(event))


# --- transfer cases -----------------------------------------------------------------------------


@admin.register(TransferCase)
class TransferCaseAdmin(StaffReadOnlyAdmin):
    """The queue and the case page. No add, change or delete: cases move through the services."""

    class Media:
        css = {"all": ("cases/admin.css",)}

    list_display = (
        "reference",
        "masked_id_number",
        "applicant_name",
        "insurance_type",
        "from_agency",
        "to_agency",
        "state_words",
        "due_display",
        "overdue_flag",
        "assignee",
        "updated_at",
    )
    list_select_related = ("from_agency", "to_agency", "assignee")
    list_filter = (
        "state",
        SideFilter,
        OverdueFilter,
        DueFilter,
        AssigneeFilter,
        "kind",
        "insurance_type",
        "scope",
        IdNumberFilter,
    )
    search_fields = ("reference",)
    search_help_text = _(
        "Case reference, exact. To find a person's cases by ID number, use the form below."
    )
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = None
    inlines = (StageClockInline, AttachmentInline, CaseEventInline)
    fieldsets = (
        (
            _("Case"),
            {
                "fields": (
                    "reference",
                    # In the case's own words (a merge's differ): cases.states.state_label.
                    "state_words",
                    "version",
                    "kind",
                    "mode",
                    "main_basis",
                    "insurance_type",
                    "target_insurance_type",
                    "scope",
                    "channel",
                    "from_agency",
                    "to_agency",
                    "assignee",
                )
            },
        ),
        (
            _("Current stage"),
            {
                "fields": (
                    "due_display",
                    "working_days_left",
                    "overdue_flag",
                    "overdue_since",
                    "expected_completion_display",
                )
            },
        ),
        (
            _("Applicant"),
            {"fields": ("applicant_name", "masked_id_number", "phone_masked", "submitted_by")},
        ),
        (
            _("Cover"),
            {
                "fields": (
                    "enrolled_at_source_since",
                    "stopped_at_source_on",
                    "enrolled_at_target_on",
                    "continuity_advice",
                )
            },
        ),
        (
            _("Information form"),
            {
                "fields": (
                    "contribution_months",
                    "deemed_months",
                    "personal_account_balance",
                    "interest",
                    "no_arrears",
                    "overlap_months",
                    "refund_amount",
                    "months_at_target",
                    "resident_years_repaired",
                    "balance_received",
                    "balance_paid_out",
                    "missing_materials",
                    "materials_requests",
                    "reject_reason",
                )
            },
        ),
        (_("Record"), {"fields": ("note", "created_at", "updated_at", "closed_at")}),
    )

    # --- what the user may do -------------------------------------------------------------------

    # Read only for case staff (StaffReadOnlyAdmin); which cases: get_queryset (the selector), a
    # case outside it is a 404. Moves go through the action views below.

    # --- reading --------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[TransferCase]:
        """The cases this user may see, with the open stage's deadline (one subquery, no N+1)."""
        now = timezone.now()
        return (
            case_queryset_for(request.user)
            .select_related("from_agency", "to_agency", "assignee")
            .annotate(
                current_due_at=Subquery(_open_clocks().values("due_at")[:1]),
                current_due_provisional=Subquery(_open_clocks().values("provisional")[:1]),
                current_breached_at=Subquery(_open_clocks().values("breached_at")[:1]),
            )
            .annotate(
                is_overdue=Case(
                    When(current_due_at__lt=now, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
        )

    @admin.display(description=_("state"), ordering="state")
    def state_words(self, case: TransferCase) -> str:
        return case.state_label

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """Only the filters in the sidebar: any other lookup in the URL (``phone__startswith``,
        ``__regex``, ``created_at__year``) would let a user probe fields the list masks. Refused
        lookups are a 400; so is a value no database column can hold (a NUL)."""
        if "\x00" in str(value):
            return False
        allowed = set()
        for spec in self.list_filter:
            if isinstance(spec, str):
                allowed |= {f"{spec}__exact", f"{spec}__isnull"}
            else:
                allowed.add(spec.parameter_name)
        return lookup in allowed

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Exact reference only: an equality on the unique index, whatever the table's size."""
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        return queryset.filter(reference=term), False

    @admin.display(description=_("current stage due"), ordering="current_due_at")
    def due_display(self, case: TransferCase) -> str:
        due_at = getattr(case, "current_due_at", None)
        if due_at is None:
            return "-"
        day = local_date(due_at).isoformat()
        if getattr(case, "current_due_provisional", False):
            # Outside the f-string: xgettext does not look inside one.
            label = gettext("(provisional)")
            return f"{day} {label}"
        return day

    @admin.display(description=_("overdue"), boolean=True, ordering="is_overdue")
    def overdue_flag(self, case: TransferCase) -> bool:
        return bool(getattr(case, "is_overdue", False))

    @admin.display(description=_("overdue since"))
    def overdue_since(self, case: TransferCase) -> str:
        """When the scan flagged the open stage (its deadline), Asia/Shanghai."""
        breached_at = getattr(case, "current_breached_at", None)
        return local_date(breached_at).isoformat() if breached_at else "-"

    @admin.display(description=_("working days left"))
    def working_days_left(self, case: TransferCase) -> str:
        due_at = getattr(case, "current_due_at", None)
        if due_at is None:
            return "-"
        left = get_calendar().working_days_left(due_at, timezone.now())
        if left < 0:
            return str(MSG_DAYS_OVERDUE).format(days=-left)
        return str(left)

    @admin.display(description=_("ID number"))
    def masked_id_number(self, case: TransferCase) -> str:
        return case.id_number_masked

    @admin.display(description=_("phone"))
    def phone_masked(self, case: TransferCase) -> str:
        return phone_mask(case.phone)

    @admin.display(description=_("expected completion"))
    def expected_completion_display(self, case: TransferCase) -> str:
        expected = expected_completion(case, case_open_clock(case), timezone.now(), get_calendar())
        if expected.on is None:
            return "-"
        if expected.provisional:
            label = gettext("(provisional)")
            return f"{expected.on.isoformat()} {label}"
        return expected.on.isoformat()

    @admin.display(description=_("continuity of cover"))
    def continuity_advice(self, case: TransferCase) -> str:
        return case_continuity(case).advice

    def _case_or_404(self, request: HttpRequest, object_id: str) -> TransferCase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        case = self.get_object(request, unquote(object_id))
        if case is None:
            # Outside the user's scope and nonexistent look the same.
            raise Http404(gettext("No such case."))
        return case

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        case = self._case_or_404(request, object_id)
        context = {**(extra_context or {}), **self._action_context(request, case)}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _action_context(self, request: HttpRequest, case: TransferCase) -> dict[str, Any]:
        """The buttons: the actions this user may take now, and taking or assigning the case."""
        user = request.user
        buttons = [
            (
                action_label(action, case.kind),
                self._url("transition", case.pk, action),
            )
            for action in case_allowed_actions(case=case, user=user)
        ]
        agency_code = case.responsible_agency_code()
        return {
            "transition_buttons": buttons,
            "can_take": user_may_take(user, agency_code) and case.assignee_id != user.pk,
            "can_assign": user_may_assign(user, agency_code),
            "take_url": self._url("take", case.pk),
            "assign_url": self._url("assign", case.pk),
        }

    # --- the action views -----------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/transition/<str:action>/",
                wrap(self.transition_view),
                name=self._url_name("transition"),
            ),
            path("<path:object_id>/take/", wrap(self.take_view), name=self._url_name("take")),
            path("<path:object_id>/assign/", wrap(self.assign_view), name=self._url_name("assign")),
            path("id-lookup/", wrap(self.id_lookup_view), name=self._url_name("id_lookup")),
            *super().get_urls(),
        ]

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def _url(self, view: str, *args: Any) -> str:
        return reverse(f"admin:{self._url_name(view)}", args=args)

    def _change_url(self, case: TransferCase) -> str:
        return self._url("change", case.pk)

    def _render(
        self, request: HttpRequest, template: str, case: TransferCase, **context: Any
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"admin/{self.opts.app_label}/{self.opts.model_name}/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": case,
                "change_url": self._change_url(case),
                **context,
            },
        )

    def transition_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """GET: the action's form. POST: ``case_transition`` with the version the form showed."""
        case = self._case_or_404(request, object_id)
        if action not in USER_ACTIONS:
            raise Http404(gettext("No such action."))
        form_class = transition_form_for(action, case.kind)
        if request.method == "POST":
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    case = case_transition(
                        case=case,
                        action=action,
                        actor=request.user,
                        payload=form.payload(),
                        expected_version=form.cleaned_data["version"],
                    )
                except InvalidInput as exc:
                    for field, errors in exc.errors.items():
                        for error in errors:
                            form.add_error(field if field in form.fields else None, error)
                except DomainError as exc:
                    # Stale, forbidden or no longer possible: show the case as it is now.
                    self.message_user(request, refusal_text(exc), messages.ERROR)
                    return redirect(self._change_url(case))
                else:
                    self.message_user(request, transition_done_text(action, case), messages.SUCCESS)
                    return redirect(self._change_url(case))
        else:
            refusal = action_refusal(case=case, user=request.user, action=action)
            if refusal:
                self.message_user(request, refusal, messages.ERROR)
                return redirect(self._change_url(case))
            form = form_class(initial={"version": case.version})
        return self._render(
            request,
            "action_form.html",
            case,
            title=action_label(action, case.kind),
            form=form,
            action=action,
            # What must arrive or be paid out: the form's balance plus the interest declared.
            expected_balance=case.balance_due
            if action in (Action.MOVE_BALANCE, Action.PAY_OUT_BALANCE)
            else None,
        )

    def take_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A caseworker takes the case (POST only: it writes)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self._case_or_404(request, object_id)
        return self._assign(request, case, request.user)

    def assign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A supervisor assigns the case to someone of the agency whose move it is, or to nobody."""
        case = self._case_or_404(request, object_id)
        agency_code = case.responsible_agency_code() or ""
        form = AssignForm(request.POST or None, agency_code=agency_code)
        if request.method == "POST" and form.is_valid():
            return self._assign(request, case, form.cleaned_data["assignee"])
        if request.method != "POST":
            form.initial["assignee"] = case.assignee_id
        return self._render(request, "action_form.html", case, title=gettext("Assign"), form=form)

    def _assign(
        self, request: HttpRequest, case: TransferCase, assignee: User | None
    ) -> HttpResponse:
        try:
            case_assign(case=case, assignee=assignee, actor=request.user)
        except InvalidInput as exc:
            for errors in exc.errors.values():
                for error in errors:
                    self.message_user(request, error, messages.ERROR)
        except DomainError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
        else:
            self.message_user(request, assigned_text(assignee), messages.SUCCESS)
        return redirect(self._change_url(case))

    def id_lookup_view(self, request: HttpRequest) -> HttpResponse:
        """Find a person's cases by full ID number without the number entering a URL or a page.

        One case: its page. Several: the list, filtered by the number's keyed digest.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist_url = self._url("changelist")
        throttle = IdLookupThrottle()
        if not throttle.allow_request(request, None):
            logger.warning("admin id lookup throttled user=%s", request.user.pk)
            self.message_user(request, MSG_ID_LOOKUP_THROTTLED, messages.ERROR)
            return redirect(changelist_url)
        form = IdNumberLookupForm(request.POST)
        if not form.is_valid():
            for error in form.errors.get("id_number", []):
                self.message_user(request, error, messages.ERROR)
            return redirect(changelist_url)
        digest, found = case_find_by_id_number(
            user=request.user, id_number=form.cleaned_data["id_number"], face="admin"
        )
        if not found:
            self.message_user(request, MSG_ID_LOOKUP_NONE, messages.WARNING)
            return redirect(changelist_url)
        if len(found) == 1:
            return HttpResponseRedirect(self._url("change", found[0]))
        return HttpResponseRedirect(f"{changelist_url}?{urlencode({'id_digest': digest})}")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            **(extra_context or {}),
            "id_lookup_url": self._url("id_lookup"),
            "id_lookup_form": IdNumberLookupForm(),
        }
        return super().changelist_view(request, extra_context=context)
