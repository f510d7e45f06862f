"""Issuing documents and reading them back (api.md "Documents").

A document is issued the first time someone who may see the case asks for it, once the case holds
what it needs (``KindSpec.available``): rendered, signed and stored (encrypted). Asked again with the
same facts, the stored bytes come back; once the facts it printed have changed, it is superseded
(its verification says so) and a new one with a new number is issued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from cases.models import TransferCase
from core.identity import (
    id_number_decrypt,
    id_number_mask,
    name_mask,
    personal_bytes_decrypt,
    personal_bytes_encrypt,
)
from documents.kinds import SPECS, KindSpec
from documents.models import DocumentKind, IssuedDocument
from documents.pdf import render_unsigned, sign
from documents.pki import signing_identity

logger = logging.getLogger(__name__)


MSG_NO_SUCH_NUMBER = gettext_lazy("No document has this number.")


class DocumentNotAvailable(Exception):
    """The case holds no such document (yet): the caller answers 404."""


def facts_digest(facts: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(facts, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def kinds_available(case: TransferCase) -> list[KindSpec]:
    return [spec for spec in SPECS.values() if spec.available(case)]


def _store(pdf: bytes) -> str:
    """The signed file, encrypted, under a random name (outside the transaction's rows)."""
    name = f"documents/{secrets.token_urlsafe(24)}.pdf.enc"
    return storages["default"].save(name, ContentFile(personal_bytes_encrypt(pdf)))


def _stored(doc: IssuedDocument) -> bytes | None:
    if not doc.storage_name:
        return None
    try:
        with storages["default"].open(doc.storage_name, "rb") as handle:
            return personal_bytes_decrypt(handle.read())
    except Exception:
        # Missing, damaged, under a retired key, or the bucket's own error (botocore raises its
        # own kinds): the recorded facts render the same bytes again.
        logger.warning(
            "document %s: stored file unreadable; rendering it again", doc.number, exc_info=True
        )
        return None


def _pdf(doc: IssuedDocument, spec: KindSpec) -> bytes:
    number = id_number_decrypt(doc.case.id_number_encrypted)
    unsigned = render_unsigned(
        spec=spec,
        facts=doc.data,
        id_number_shown=number if spec.full_id_number else id_number_mask(number),
        number=doc.number,
        issuer=doc.issuer,
        issued_at=doc.issued_at,
    )
    return sign(
        unsigned,
        identity=signing_identity(doc.issuer),
        issuer=doc.issuer,
        number=doc.number,
        at=doc.issued_at,
    )


def _new_number(spec: KindSpec, issuer_code: str, at: dt.datetime) -> str:
    # Kind, issuer, date and 8 random digits: readable over the phone, not guessable in series.
    return f"{spec.prefix}{issuer_code}{at:%Y%m%d}{secrets.randbelow(10**8):08d}"


@dataclass(frozen=True, slots=True)
class Issued:
    document: IssuedDocument
    pdf: bytes


def document_issue(*, case: TransferCase, kind: str, now: dt.datetime) -> Issued:
    """The case's current document of ``kind`` as a signed PDF, issued now if there is none or
    the facts it printed have changed. Raises ``DocumentNotAvailable``."""
    spec = SPECS.get(kind)
    if spec is None:
        raise DocumentNotAvailable(kind)
    written: list[str] = []
    try:
        with transaction.atomic():
            return _issue(case=case, spec=spec, at=now.replace(microsecond=0), written=written)
    except BaseException:
        # Nothing of a refused or failed issue stays behind, the commit's failure included.
        for name in written:
            storages["default"].delete(name)
        raise


def _issue(*, case: TransferCase, spec: KindSpec, at: dt.datetime, written: list[str]) -> Issued:
    # One issuer at a time per case: two first downloads make one document (the case's row
    # only: the joined agencies are not locked).
    case = (
        TransferCase.objects.select_for_update(of=("self",))
        .select_related("from_agency", "to_agency")
        .get(pk=case.pk)
    )
    if not spec.available(case):
        raise DocumentNotAvailable(spec.kind)
    facts = spec.facts(case)
    digest = facts_digest(facts)
    current = (
        IssuedDocument.objects.select_related("issuer", "case")
        .filter(case=case, kind=spec.kind, superseded_at__isnull=True)
        .first()
    )
    if current is not None and current.data_digest == digest:
        pdf = _stored(current)
        if pdf is None:
            pdf = _pdf(current, spec)
            if hashlib.sha256(pdf).hexdigest() == current.sha256:
                current.storage_name = _store(pdf)
                written.append(current.storage_name)
                current.save(update_fields=["storage_name"])
                return Issued(current, pdf)
            # A changed signing key or font renders other bytes, which would not match the
            # SHA-256 the verification page shows for this number: a new number instead.
            logger.warning("document %s re-rendered with other bytes: issued anew", current.number)
        else:
            return Issued(current, pdf)
    if current is not None:
        current.superseded_at = at
        current.save(update_fields=["superseded_at"])
    issuer = spec.issuer(case)
    for _attempt in range(5):
        number = _new_number(spec, issuer.code, at)
        if IssuedDocument.objects.filter(number=number).exists():
            continue  # the random part repeated: another number
        document = IssuedDocument(
            number=number,
            kind=spec.kind,
            case=case,
            issuer=issuer,
            issued_at=at,
            data=facts,
            data_digest=digest,
            sha256="",
        )
        pdf = _pdf(document, spec)
        document.sha256 = hashlib.sha256(pdf).hexdigest()
        document.storage_name = _store(pdf)
        written.append(document.storage_name)
        try:
            with transaction.atomic():
                document.save()
        except IntegrityError:
            # Where the row lock does not hold (SQLite ignores FOR UPDATE) another request issued
            # this kind first: theirs is the document.
            theirs = IssuedDocument.objects.filter(
                case=case, kind=spec.kind, superseded_at__isnull=True
            ).first()
            if theirs is None or theirs.data_digest != digest:
                raise
            stored = _stored(theirs)
            return Issued(theirs, stored if stored is not None else _pdf(theirs, spec))
        logger.info("document issued number=%s kind=%s case=%s", number, spec.kind, case.reference)
        return Issued(document, pdf)
    raise RuntimeError("no free document number after 5 tries")


VALID = "valid"
SUPERSEDED = "superseded"
VOID = "void"
STATUSES = (VALID, SUPERSEDED, VOID)


def document_status(document: IssuedDocument, case: TransferCase) -> str:
    """Whether a document still says what the case says: valid; superseded (the facts it printed
    have changed, so a newer one exists or can be had); void (the case no longer has such a
    document at all: it was withdrawn or rejected)."""
    spec = SPECS[document.kind]
    if not spec.available(case):
        return VOID
    if document.superseded_at is not None or facts_digest(spec.facts(case)) != document.data_digest:
        return SUPERSEDED
    return VALID


@dataclass(frozen=True, slots=True)
class Verification:
    document: IssuedDocument
    status: str

    @property
    def valid(self) -> bool:
        return self.status == VALID

    @property
    def kind_label(self) -> str:
        return str(DocumentKind(self.document.kind).label)

    @property
    def applicant(self) -> str:
        return name_mask(self.document.case.applicant_name)


@dataclass(frozen=True, slots=True)
class Listing:
    """A document the case can have now, and its current issue if it was fetched before."""

    kind: str
    document: IssuedDocument | None
    valid: bool | None

    @property
    def kind_label(self) -> str:
        return str(DocumentKind(self.kind).label)


def documents_list(case: TransferCase) -> list[Listing]:
    current = {
        d.kind: d for d in IssuedDocument.objects.filter(case=case, superseded_at__isnull=True)
    }
    listings = []
    for spec in kinds_available(case):
        document = current.get(spec.kind)
        valid = None if document is None else document_status(document, case) == VALID
        listings.append(Listing(spec.kind, document, valid))
    return listings


def document_verify(number: str) -> Verification | None:
    """What anyone holding a document's number may know of it: who issued it, when, for which case,
    its SHA-256, and whether it is still valid (not superseded: the case's facts it printed have
    not changed since)."""
    if not number or len(number) > 40 or "\x00" in number:
        return None
    document = (
        IssuedDocument.objects.select_related(
            "issuer", "case", "case__from_agency", "case__to_agency"
        )
        .filter(number=number)
        .first()
    )
    if document is None:
        return None
    return Verification(document, document_status(document, document.case))
