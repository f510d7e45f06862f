"""Issued documents: what was issued, by whom, when, from which facts. The PDF itself is not kept:
it is rendered again, byte for byte, from the facts kept here (``data``) and the issue's number and
instant, so nothing holding a full ID number lies on disk (the number comes from the case's
encrypted field at rendering)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    INFORMATION_FORM = "information-form", _("Information form")
    INSURANCE_CERTIFICATE = "insurance-certificate", _("Proof of insurance")
    CONTACT_LETTER = "contact-letter", _("Contact letter")


class IssuedDocument(models.Model):
    number = models.CharField(_("document number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind.choices)
    case = models.ForeignKey(
        "cases.TransferCase", on_delete=models.PROTECT, related_name="documents"
    )
    issuer = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("issuer")
    )
    issued_at = models.DateTimeField(_("issued at"))
    # The facts printed (no ID number: see the module's docstring), and their digest, which is
    # compared with the case's facts now to tell a document still valid from a superseded one.
    data = models.JSONField()
    data_digest = models.CharField(max_length=64)
    sha256 = models.CharField("SHA-256", max_length=64)
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
