"""The outbox in the admin: administrators only, addresses masked."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import User
from notifications.admin import address_mask
from notifications.models import Notification


def test_address_mask():
    assert address_mask("13812345678") == "138****5678"
    assert address_mask("8123456") == "***3456"
    assert address_mask("zhangsan@example.org") == "zh***@example.org"
    assert address_mask("https://hook.example.org/a/b?token=x") == "https://hook.example.org/…"


@pytest.mark.django_db
def test_only_administrators_see_the_outbox_and_never_a_whole_address(client, personas):
    row = Notification.objects.create(
        dedup_key="test:1",
        kind="status_changed",
        channel="sms",
        address="13812345678",
        subject="s",
        body="b",
        created_at=timezone.now(),
    )
    client.force_login(personas["supervisor"])
    assert client.get(f"/admin/notifications/notification/{row.pk}/change/").status_code in (
        302,
        403,
    )
    admin = User.objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    page = client.get(f"/admin/notifications/notification/{row.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html
