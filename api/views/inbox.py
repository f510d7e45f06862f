"""The in-app notifications inbox."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.pagination import Cursor
from api.schema import (
    COMMON,
    P400,
    P404,
    doc,
)
from api.serializers import render, render_many
from notifications.models import Notification
from notifications.services import notification_mark_read, notifications_for


class NotificationListView(APIView):
    pagination_class = Cursor
    cursor_ordering = ("-created_at", "-id")

    @extend_schema(
        tags=["notifications"],
        operation_id="notifications_list",
        parameters=[s.NotificationQuerySerializer],
        responses=doc({200: s.NotificationSerializer(many=True), 400: P400, **COMMON}),
    )
    def get(self, request: Request) -> Response:
        """Your in-app notifications, newest first (``unread=true`` for the unread ones)."""
        query = s.NotificationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        inbox = notifications_for(user=request.user)
        if "unread" in query.validated_data:
            inbox = inbox.filter(read_at__isnull=query.validated_data["unread"] == "true")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(inbox, request, view=self)
        return paginator.get_paginated_response(render_many(s.NotificationSerializer, page or []))


class NotificationReadView(APIView):
    @extend_schema(
        tags=["notifications"],
        operation_id="notifications_read",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=None,
        responses=doc({200: s.NotificationSerializer, 404: P404, **COMMON}),
    )
    def post(self, request: Request, id: int) -> Response:
        """Mark one of your notifications read (again: no change). Anybody else's is a 404."""
        try:
            notification = notification_mark_read(
                notification=Notification.objects.get(pk=id), user=request.user
            )
        except Notification.DoesNotExist:
            raise NotFound(_("There is no such notification of yours.")) from None
        return Response(render(s.NotificationSerializer, notification))
