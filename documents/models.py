"""Issued documents: what was issued, by whom, when, from which facts, and the signed PDF itself,
kept encrypted under the ID number keys in Django's storage (it may carry a full ID number). The
facts kept here (``data``, no ID number) with the number and instant render the same bytes again,
should the file be lost."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    INFORMATION_FORM = "information-form", _("Information form")
    INSURANCE_CERTIFICATE = "insurance-certificate", _("Proof of insurance")
    CONTACT_LETTER = "contact-letter", _("Contact letter")


class IssuedDocument(models.Model):
    number = models.CharField(_("document number"), max_length=40, unique=True)
    kind = models.CharField(_("document kind"), max_length=30, choices=DocumentKind.choices)
    case = models.ForeignKey(
        "cases.TransferCase",
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("case"),
    )
    issuer = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("issuer")
    )
    issued_at = models.DateTimeField(_("issued at"))
    # The facts printed (no ID number: see the module's docstring), and their digest, which is
    # compared with the case's facts now to tell a document still valid from a superseded one.
    data = models.JSONField(_("facts printed"))
    data_digest = models.CharField(_("facts digest"), max_length=64)
    sha256 = models.CharField("SHA-256", max_length=64)
    storage_name = models.CharField(_("stored as"), max_length=200, blank=True, editable=False)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        ordering = ["case", "kind", "-issued_at"]
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        constraints = [
            # At most one current document of a kind per case.
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(superseded_at__isnull=True),
                name="one_current_document_per_kind",
            )
        ]

    def __str__(self) -> str:
        return self.number
