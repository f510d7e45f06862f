"""Test doubles of the outside world that the worker subprocess loads by dotted path."""

from __future__ import annotations

import os
import time

from django.core.mail.backends.filebased import EmailBackend


class SlowFileEmailBackend(EmailBackend):
    """Django's file backend, taking ``TEST_EMAIL_DELAY`` seconds per batch like a slow SMTP
    server, so a drill can kill a worker while it is sending."""

    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        time.sleep(float(os.environ.get("TEST_EMAIL_DELAY", "0")))
        return super().send_messages(email_messages)
