"""SLA statistics for supervisors."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import user_may_see_sla_stats
from api import serializers as s
from api.schema import (
    COMMON,
    P400,
    P403,
    doc,
)
from api.serializers import render
from cases.selectors import (
    sla_series,
    sla_stats,
)
from cases.workload import workload_stats


class SlaStatsView(APIView):
    @extend_schema(
        tags=["stats"],
        parameters=[s.SlaStatsQuerySerializer],
        responses=doc({200: s.SlaStatsSerializer, 400: P400, 403: P403, **COMMON}),
    )
    def get(self, request: Request) -> Response:
        """For supervisors: on-time rate of the stages completed in the range, and open and
        overdue counts now, per stage and agency of their agency (or province)."""
        if not user_may_see_sla_stats(request.user):
            raise PermissionDenied(_("Only supervisors see SLA statistics."))
        query = s.SlaStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        stats = sla_stats(user=request.user, now=timezone.now(), **query.validated_data)
        return Response(render(s.SlaStatsSerializer, stats), status=status.HTTP_200_OK)


class SlaSeriesView(APIView):
    @extend_schema(
        tags=["stats"],
        parameters=[s.SlaSeriesQuerySerializer],
        responses=doc({200: s.SlaSeriesSerializer, 400: P400, 403: P403, **COMMON}),
    )
    def get(self, request: Request) -> Response:
        """For supervisors: stages completed per day and stage in the range, and how many on time,
        summed over their agency (or province); days without a completed stage are left out."""
        if not user_may_see_sla_stats(request.user):
            raise PermissionDenied(_("Only supervisors see SLA statistics."))
        query = s.SlaSeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = sla_series(user=request.user, **query.validated_data)
        body = {**query.validated_data, "rows": rows}
        return Response(render(s.SlaSeriesSerializer, body), status=status.HTTP_200_OK)


class WorkloadView(APIView):
    @extend_schema(
        tags=["stats"],
        responses=doc({200: s.WorkloadSerializer, 403: P403, **COMMON}),
    )
    def get(self, request: Request) -> Response:
        """For supervisors: the open stages of their agency (or province) now, by lateness
        (working days past the deadline), per caseworker, and falling due on each of the next
        10 working days (the dashboard's figures)."""
        if not user_may_see_sla_stats(request.user):
            raise PermissionDenied(_("Only supervisors see SLA statistics."))
        body = workload_stats(user=request.user, now=timezone.now())
        return Response(render(s.WorkloadSerializer, body), status=status.HTTP_200_OK)
