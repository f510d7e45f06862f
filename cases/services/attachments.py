"""Attachments: the materials an applicant or an agency adds to a case (api.md "Attachments").

A file is judged by its content, never by its name or declared type: PDF (``%PDF-``), JPEG or PNG
(decoded by Pillow). Images are decoded and re-encoded, which drops their metadata (EXIF: camera,
place, time) and anything appended after the image; PDFs are kept byte for byte. At most
``ATTACHMENT_MAX_BYTES``. Stored through Django's storage API (file system by default; any
configured backend, e.g. S3-compatible via django-storages) under a random name, so no URL can
be guessed; read back only through ``attachment_open`` after the caller's access was checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import secrets
import warnings
from typing import IO, Final

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image

from accounts.models import User
from cases.models import Attachment, TransferCase
from cases.services.events import event_append
from cases.states import Action
from core.errors import DomainError, InvalidInput
from core.identity import has_hidden_characters, mask_id_numbers

LABEL_MAX_LENGTH: Final = 100
PDF: Final = "application/pdf"
JPEG: Final = "image/jpeg"
PNG: Final = "image/png"
_IMAGE_FORMATS: Final = {"JPEG": JPEG, "PNG": PNG}
# A decoded image larger than this many pixels is refused (a small file can decode to gigabytes).
MAX_PIXELS: Final = 40_000_000

MSG_TOO_LARGE: Final = _("An attachment has at most {limit} MB.")
MSG_TYPE: Final = _("Attach a PDF, JPEG or PNG file.")
MSG_BROKEN_IMAGE: Final = _("The image cannot be read: it is damaged or not a JPEG or PNG.")
MSG_LABEL: Final = _("Say what the file is (at most 100 characters), e.g. 离职证明.")
MSG_FILE_REQUIRED: Final = _("Attach a file.")
MSG_TOO_MANY: Final = _("A case holds at most {limit} attachments.")

logger = logging.getLogger(__name__)


class AttachmentTooLarge(DomainError):
    code = "request_too_large"


class AttachmentType(DomainError):
    code = "unsupported_media_type"


class TooManyAttachments(DomainError):
    code = "too_many_attachments"


def max_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def max_megabytes() -> int:
    """The limit in whole MB, as people are told it."""
    return max_bytes() // (1024 * 1024)


def _check_room(case: TransferCase) -> None:
    limit = int(settings.ATTACHMENT_MAX_PER_CASE)
    if Attachment.objects.filter(case=case).count() >= limit:
        raise TooManyAttachments(str(MSG_TOO_MANY).format(limit=limit))


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def _reencode(data: bytes, declared: str) -> tuple[bytes, str]:
    """Decode the image and write its pixels again, nothing else: no EXIF, no comments, no ICC
    profile, nothing appended. Anything that does not decode cleanly is refused (415)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format
                # Phones save photos as MPO (JPEG with extra frames): the first frame is the photo.
                fmt = "JPEG" if fmt == "MPO" else fmt
                if fmt not in _IMAGE_FORMATS or _IMAGE_FORMATS[fmt] != declared:
                    raise AttachmentType(str(MSG_TYPE))
                if image.width * image.height > MAX_PIXELS:
                    raise AttachmentType(str(MSG_BROKEN_IMAGE))
                image.load()
                if fmt == "JPEG":
                    mode = "L" if image.mode == "L" else "RGB"
                else:
                    mode = image.mode if image.mode in ("1", "L", "LA", "RGB", "RGBA") else "RGBA"
                source = image.convert(mode)
                # From the pixels alone: .info (comments, EXIF, ICC) is not carried over.
                clean = Image.frombytes(mode, source.size, source.tobytes())
                out = io.BytesIO()
                clean.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    except AttachmentType:
        raise
    except MemoryError:
        raise AttachmentType(str(MSG_BROKEN_IMAGE)) from None
    except Exception:
        # Pillow's decoders and encoders raise many kinds of error on damaged input (OSError,
        # SyntaxError, ValueError, even UnboundLocalError for a PNG without its palette).
        logger.info("attachment refused: the image does not decode", exc_info=True)
        raise AttachmentType(str(MSG_BROKEN_IMAGE)) from None
    return out.getvalue(), declared


# Room for the multipart boundaries and the label around a file at the limit.
MULTIPART_OVERHEAD: Final = 64 * 1024


def body_too_large(content_length: str | None) -> bool:
    """Whether a request says (Content-Length) it is larger than any allowed upload: refused
    before its body is read, by every face that takes uploads."""
    try:
        length = int(content_length or 0)
    except ValueError:
        return False
    return length > max_bytes() + MULTIPART_OVERHEAD


def attachment_get(*, case: TransferCase, attachment_id: int) -> Attachment | None:
    """One of the case's attachments (the caller may see the case), else None."""
    return Attachment.objects.filter(case=case, pk=attachment_id).first()


def too_large() -> AttachmentTooLarge:
    return AttachmentTooLarge(str(MSG_TOO_LARGE).format(limit=max_megabytes()))


def attachment_add(
    *, case: TransferCase, actor: User, upload: IO[bytes] | None, label: str, now: dt.datetime
) -> Attachment:
    """Judge, clean and store one file for ``case`` (which the caller may see), with its event."""
    label = mask_id_numbers((label or "").strip())
    if upload is None:
        raise InvalidInput({"file": [str(MSG_FILE_REQUIRED)]})
    if not label or len(label) > LABEL_MAX_LENGTH or has_hidden_characters(label):
        raise InvalidInput({"label": [str(MSG_LABEL)]})
    # Refused before the file is read and stored; checked again under the case's lock below.
    _check_room(case)
    limit = max_bytes()
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_large()
    kind = _sniff(data[:8])
    if kind is None:
        raise AttachmentType(str(MSG_TYPE))
    if kind != PDF:
        data, kind = _reencode(data, kind)
    extension = {PDF: "pdf", JPEG: "jpg", PNG: "png"}[kind]
    name = f"attachments/{secrets.token_urlsafe(24)}.{extension}"
    storage = storages["default"]
    # The file first, outside the service's transaction (an upload to a bucket must not hold it
    # open); if anything after fails, the file goes again. Under an Idempotency-Key the caller's
    # transaction holds only the key's row meanwhile; should that outer commit fail after this
    # returned, the file stays behind unreferenced under its random name, reachable by nobody.
    stored = storage.save(name, ContentFile(data))
    try:
        with transaction.atomic():
            # Concurrent uploads to one case queue here, so the limit holds.
            list(TransferCase.objects.select_for_update().filter(pk=case.pk).values_list("pk"))
            _check_room(case)
            attachment = Attachment.objects.create(
                case=case,
                label=label,
                content_type=kind,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                storage_name=stored,
                uploaded_by=actor,
                uploaded_at=now,
            )
            event_append(
                case=case,
                action=Action.ATTACH,
                from_state=case.state,
                actor=actor,
                at=now,
                data={"attachment": attachment.pk, "label": label, "content_type": kind},
            )
    except BaseException:
        storage.delete(stored)
        raise
    return attachment


def attachment_open(attachment: Attachment) -> IO[bytes]:
    return storages["default"].open(attachment.storage_name, "rb")
