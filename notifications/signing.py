"""Webhook signatures: HMAC-SHA256 over the timestamp and the body.

How a receiver verifies a request (documented in docs/ARCHITECTURE.md):

1. Read the headers ``X-Webhook-Timestamp`` (Unix seconds) and ``X-Webhook-Signature``
   (``sha256=<hex>``).
2. Refuse the request when the timestamp is more than 5 minutes away from your clock (replays).
3. Compute ``HMAC-SHA256(secret, timestamp + "." + raw body bytes)`` as lower-case hex and compare
   it with the signature in constant time.
4. Deduplicate on ``X-Notification-Key``: a message may arrive more than once.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
KEY_HEADER = "X-Notification-Key"
TOLERANCE_SECONDS = 300


def webhook_sign(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def webhook_verify(
    *,
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Whether a received request is authentic and fresh (the receiver's side of ``webhook_sign``)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > tolerance:
        return False
    return hmac.compare_digest(webhook_sign(secret=secret, timestamp=ts, body=body), signature)
