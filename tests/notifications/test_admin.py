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


@pytest.fixture
def row(db) -> Notification:
    return Notification.objects.create(
        dedup_key="test:1",
        kind="status_changed",
        channel="sms",
        address="13812345678",
        subject="s",
        body="b",
        created_at=timezone.now(),
    )


def outbox_urls(row: Notification) -> list[str]:
    return [
        "/admin/notifications/notification/",
        f"/admin/notifications/notification/{row.pk}/change/",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["supervisor", "cw_out"])
def test_agency_staff_are_refused_the_outbox(client, personas, row, persona):
    """Staff may use the admin (their case screens), but the outbox is not theirs: 403, and it
    is not on their index."""
    assert personas[persona].is_staff
    client.force_login(personas[persona])
    for url in outbox_urls(row):
        response = client.get(url)
        assert response.status_code == 403, url
        # A person in the admin gets a page in words (programs under /api/ get problem details).
        assert "您无权打开此页面" in response.content.decode()
        assert "1381234" not in response.content.decode()
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "/admin/notifications/notification/" not in index.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["applicant", "platform", None])
def test_non_staff_are_sent_to_the_admin_sign_in(client, personas, row, persona):
    """Accounts that may not use the admin at all (and nobody signed in) are redirected to its
    sign-in page, as for any admin page."""
    if persona is not None:
        assert not personas[persona].is_staff
        client.force_login(personas[persona])
    for url in outbox_urls(row):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/admin/login/?next={url}"


@pytest.mark.django_db
def test_administrators_see_the_outbox_and_never_a_whole_address(client, personas, row):
    admin = User.objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    assert client.get(outbox_urls(row)[0]).status_code == 200
    page = client.get(outbox_urls(row)[1])
    assert page.status_code == 200
    html = page.content.decode()
    assert "138****5678" in html
    assert "13812345678" not in html
