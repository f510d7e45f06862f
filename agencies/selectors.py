"""Reads of agencies that other layers need without knowing the model's fields."""

from __future__ import annotations

from agencies.models import Agency


def agency_webhook_secret(code: str | None) -> str:
    """The secret an agency's webhook messages are signed with; "" when it has none."""
    if not code:
        return ""
    return Agency.objects.filter(code=code).values_list("webhook_secret", flat=True).first() or ""
