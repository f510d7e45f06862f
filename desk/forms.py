"""The workbench's own forms: the queue's filters, bulk assignment, the dashboard's range.

The values they accept are the selectors' and the services' (``cases.selectors.case_list_for``'s
filters, ``cases.inputs``' limits and rules); the forms only say them in words. The forms an action
is taken through are ``cases.forms``' (the admin's too).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from agencies.models import agency_code_validator
from cases.inputs import (
    DUE_WITHIN_MAX,
    REFERENCE_MAX_LENGTH,
    date_parse,
    due_within_parse,
    period_parse,
    reference_clean,
    stats_range_clean,
)
from cases.states import CaseKind, CaseState, InsuranceType, Scope

ANY = [("", _("Any"))]
# One page of the queue.
BULK_MAX = 50
NOBODY = "nobody"


class QueueFilterForm(forms.Form):
    """GET parameters of the queue. Unknown or bad values are errors shown above the list."""

    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("", _("Waiting on my agency")),
            ("all", _("All cases of my agency")),
        ],
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=ANY + CaseState.choices)
    side = forms.ChoiceField(
        label=_("My agency's side"),
        required=False,
        choices=[*ANY, ("out", _("Transfer-out (ours)")), ("in", _("Transfer-in (ours)"))],
    )
    urgency = forms.ChoiceField(
        label=_("Deadline"),
        required=False,
        choices=[*ANY, ("overdue", _("Overdue")), ("not_overdue", _("Not overdue"))],
    )
    # Text through the rule's own parser, as the API reads it (IntegerField would take "３").
    due_within = forms.CharField(
        label=_("Due within (working days)"),
        required=False,
        validators=[due_within_parse],
        widget=forms.NumberInput(attrs={"min": 1, "max": DUE_WITHIN_MAX, "inputmode": "numeric"}),
    )
    assignee = forms.ChoiceField(
        label=_("Assignee"),
        required=False,
        choices=[*ANY, ("me", _("Me")), ("nobody", _("Nobody"))],
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=ANY + CaseKind.choices)
    scope = forms.ChoiceField(
        label=_("Within or between provinces"), required=False, choices=ANY + Scope.choices
    )
    insurance_type = forms.ChoiceField(
        label=_("Insurance type"), required=False, choices=ANY + InsuranceType.choices
    )
    q = forms.CharField(
        label=_("Case reference"),
        required=False,
        max_length=REFERENCE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def filters(self) -> dict[str, Any]:
        """The cleaned values as ``case_list_for`` filters."""
        data = self.cleaned_data
        filters: dict[str, Any] = {
            name: data[name]
            for name in ("state", "side", "assignee", "kind", "scope", "insurance_type")
            if data.get(name)
        }
        if data.get("due_within"):
            filters["due_within"] = due_within_parse(data["due_within"])
        if data.get("show") != "all":
            filters["turn"] = "mine"
        if data.get("urgency"):
            filters["overdue"] = data["urgency"] == "overdue"
        if data.get("q"):
            filters["reference"] = data["q"].strip().upper()
        return filters


MSG_BULK_NONE = _("Tick the cases to assign first.")
MSG_BULK_UNKNOWN = _("Some of the ticked cases do not exist; reload the queue.")
REFERENCE_TEXT = re.compile(rf"[A-Z0-9]{{1,{REFERENCE_MAX_LENGTH}}}", re.ASCII)
MSG_BULK_TOO_MANY = _("Assign at most {n} cases at once (one page of the queue).")


class BulkAssignForm(forms.Form):
    """The ticked cases (references, by the API's rule) and to whom; a page's worth at most."""

    # A choice must be made: "nobody" (clearing the ticked cases) is one, never the default, so a
    # click on "Assign" with the list untouched changes nothing.
    assignee = forms.ChoiceField(
        label=_("Assign to"),
        choices=[],
        error_messages={"required": _("Choose whom to assign the ticked cases to.")},
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        # Its own ids: the queue's filter form on the same page has an "assignee" too.
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)
        self.people = {str(u.pk): u for u in people.order_by("username")}
        self.fields["assignee"].choices = [
            ("", _("Choose…")),
            *((pk, u.real_name or u.username) for pk, u in self.people.items()),
            (NOBODY, _("Nobody (unassign them)")),
        ]

    def clean_assignee(self) -> User | None:
        value = self.cleaned_data["assignee"]
        return None if value == NOBODY else self.people[value]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = self.data.getlist("references") if hasattr(self.data, "getlist") else []
        references: list[str] = []
        for value in raw:
            reference = reference_clean(value)
            if not REFERENCE_TEXT.fullmatch(reference):
                # No case has such a reference (and the database could not compare a NUL).
                raise ValidationError(str(MSG_BULK_UNKNOWN))
            if reference not in references:
                references.append(reference)
        if not references:
            raise ValidationError(str(MSG_BULK_NONE))
        if len(references) > BULK_MAX:
            raise ValidationError(str(MSG_BULK_TOO_MANY).format(n=BULK_MAX))
        data["references"] = references
        return data


class RangeForm(forms.Form):
    """The dashboard's date range: ``stats_range_clean``'s defaults and limits, the API's."""

    # Text through the rule's own parser (DateField would read full-width digits).
    date_from = forms.CharField(
        label=_("From"),
        required=False,
        validators=[date_parse],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.CharField(
        label=_("To"),
        required=False,
        validators=[date_parse],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    # One agency's line (the page offers those with figures in the range); empty: all of them.
    agency = forms.CharField(label=_("Agency"), required=False, validators=[agency_code_validator])

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            start, end = stats_range_clean(
                date_parse(data.get("date_from")), date_parse(data.get("date_to")), today=self.today
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(field, error)
            return data
        data["date_from"], data["date_to"] = start, end
        return data


class SettlementFilterForm(forms.Form):
    """The settlement page's choice: one month (``cases.inputs.period_parse``), one fund."""

    period = forms.CharField(
        label=_("Month"),
        required=False,
        validators=[period_parse],
        widget=forms.TextInput(attrs={"placeholder": "2026-11", "inputmode": "numeric"}),
        help_text=_("YYYY-MM; empty: every month."),
    )
    agency = forms.CharField(
        label=_("Fund (agency code)"),
        required=False,
        validators=[agency_code_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 6}),
    )

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        period = data.get("period")
        return {
            "period": period_parse(period) if period else None,
            "agency": data.get("agency") or None,
        }
