"""``Idempotency-Key`` for creating POSTs (api.md): same key and body within 24 h -> the first
response again, nothing created; same key with another body -> 409 ``idempotency_key_reused``.

The record is claimed (inserted) before the work and filled in after it, all in one transaction
with what the request creates. A concurrent duplicate blocks on the unique (user, key) index until
the first commits, then replays it; if the first fails, nothing is stored and the retry runs anew.
Only successful responses are kept: a refused request stores nothing, so retrying it is harmless.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from api.exceptions import IdempotencyInProgress, IdempotencyKeyReused
from cases.models import IDEMPOTENCY_TTL, IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
PENDING = 0

Outcome = tuple[int, dict[str, Any], dict[str, str]]


def _file_digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"sha256:{digest.hexdigest()}"


def _fingerprint_value(value: Any) -> Any:
    # An uploaded file counts by its content: the same key with another file is another body.
    return _file_digest(value) if isinstance(value, UploadedFile) else value


def request_fingerprint(request: Request) -> str:
    data = request.data
    if hasattr(data, "getlist"):
        # A form body (multipart): every value of every field, files by their digest.
        data = {key: [_fingerprint_value(v) for v in data.getlist(key)] for key in data}
    body = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    raw = f"{request.method}\n{request.path}\n{body}".encode()
    return hashlib.sha256(raw).hexdigest()


def _valid_key(key: str) -> bool:
    return 1 <= len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def idempotent(request: Request, create: Callable[[], Outcome]) -> Response:
    """Run ``create`` (returning status, body, headers) at most once per user and key."""
    key = request.headers.get(HEADER)
    if key is None:
        status, body, headers = create()
        return Response(body, status=status, headers=headers)
    key = key.strip()
    if not _valid_key(key):
        raise ValidationError(
            {HEADER: [_("Use 1 to 200 printable ASCII characters, e.g. a UUID.")]}
        )
    fingerprint = request_fingerprint(request)
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            user=request.user, key=key, created_at__lt=now - IDEMPOTENCY_TTL
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=PENDING,
                    response_body={},
                    created_at=now,
                )
        except IntegrityError:
            record = None
        if record is not None:
            status, body, headers = create()
            record.status_code, record.response_body, record.response_headers = (
                status,
                body,
                headers,
            )
            record.save(update_fields=["status_code", "response_body", "response_headers"])
            return Response(body, status=status, headers=headers)
    return _replay(request, key, fingerprint)


def _replay(request: Request, key: str, fingerprint: str) -> Response:
    record = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if record is None or record.status_code == PENDING:
        raise IdempotencyInProgress()
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    headers = dict(record.response_headers)
    headers["Idempotent-Replayed"] = "true"
    return Response(record.response_body, status=record.status_code, headers=headers)
