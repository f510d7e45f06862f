"""Documents (api.md "Additions"): what a case can have now, the signed PDFs, and their
verification by anyone holding a number."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.schema import COMMON, P404, P429, P503, REFERENCE, doc, problem
from api.serializers import render, render_many
from api.views.cases import _visible_case
from core.throttling import DocumentVerificationThrottle
from documents.downloads import document_response
from documents.models import DocumentKind
from documents.services import (
    MSG_NO_SUCH_NUMBER,
    DocumentNotAvailable,
    document_issue,
    document_verify,
    documents_list,
)

MSG_NO_SUCH_DOCUMENT = gettext_lazy("The case has no such document (yet).")

KIND = OpenApiParameter(
    "kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(DocumentKind.values)
)


def document_pdf_url(reference: str, kind: str) -> str:
    return reverse("api:case-document-pdf", kwargs={"reference": reference, "kind": kind})


class CaseDocumentsView(APIView):
    @extend_schema(
        tags=["documents"],
        operation_id="cases_documents_list",
        parameters=[REFERENCE],
        responses=doc({200: s.DocumentSerializer(many=True), 404: P404, **COMMON}),
    )
    def get(self, request: Request, reference: str) -> Response:
        """The documents the case can have now (the information form and the proof of insurance
        once the transfer-out agency approved; the contact letter while the case is alive)."""
        case = _visible_case(request, reference)
        rows: list[dict[str, Any]] = [
            {
                "kind": listing.kind,
                "kind_label": listing.kind_label,
                "number": listing.document.number if listing.document else None,
                "issued_at": listing.document.issued_at if listing.document else None,
                "valid": listing.valid,
                "url": document_pdf_url(case.reference, listing.kind),
            }
            for listing in documents_list(case)
        ]
        return Response(render_many(s.DocumentSerializer, rows))


class CaseDocumentPdfView(APIView):
    @extend_schema(
        tags=["documents"],
        operation_id="cases_documents_pdf",
        parameters=[REFERENCE, KIND],
        responses=doc(
            {
                (200, "application/pdf"): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The signed PDF"
                ),
                404: P404,
                **COMMON,
                503: problem(
                    "Documents cannot be issued now (code `documents_unavailable`: a signing key "
                    "or the font is missing), or the database is unavailable"
                ),
            }
        ),
    )
    def get(self, request: Request, reference: str, kind: str) -> HttpResponse:
        """The signed PDF (PAdES, the issuing agency's key): issued on first fetch, the same bytes
        again while the facts it prints are unchanged, a new number once they changed."""
        case = _visible_case(request, reference)
        try:
            issued = document_issue(case=case, kind=kind, now=timezone.now())
        except DocumentNotAvailable:
            raise NotFound(MSG_NO_SUCH_DOCUMENT) from None
        return document_response(issued)


class DocumentVerificationView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [DocumentVerificationThrottle]

    @extend_schema(
        tags=["documents"],
        auth=[],
        operation_id="documents_verification",
        parameters=[OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=doc(
            {
                200: s.DocumentVerificationSerializer,
                404: P404,
                429: P429,
                503: P503,
            }
        ),
    )
    def get(self, request: Request, number: str) -> Response:
        """Anyone: who issued the document, when, for which case, its SHA-256 (compare it with the
        file's), and whether it is still valid or superseded. Throttled per address."""
        verification = document_verify(number)
        if verification is None:
            raise NotFound(MSG_NO_SUCH_NUMBER)
        return Response(render(s.DocumentVerificationSerializer, verification))
