"""The forms staff act through, on every page that offers an action (the workbench, the admin).

Each form's fields are the action's body for ``cases.services.case_transition`` and read their
values through the rules of ``cases.inputs`` (the API's serializers use the same rules); the service
validates the body again and decides who may do what. One home for the labels and help texts that
say what each field means.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import assignees_for
from cases.errors import (
    MSG_ACTION_FORBIDDEN,
    MSG_TRANSITION_NOT_ALLOWED,
    ActionForbidden,
    TransitionNotAllowed,
)
from cases.inputs import (
    AMOUNT_TEXT_MAX_LENGTH,
    CONTRIBUTION_MONTHS_MAX,
    ID_NUMBER_TEXT_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    REPEAT_REASON_MAX_LENGTH,
    YEARS_REPAIRED_MAX,
    amount_parse,
    date_parse,
    materials_from_lines,
    materials_parse,
    months_parse,
    note_clean,
    years_repaired_parse,
)
from cases.models import TransferCase
from cases.services import case_allowed_actions
from cases.states import (
    Action,
    CaseKind,
    CaseState,
    RejectReason,
    action_label,
    choice_label,
    state_label,
)
from core.errors import DomainError
from core.identity import id_number_validate

MSG_TRANSITION_DONE = _("{action}: done. The case is now “{state}”.")
MSG_ASSIGNED = _("The case is now assigned to {assignee}.")
MSG_UNASSIGNED = _("The case is no longer assigned to anyone.")
MSG_ID_LOOKUP_NONE = _("No case you can see has this ID number.")
MSG_ID_LOOKUP_THROTTLED = _("Too many ID number lookups; try again later.")


class TransitionForm(forms.Form):
    """The fields every action takes; ``version`` is the one the user saw (optimistic check)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    # The limit is the rule's (one message); the browser is told it too.
    note = forms.CharField(
        label=_("Note"),
        required=False,
        validators=[note_clean],
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "maxlength": NOTE_MAX_LENGTH}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The action's own fields first, the free-text note last.
        self.order_fields([name for name in self.fields if name != "note"] + ["note"])

    def payload(self) -> dict[str, Any]:
        """The action's body for ``case_transition``; the service validates it again."""
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class ApproveTransferOutForm(TransitionForm):
    # Text, not IntegerField: Django's would read "１２" as 12 before the rule sees it.
    contribution_months = forms.CharField(
        label=_("Contribution months"),
        validators=[months_parse],
        widget=forms.NumberInput(attrs={"min": 0, "max": CONTRIBUTION_MONTHS_MAX}),
    )
    personal_account_balance = forms.CharField(
        label=_("Personal account balance (yuan)"),
        required=False,
        validators=[amount_parse],
        widget=forms.TextInput(attrs={"maxlength": AMOUNT_TEXT_MAX_LENGTH}),
        help_text=_("Leave empty for resident insurance (no personal account)."),
    )
    deemed_months = forms.CharField(
        label=_("Deemed contribution months"),
        required=False,
        validators=[months_parse],
        widget=forms.NumberInput(attrs={"min": 0, "max": CONTRIBUTION_MONTHS_MAX}),
        help_text=_("视同缴费月数; leave empty for none."),
    )
    interest = forms.CharField(
        label=_("Interest included (yuan)"),
        required=False,
        validators=[amount_parse],
        widget=forms.TextInput(attrs={"maxlength": AMOUNT_TEXT_MAX_LENGTH}),
        help_text=_(
            "Declared on the information form; the transfer-in agency must receive the balance plus this."
        ),
    )
    no_arrears = forms.BooleanField(
        label=_("No contributions in arrears"),
        required=False,
        initial=True,
        help_text=_("With arrears, reject the application with the reason 'arrears' instead."),
    )
    # Text through the rule's own parser (Django's DateField would read full-width digits).
    stopped_at_source_on = forms.CharField(
        label=_("Actual stop date at source"),
        required=False,
        validators=[date_parse],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to keep the date given at intake."),
    )
    enrolled_at_source_since = forms.CharField(
        label=_("Enrolled here since"),
        required=False,
        validators=[date_parse],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The start of the enrolment period here, for the information form."),
    )


class CancelRelationshipForm(ApproveTransferOutForm):
    """A merge's approval: the cancelling agency's check and the duplicate enrolment's figures."""

    stopped_at_source_on = forms.CharField(
        label=_("Cancelled on"),
        required=False,
        validators=[date_parse],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for today."),
    )
    account_normal = forms.BooleanField(
        label=_("The relationship is in a normal state"),
        required=False,
        initial=True,
        help_text=_("No arrears and no anomaly; otherwise have it resolved first, or reject."),
    )
    overlap_months = forms.CharField(
        label=_("Months enrolled at both places"),
        validators=[months_parse],
        widget=forms.NumberInput(attrs={"min": 0, "max": CONTRIBUTION_MONTHS_MAX}),
    )
    refund_amount = forms.CharField(
        label=_("Refund of the contributions paid twice (yuan)"),
        validators=[amount_parse],
        widget=forms.TextInput(attrs={"maxlength": AMOUNT_TEXT_MAX_LENGTH}),
        help_text=_("0.00 if nothing was paid twice."),
    )


class ConfirmTransferInForm(TransitionForm):
    months_at_target = forms.CharField(
        label=_("Months already at the target"),
        required=False,
        validators=[months_parse],
        widget=forms.NumberInput(attrs={"min": 0, "max": CONTRIBUTION_MONTHS_MAX}),
        help_text=_(
            "The months the person already had here in the same insurance type; leave empty for none."
        ),
    )
    years_repaired = forms.CharField(
        label=_("Years of contributions paid back"),
        required=False,
        validators=[years_repaired_parse],
        widget=forms.NumberInput(attrs={"min": 0, "max": YEARS_REPAIRED_MAX}),
        help_text=_(
            "Resident insurance (缴费修复): each year removes a month of the waiting period."
        ),
    )


class RequestMaterialsForm(TransitionForm):
    missing_materials = forms.CharField(
        label=_("Missing materials"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("One item per line, everything at once (一次性告知)."),
    )

    repeat_reason = forms.CharField(
        label=_("Why ask again"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60, "maxlength": REPEAT_REASON_MAX_LENGTH}),
        help_text=_(
            "Only when materials were already requested once: what is wrong with the resubmitted "
            "materials themselves. A repeat request never restarts the deadline."
        ),
    )

    def clean_missing_materials(self) -> list[str]:
        return materials_parse(materials_from_lines(self.cleaned_data["missing_materials"]))


class MoveBalanceForm(TransitionForm):
    amount = forms.CharField(
        label=_("Amount received (yuan)"),
        validators=[amount_parse],
        widget=forms.TextInput(attrs={"maxlength": AMOUNT_TEXT_MAX_LENGTH}),
    )


class PayOutBalanceForm(TransitionForm):
    amount = forms.CharField(
        label=_("Amount paid to the person (yuan)"),
        validators=[amount_parse],
        widget=forms.TextInput(attrs={"maxlength": AMOUNT_TEXT_MAX_LENGTH}),
    )


class RejectForm(TransitionForm):
    reason_code = forms.ChoiceField(label=_("Reason"), choices=RejectReason.choices)


TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    Action.APPROVE_TRANSFER_OUT: ApproveTransferOutForm,
    Action.REQUEST_MATERIALS: RequestMaterialsForm,
    Action.CONFIRM_TRANSFER_IN: ConfirmTransferInForm,
    Action.MOVE_BALANCE: MoveBalanceForm,
    Action.PAY_OUT_BALANCE: PayOutBalanceForm,
    Action.REJECT: RejectForm,
}


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("(nobody)"),
    )

    def __init__(self, *args: Any, agency_code: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = assignees_for(agency_code).order_by("username")
        field.label_from_instance = lambda u: f"{u.real_name or u.username} ({u.username})"


class IdNumberLookupForm(forms.Form):
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=ID_NUMBER_TEXT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_id_number(self) -> str:
        return id_number_validate(self.cleaned_data["id_number"])


def refusal_text(exc: DomainError) -> str:
    """A service's refusal in a page's words: labels where the API's message has codes."""
    if isinstance(exc, TransitionNotAllowed):
        return str(MSG_TRANSITION_NOT_ALLOWED).format(
            state=choice_label(CaseState, exc.state), action=choice_label(Action, exc.action)
        )
    if isinstance(exc, ActionForbidden):
        # Only submitting (never done here) refuses with a text of its own.
        return str(MSG_ACTION_FORBIDDEN).format(action=choice_label(Action, exc.action))
    return str(exc.message)


def action_refusal(*, case: TransferCase, user: Any, action: str) -> str:
    """Why ``user`` cannot take ``action`` on ``case`` now, in words, or "" if they can."""
    if action in case_allowed_actions(case=case, user=user):
        return ""
    if action in {t.name for t in case.get_available_state_transitions()}:
        return refusal_text(ActionForbidden(action))
    return refusal_text(TransitionNotAllowed(state=case.state, action=action, allowed_actions=[]))


def transition_form_for(action: str, kind: str = CaseKind.TRANSFER) -> type[TransitionForm]:
    """The form of ``action`` on a case of ``kind`` (the plain one, a note, for actions with no
    fields of their own)."""
    if kind == CaseKind.MERGE and action == Action.APPROVE_TRANSFER_OUT:
        return CancelRelationshipForm
    return TRANSITION_FORMS.get(action, TransitionForm)


def transition_done_text(action: str, case: TransferCase) -> str:
    return str(MSG_TRANSITION_DONE).format(
        action=action_label(action, case.kind), state=state_label(case.state, case.kind)
    )


def assigned_text(assignee: User | None) -> str:
    """Who holds the case now, by the name people know them by."""
    if assignee is None:
        return str(MSG_UNASSIGNED)
    return str(MSG_ASSIGNED).format(assignee=assignee.real_name or assignee.username)
