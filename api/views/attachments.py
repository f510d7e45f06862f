"""A case's attachments: upload, list, download, for those who may see the case."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.idempotency import idempotent
from api.pagination import Cursor
from api.schema import (
    COMMON,
    IDEMPOTENCY_KEY,
    P400,
    P404,
    P409_IDEMPOTENCY,
    REFERENCE,
    doc,
    problem,
)
from api.serializers import render, render_many
from api.views.cases import _visible_case
from cases.downloads import attachment_response
from cases.services.attachments import (
    attachment_add,
    attachment_get,
    max_megabytes,
)
from core.throttling import UploadThrottle

MSG_NO_SUCH_ATTACHMENT = gettext_lazy("No such attachment.")

P413 = problem(f"The file is larger than the limit ({max_megabytes()} MB)")
P415 = problem("Not a PDF, JPEG or PNG file by its content, or a damaged image")


class CaseAttachmentsView(APIView):
    parser_classes = [MultiPartParser]
    throttle_classes = [*APIView.throttle_classes, UploadThrottle]
    pagination_class = Cursor
    cursor_ordering = ("uploaded_at", "id")

    @extend_schema(
        tags=["attachments"],
        operation_id="cases_attachments_list",
        parameters=[REFERENCE],
        responses=doc({200: s.AttachmentSerializer(many=True), 404: P404, **COMMON}),
    )
    def get(self, request: Request, reference: str) -> Response:
        """The case's attachments, oldest first."""
        case = _visible_case(request, reference)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            case.attachments.select_related("case"), request, view=self
        )
        return paginator.get_paginated_response(render_many(s.AttachmentSerializer, page or []))

    @extend_schema(
        tags=["attachments"],
        operation_id="cases_attachments_create",
        parameters=[REFERENCE, IDEMPOTENCY_KEY],
        request={"multipart/form-data": s.AttachmentInputSerializer},
        description=(
            f"Add a file (PDF, JPEG or PNG by content, at most {max_megabytes()} MB; at most "
            f"{settings.ATTACHMENT_MAX_PER_CASE} per case). Images are re-encoded, which removes "
            "their metadata. With an `Idempotency-Key`, the same key, label and file again "
            "return the first answer and store nothing."
        ),
        responses=doc(
            {
                201: s.AttachmentSerializer,
                400: P400,
                404: P404,
                409: P409_IDEMPOTENCY,
                413: P413,
                415: P415,
                **COMMON,
            }
        ),
    )
    def post(self, request: Request, reference: str) -> Response:
        # A body declared too large never gets here (config.errors.UploadSizeMiddleware).
        case = _visible_case(request, reference)

        def create() -> tuple[int, dict, dict[str, str]]:
            attachment = attachment_add(
                case=case,
                actor=request.user,
                upload=request.FILES.get("file"),
                label=str(request.data.get("label", "")),
                now=timezone.now(),
            )
            return 201, render(s.AttachmentSerializer, attachment), {}

        return idempotent(request, create)


class CaseAttachmentFileView(APIView):
    @extend_schema(
        tags=["attachments"],
        operation_id="cases_attachments_file",
        parameters=[
            REFERENCE,
            OpenApiParameter("attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH),
        ],
        responses=doc(
            {
                **{
                    (200, media): OpenApiResponse(OpenApiTypes.BINARY, description="The file")
                    for media in ("application/pdf", "image/jpeg", "image/png")
                },
                404: P404,
                **COMMON,
            }
        ),
    )
    def get(self, request: Request, reference: str, attachment_id: int) -> FileResponse:
        """The file itself, with its content type, never cached by shared caches."""
        case = _visible_case(request, reference)
        attachment = attachment_get(case=case, attachment_id=attachment_id)
        if attachment is None:
            raise NotFound(MSG_NO_SUCH_ATTACHMENT)
        return attachment_response(attachment)
