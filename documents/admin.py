"""Issued documents in the admin: read only, for staff who may see the case (the selectors' rule)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cases.admin import StaffReadOnlyAdmin
from cases.selectors import case_queryset_for
from documents.models import IssuedDocument


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(StaffReadOnlyAdmin):
    list_display = ("number", "kind", "case_reference", "issuer", "issued_at", "superseded_at")
    list_filter = ("kind",)
    search_fields = ("=number", "=case__reference")
    search_help_text = _("Document number or case reference (exact)")
    show_facets = admin.ShowFacets.NEVER
    # The facts printed hold the applicant's name: the case page shows what staff may see of it.
    fields = readonly_fields = (
        "number",
        "kind",
        "case_reference",
        "issuer",
        "issued_at",
        "superseded_at",
        "sha256",
    )

    @admin.display(description=_("Case"), ordering="case__reference")
    def case_reference(self, document: IssuedDocument) -> str:
        return document.case.reference

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("case", "issuer")
            .filter(case__in=case_queryset_for(request.user))
        )
