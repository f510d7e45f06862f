"""A document as a signed A4 PDF: laid out with ReportLab in a Chinese font embedded in the file,
with its number, issuer, date and a QR code to its verification page, then signed (PAdES, pyHanko)
with the issuing agency's key.

Reproducible: the same facts, number and instant give the same bytes. ReportLab runs in its
invariant mode (fixed creation date and file identifier); the signature's time is the issue's
instant, the updated file identifier is derived from the number, and RSA PKCS#1 v1.5 signatures
are deterministic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import threading
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import segno
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.conf import settings
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.info import update_info_dict
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from agencies.models import Agency
from documents.kinds import KindSpec
from documents.pki import MSG_DOCUMENTS_UNAVAILABLE, DocumentsUnavailable, SigningIdentity
from workflow.calendar import SHANGHAI

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "Signature1"
# ReportLab keeps a font's subsetting state per document name, and invariant mode names every
# document alike: two renderings at once in one process would mix their subsets. One at a time.
_RENDER_LOCK = threading.Lock()


@cache
def font_name() -> str:
    """The Chinese font: a TrueType file (embedded, subset) when one is configured and present,
    else ReportLab's built-in Adobe-GB1 CID font (not embedded: the reader supplies the glyphs)."""
    path = Path(settings.DOCUMENT_FONT_PATH) if settings.DOCUMENT_FONT_PATH else None
    if path is not None and path.exists():
        index = 0 if path.suffix.lower() != ".ttc" else int(settings.DOCUMENT_FONT_INDEX)
        pdfmetrics.registerFont(TTFont("DocCJK", str(path), subfontIndex=index))
        return "DocCJK"
    if settings.PRODUCTION:
        # An official document must look the same in every reader: no font, no documents.
        logger.error("no TrueType Chinese font at DOCUMENT_FONT_PATH=%s", path)
        raise DocumentsUnavailable(str(MSG_DOCUMENTS_UNAVAILABLE))
    logger.warning("no font at %s: documents use a standard font the reader supplies", path)
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def verification_url(number: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/verify/{number}/"


def _qr(pdf: canvas.Canvas, text: str, x: float, y: float, size: float) -> None:
    """The QR code as vector squares (no image: nothing to decode differently between readers)."""
    matrix = segno.make(text, error="m").matrix
    cells = len(matrix) + 8  # the quiet zone, 4 modules each side
    cell = size / cells
    pdf.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                pdf.rect(
                    x + (col_index + 4) * cell,
                    y + size - (row_index + 5) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def render_unsigned(
    *,
    spec: KindSpec,
    facts: dict[str, Any],
    id_number_shown: str,
    number: str,
    issuer: Agency,
    issued_at: dt.datetime,
) -> bytes:
    with _RENDER_LOCK:
        return _render(
            spec=spec,
            facts=facts,
            id_number_shown=id_number_shown,
            number=number,
            issuer=issuer,
            issued_at=issued_at,
        )


def _render(
    *,
    spec: KindSpec,
    facts: dict[str, Any],
    id_number_shown: str,
    number: str,
    issuer: Agency,
    issued_at: dt.datetime,
) -> bytes:
    font = font_name()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    pdf.setTitle(f"{spec.title} {number}")
    pdf.setAuthor(issuer.name)
    pdf.setSubject(spec.title)
    width, height = A4
    left, right = 22 * mm, width - 22 * mm

    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, height - 30 * mm, spec.title)
    pdf.setFont(font, 10)
    issued_local = issued_at.astimezone(SHANGHAI)
    pdf.drawString(left, height - 42 * mm, f"编号：{number}")
    pdf.drawRightString(
        right,
        height - 42 * mm,
        f"出具日期：{issued_local.year}年{issued_local.month}月{issued_local.day}日",
    )

    y = height - 52 * mm
    row_height = 8.5 * mm
    label_width = 45 * mm
    pdf.setLineWidth(0.6)
    for label, key in spec.rows:
        value = id_number_shown if key == "id_number" else str(facts.get(key, "—"))
        pdf.rect(left, y - row_height, right - left, row_height, stroke=1, fill=0)
        pdf.line(left + label_width, y, left + label_width, y - row_height)
        pdf.setFont(font, 10.5)
        pdf.drawString(left + 3 * mm, y - row_height + 3 * mm, label)
        pdf.drawString(left + label_width + 3 * mm, y - row_height + 3 * mm, value)
        y -= row_height

    pdf.setFont(font, 10.5)
    lines = _wrap(spec.closing, font, 10.5, right - left)
    for index, line in enumerate(lines):
        pdf.drawString(left, y - (10 + 6 * index) * mm, line)
    pdf.drawRightString(
        right, y - (16 + 6 * len(lines)) * mm, f"出具机构：{issuer.name}（电子签章）"
    )

    qr_size = 32 * mm
    _qr(pdf, verification_url(number), left, 22 * mm, qr_size)
    pdf.setFont(font, 9)
    pdf.drawString(
        left + qr_size + 4 * mm, 22 * mm + qr_size - 8 * mm, "扫描二维码或访问以下地址核验本文件："
    )
    pdf.drawString(left + qr_size + 4 * mm, 22 * mm + qr_size - 14 * mm, verification_url(number))
    pdf.drawString(
        left + qr_size + 4 * mm,
        22 * mm + qr_size - 20 * mm,
        "本文件附出具机构数字签名，任何改动都会使签名失效。",
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Chinese text in lines no wider than ``width`` (it breaks between any two characters)."""
    lines, line = [], ""
    for char in text:
        if line and pdfmetrics.stringWidth(line + char, font, size) > width:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


class _FixedTimeWriter(IncrementalPdfFileWriter):
    """pyHanko's incremental writer stamps the Info dictionary's /ModDate with the wall clock on
    every write; here it is the issue's instant."""

    def __init__(self, stream: io.BytesIO, *, modified_at: dt.datetime) -> None:
        super().__init__(stream)
        self._modified_at = modified_at

    def _update_meta(self) -> None:
        super()._update_meta()
        if self._info is not None:
            self._meta.last_modified = self._modified_at
            update_info_dict(self._meta, self._info.get_object())


class _FixedTimeSigner(signers.PdfSigner):
    """pyHanko's signer with the signing session's clock set to the issue's instant."""

    def __init__(self, *args: Any, signing_time: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(self, *args: Any, **kwargs: Any) -> Any:
        session = super().init_signing_session(*args, **kwargs)
        session.system_time = self._signing_time
        return session


def sign(
    unsigned: bytes, *, identity: SigningIdentity, issuer: Agency, number: str, at: dt.datetime
) -> bytes:
    """A PAdES baseline (B-B) signature of ``issuer`` over the whole file, at ``at``."""
    try:
        signer = _signer(identity.key_pem, identity.cert_pem, identity.chain_pem)
    except (ValueError, TypeError) as exc:
        # A damaged file or a wrong DOCUMENT_KEY_PASSWORD: the operator's to fix.
        logger.error(
            "the signing key or certificate of agency %s is unreadable: %s", issuer.code, exc
        )
        raise DocumentsUnavailable(str(MSG_DOCUMENTS_UNAVAILABLE)) from None
    writer = _FixedTimeWriter(io.BytesIO(unsigned), modified_at=at)
    first_id = writer.document_id[0]
    # The file identifier's second half changes with every update; derived, not random.
    writer._document_id = generic.ArrayObject(
        [
            generic.ByteStringObject(first_id),
            generic.ByteStringObject(hashlib.sha256(number.encode()).digest()[:16]),
        ]
    )
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=f"{issuer.name}出具",
        location=issuer.name,
        name=issuer.name,
    )
    out = io.BytesIO()
    _FixedTimeSigner(meta, signer=signer, signing_time=at).sign_pdf(writer, output=out)
    return out.getvalue()


class _LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner loads the private key again for every signature, and loading an RSA
    key checks it (about 40 ms); this one keeps the loaded key. RSA with PKCS#1 v1.5 only (what
    the agencies' keys are, and deterministic)."""

    def __init__(self, *, private_key: RSAPrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        return self._private_key.sign(
            data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
        )


@lru_cache(maxsize=256)
def _signer(key_pem: bytes, cert_pem: bytes, chain_pem: tuple[bytes, ...]) -> signers.SimpleSigner:
    """One signer per key and certificate per process (the key files' bytes are the cache key, so
    a replaced key is picked up on the next issue)."""
    key_der = _der(key_pem)
    private_key = serialization.load_der_private_key(key_der, password=None)
    if not isinstance(private_key, RSAPrivateKey):
        raise ValueError("document signing keys are RSA keys")
    return _LoadedKeySigner(
        private_key=private_key,
        signing_cert=asn1_x509.Certificate.load(_der(cert_pem)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=_registry(chain_pem),
    )


def _der(pem: bytes) -> bytes:
    if b"PRIVATE KEY" in pem:
        key = serialization.load_pem_private_key(
            pem, password=(settings.DOCUMENT_KEY_PASSWORD or "").encode() or None
        )
        return key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _registry(chain_pem: tuple[bytes, ...]) -> Any:
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    store = SimpleCertificateStore()
    for bundle in chain_pem:
        # ca.crt may hold the whole chain (intermediates and the root): every certificate in it.
        for cert in x509.load_pem_x509_certificates(bundle):
            store.register(
                asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
            )
    return store
