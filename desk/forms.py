"""The workbench's own forms: the queue's filters, bulk assignment, the dashboard's range.

The values they accept are the selectors' and the services' (``cases.selectors.case_list_for``'s
filters, ``cases.inputs``' limits and rules); the forms only say them in words. The forms an action
is taken through are ``cases.forms``' (the admin's too).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases.inputs import DUE_WITHIN_MAX, REFERENCE_MAX_LENGTH, stats_range_clean
from cases.states import CaseState, InsuranceType, Scope

ANY = [("", _("Any"))]


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
    due_within = forms.IntegerField(
        label=_("Due within (working days)"),
        required=False,
        min_value=1,
        max_value=DUE_WITHIN_MAX,
        widget=forms.NumberInput(attrs={"min": 1, "max": DUE_WITHIN_MAX, "inputmode": "numeric"}),
    )
    assignee = forms.ChoiceField(
        label=_("Assignee"),
        required=False,
        choices=[*ANY, ("me", _("Me")), ("nobody", _("Nobody"))],
    )
    scope = forms.ChoiceField(label=_("Kind"), required=False, choices=ANY + Scope.choices)
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
            for name in ("state", "side", "due_within", "assignee", "scope", "insurance_type")
            if data.get(name)
        }
        if data.get("show") != "all":
            filters["turn"] = "mine"
        if data.get("urgency"):
            filters["overdue"] = data["urgency"] == "overdue"
        if data.get("q"):
            filters["reference"] = data["q"].strip().upper()
        return filters


class BulkAssignForm(forms.Form):
    references = forms.MultipleChoiceField(label=_("Cases"), choices=[])
    assignee = forms.ModelChoiceField(
        label=_("Assign to"), queryset=User.objects.none(), required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args: Any, references: list[str], people: Any, **kwargs: Any) -> None:
        # Its own ids: the queue's filter form on the same page has an "assignee" too.
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)
        self.fields["references"].choices = [(r, r) for r in references]
        field = self.fields["assignee"]
        field.queryset = people.order_by("username")
        field.label_from_instance = lambda u: u.real_name or u.username


class RangeForm(forms.Form):
    """The dashboard's date range: ``stats_range_clean``'s defaults and limits, the API's."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            start, end = stats_range_clean(
                data.get("date_from"), data.get("date_to"), today=self.today
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    self.add_error(field, error)
            return data
        data["date_from"], data["date_to"] = start, end
        return data
