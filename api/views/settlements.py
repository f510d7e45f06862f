"""Settlement between the funds of instant-mode provinces (先划转后清算)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.schema import COMMON, P400, P403, P404, doc
from api.serializers import render
from cases.selectors import settlement_statement_for, settlements_for
from cases.services.settlement import settlement_statement_settle

MSG_NO_SETTLEMENTS = gettext_lazy(
    "Only supervisors and platform accounts of a fund see its settlement."
)


class SettlementListView(APIView):
    @extend_schema(
        tags=["settlements"],
        parameters=[s.SettlementQuerySerializer],
        responses=doc({200: s.SettlementsSerializer, 400: P400, 403: P403, **COMMON}),
    )
    def get(self, request: Request) -> Response:
        """For supervisors and platform accounts of either fund: the statements drawn up and the
        items one agency's fund owes another's for cases completed at once (instant mode), with
        their totals; per fund (``agency``) and month (``period``) when given."""
        query = s.SettlementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        view = settlements_for(
            user=request.user,
            agency=query.validated_data.get("agency"),
            period=query.validated_data.get("period"),
        )
        if view is None:
            raise PermissionDenied(str(MSG_NO_SETTLEMENTS))
        return Response(render(s.SettlementsSerializer, view))


class SettlementSettleView(APIView):
    @extend_schema(
        tags=["settlements"],
        operation_id="settlements_settle",
        request=None,
        parameters=[OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=doc({200: s.SettlementStatementSerializer, 403: P403, 404: P404, **COMMON}),
    )
    def post(self, request: Request, number: str) -> Response:
        """The fund owed (its supervisors or platform account) marks the statement settled: the
        statement and its items record who and when. Once: settling it again changes nothing."""
        statement = (
            None if "\x00" in number else settlement_statement_for(user=request.user, number=number)
        )
        if statement is None:
            raise NotFound(_("There is no settlement statement with this number that you may see."))
        statement = settlement_statement_settle(statement=statement, actor=request.user)
        return Response(render(s.SettlementStatementSerializer, statement))
