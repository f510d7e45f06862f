"""The anonymous status lookup (reference + the ID number's last 6 characters)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.schema import (
    P405,
    P429,
    P503,
    WRITE,
    doc,
    problem,
)
from api.serializers import render
from cases.inputs import MSG_NO_STATUS_MATCH
from cases.presenters import status_view
from cases.selectors import (
    case_status_lookup,
)
from core.throttling import StatusLookupThrottle


class StatusLookupView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [StatusLookupThrottle]

    @extend_schema(
        tags=["status"],
        auth=[],
        request=s.StatusLookupInputSerializer,
        responses=doc(
            {
                200: s.StatusDocumentSerializer,
                404: problem("No case matches the reference and the ID number suffix"),
                **WRITE,
                405: P405,
                429: P429,
                503: P503,
            }
        ),
    )
    def post(self, request: Request) -> Response:
        """Anonymous status by reference and the last 6 characters of the ID number: state,
        stage, due date, next step; nothing personal. Throttled per address."""
        body = s.StatusLookupInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = case_status_lookup(**body.validated_data)
        if case is None:
            raise NotFound(str(MSG_NO_STATUS_MATCH))
        return Response(render(s.StatusDocumentSerializer, status_view(case)))
