"""Agencies and the windows in force at each (public)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.models import Agency
from agencies.rules import agency_rules_view
from api import serializers as s
from api.pagination import Cursor
from api.schema import (
    P400,
    P404,
    P405,
    P429,
    doc,
)
from api.serializers import render, render_many


class AgencyListView(APIView):
    permission_classes = [AllowAny]
    pagination_class = Cursor
    cursor_ordering = ("code",)

    @extend_schema(
        tags=["agencies"],
        operation_id="agencies_list",
        auth=[],
        parameters=[s.AgencyQuerySerializer],
        responses=doc({200: s.AgencySerializer(many=True), 400: P400, 405: P405, 429: P429}),
    )
    def get(self, request: Request) -> Response:
        """Agencies with the working-day windows in force at each."""
        query = s.AgencyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        agencies = Agency.objects.all()
        if query.validated_data.get("province"):
            agencies = agencies.filter(code__startswith=query.validated_data["province"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(agencies, request, view=self)
        return paginator.get_paginated_response(render_many(s.AgencySerializer, page or []))


class AgencyDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["agencies"],
        auth=[],
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=doc({200: s.AgencySerializer, 404: P404, 405: P405, 429: P429}),
    )
    def get(self, request: Request, code: str) -> Response:
        agency = None if "\x00" in code else Agency.objects.filter(code=code).first()
        if agency is None:
            raise NotFound(_("There is no agency with this code."))
        return Response(render(s.AgencySerializer, agency))


class AgencyRulesView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["agencies"],
        operation_id="agencies_rules",
        auth=[],
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=doc({200: s.AgencyRulesSerializer, 404: P404, 405: P405, 429: P429}),
    )
    def get(self, request: Request, code: str) -> Response:
        """The agency's own rules for transfers in: the one in force today and those already
        set to take effect later; its windows. A rule applies to cases submitted after it takes
        effect."""
        agency = None if "\x00" in code else Agency.objects.filter(code=code).first()
        if agency is None:
            raise NotFound(_("There is no agency with this code."))
        return Response(render(s.AgencyRulesSerializer, agency_rules_view(agency)))
