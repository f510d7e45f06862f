"""SMS gateways. A real operator's gateway implements ``SmsGateway``; ``SMS_BACKEND`` picks one."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.conf import settings

from core.identity import phone_mask

logger = logging.getLogger(__name__)


class SmsGateway:
    """Send one text message. Raise on failure; return only once the gateway accepted it.

    ``key`` is the notification's dedup key: gateways that accept a client reference should pass
    it, so a message re-sent after a lost acknowledgement is not delivered twice.
    """

    def send(self, *, phone: str, text: str, key: str) -> None:
        raise NotImplementedError


class LoggingSmsGateway(SmsGateway):
    """The default: writes the message to the log (phone masked), sends nothing."""

    def send(self, *, phone: str, text: str, key: str) -> None:
        logger.info("sms to=%s key=%s text=%s", phone_mask(phone), key, text)


class FileSmsGateway(SmsGateway):
    """Appends one JSON line per message to ``SMS_FILE_PATH`` (development and drills)."""

    def send(self, *, phone: str, text: str, key: str) -> None:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"phone": phone, "text": text, "key": key}, ensure_ascii=False)
        # One write of one line: appends from several processes do not interleave.
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
