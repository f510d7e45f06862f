"""The outbox in the admin: read-only, for operators to see what went out and what failed."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "channel",
        "subject_ref",
        "recipient",
        "status",
        "attempts",
    ]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["subject_ref", "dedup_key"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False
