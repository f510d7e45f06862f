"""The outbox: one row per message to send, created in the same transaction as its cause."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ChannelName(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")
    IN_APP = "in_app", _("In-app")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One message on one channel to one recipient.

    ``dedup_key`` is unique: the cause builds it (``overdue:<clock>:<user>:<channel>``,
    ``status:<event>:<channel>``), so creating the same message twice inserts nothing. A delivery
    worker claims the row by setting ``claimed_until`` with a conditional update, sends, and only
    then marks it sent; a claim whose worker died runs out and the sweeper re-sends the row.
    """

    dedup_key = models.CharField(_("deduplication key"), max_length=200, unique=True)
    kind = models.CharField(_("notification kind"), max_length=40)
    channel = models.CharField(_("channel"), max_length=10, choices=ChannelName.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    address = models.CharField(
        _("address"), max_length=500, blank=True, help_text=_("Email, phone or URL")
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    subject_ref = models.CharField(
        _("about"),
        max_length=40,
        blank=True,
        help_text=_("What it is about, e.g. a case reference"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    swept_at = models.DateTimeField(_("swept at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The sweeper: "pending, created a while ago" (only pending rows are indexed).
            models.Index(
                fields=["created_at"],
                name="notification_pending",
                condition=Q(status="pending"),
            ),
            # GET /api/v1/notifications/: a user's in-app inbox, newest first.
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_inbox",
                condition=Q(channel="in_app"),
            ),
            models.Index(fields=["subject_ref"], name="notification_subject_ref"),
        ]

    def __str__(self) -> str:
        # What the admin titles a row with: the message's own words and the channel's label.
        return f"{self.subject or self.subject_ref}（{self.get_channel_display()}）"
