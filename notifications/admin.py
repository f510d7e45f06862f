"""The outbox in the admin: read-only, for operators to see what went out and what failed."""

from __future__ import annotations

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.permissions import is_staff_administrator
from core.identity import phone_mask
from notifications.models import Notification


def address_mask(address: str) -> str:
    """``zh***@example.org``, ``138****5678``, or a URL's scheme and host only."""
    if not address:
        return ""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:2]}***@{domain}"
    if "://" in address:
        scheme, _, rest = address.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}/…"
    return phone_mask(address)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    # The message's own subject says what it is in words; ``kind`` is a code the causes use.
    list_display = [
        "created_at",
        "subject",
        "channel",
        "subject_ref",
        "recipient",
        "status",
        "attempts",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["subject_ref", "dedup_key"]
    date_hierarchy = "created_at"
    # The address (a phone number or an e-mail address) is shown masked, never whole; the machine
    # fields (the deduplication key, the payload a webhook receives) as the code they are.
    readonly_fields = [
        *(
            f.name
            for f in Notification._meta.fields
            if f.name not in ("id", "address", "kind", "dedup_key", "payload")
        ),
        "masked_address",
        "dedup_key_code",
        "payload_code",
    ]
    exclude = ["address", "kind", "dedup_key", "payload"]

    @admin.display(description=_("address"))
    def masked_address(self, notification: Notification) -> str:
        return address_mask(notification.address)

    @admin.display(description=_("deduplication key"))
    def dedup_key_code(self, notification: Notification) -> str:
        return format_html('<code lang="en" translate="no">{}</code>', notification.dedup_key)

    @admin.display(description=_("details sent (machine data)"))
    def payload_code(self, notification: Notification) -> str:
        text = json.dumps(notification.payload, ensure_ascii=False, indent=2, default=str)
        return format_html('<pre lang="en" translate="no">{}</pre>', text)

    def _is_operator(self, request: HttpRequest) -> bool:
        # The outbox spans every agency and person: administrators only.
        return is_staff_administrator(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_operator(request)

    def has_view_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return self._is_operator(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False
