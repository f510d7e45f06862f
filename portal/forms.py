"""The pages' forms: each field's rule and limit is the one in ``cases.inputs`` (the API's too)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.inputs import REFERENCE_MAX_LENGTH, id_number_suffix_clean, reference_clean
from cases.services.attachments import LABEL_MAX_LENGTH


class StatusLookupForm(forms.Form):
    # Named as in the API (POST /api/v1/status-lookup/), so a person and a program say the same.
    reference = forms.CharField(
        label=_("Case reference"),
        max_length=REFERENCE_MAX_LENGTH,
        help_text=_("On the acknowledgement you received, e.g. YB2026112300000042."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    id_number_suffix = forms.CharField(
        label=_("Last 6 characters of the ID number"),
        max_length=6,
        validators=[id_number_suffix_clean],
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )

    def clean_reference(self) -> str:
        return reference_clean(self.cleaned_data["reference"])

    def clean_id_number_suffix(self) -> str:
        return id_number_suffix_clean(self.cleaned_data["id_number_suffix"])


class AttachmentForm(forms.Form):
    """The file is judged by the attachment service (type by content, size, label)."""

    label = forms.CharField(
        label=_("What the file is"),
        max_length=LABEL_MAX_LENGTH,
        help_text=_("For example 离职证明."),
    )
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class ConfirmForm(forms.Form):
    """A confirmation step: the version the person saw, so a case that moved meanwhile is said."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
