"""One class per delivery channel. ``send`` returns once the channel accepted the message and
raises ``DeliveryError`` (or anything else) when it did not; it never marks rows itself."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

from agencies.selectors import agency_webhook_secret
from notifications.models import ChannelName
from notifications.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_sign

if TYPE_CHECKING:
    from notifications.models import Notification


class DeliveryError(Exception):
    """The channel refused or could not take the message; the message says why."""


class Channel:
    name: ClassVar[str]

    def send(self, notification: Notification) -> None:
        raise NotImplementedError


class InAppChannel(Channel):
    """The inbox is the row itself (GET /api/v1/notifications/): delivering is marking it sent."""

    name = ChannelName.IN_APP

    def send(self, notification: Notification) -> None:
        if notification.recipient_id is None:
            raise DeliveryError("an in-app notification needs a recipient")


class EmailChannel(Channel):
    """Django's configured email backend (SMTP in production)."""

    name = ChannelName.EMAIL

    def send(self, notification: Notification) -> None:
        if not notification.address:
            raise DeliveryError("no email address")
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            to=[notification.address],
            headers={KEY_HEADER: notification.dedup_key},
        )
        if message.send(fail_silently=False) != 1:
            raise DeliveryError("the email backend did not accept the message")


class SmsChannel(Channel):
    """The gateway named by ``SMS_BACKEND`` (a logging gateway by default)."""

    name = ChannelName.SMS

    def send(self, notification: Notification) -> None:
        if not notification.address:
            raise DeliveryError("no phone number")
        gateway = import_string(settings.SMS_BACKEND)()
        gateway.send(phone=notification.address, text=notification.body, key=notification.dedup_key)


class WebhookChannel(Channel):
    """A signed JSON POST to an agency's system (see notifications/signing.py)."""

    name = ChannelName.WEBHOOK

    def send(self, notification: Notification) -> None:
        url = notification.address
        if not url.startswith(("https://", "http://")):
            raise DeliveryError(f"not an http(s) URL: {url!r}")
        # Each agency signs with its own secret; the row names the agency it is for.
        secret = agency_webhook_secret((notification.payload or {}).get("agency"))
        if not secret:
            raise DeliveryError("no webhook secret")
        body = json.dumps(
            {
                "id": notification.pk,
                "key": notification.dedup_key,
                "kind": notification.kind,
                "subject_ref": notification.subject_ref,
                "subject": notification.subject,
                "body": notification.body,
                "data": notification.payload,
                "created_at": notification.created_at.isoformat(),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = int(time.time())
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: webhook_sign(secret=secret, timestamp=timestamp, body=body),
                KEY_HEADER: notification.dedup_key,
            },
        )
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
            ) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"webhook unreachable: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook answered HTTP {status}")


CHANNELS: dict[str, Channel] = {
    channel.name: channel
    for channel in (InAppChannel(), EmailChannel(), SmsChannel(), WebhookChannel())
}


def channel_get(name: str) -> Channel:
    return CHANNELS[name]
