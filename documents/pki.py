"""Signing keys and certificates, one per issuing agency.

Production reads each agency's key and certificate from files under ``DOCUMENT_PKI_DIR``
(``agency-<code>.key``, PEM, unencrypted or with ``DOCUMENT_KEY_PASSWORD``; ``agency-<code>.crt``
and the chain in ``ca.crt``), issued by the agency's real CA; a PKCS#11 token is the next step
(docs/operations.md). For ``make run`` and the tests (``DOCUMENT_DEV_PKI``), a development CA is
made on first use and each agency's certificate is made when it first signs: good for trying and
testing, trusted by nobody else.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from core.errors import DomainError

logger = logging.getLogger(__name__)

# Certificates of the development CA are valid from here, so documents dated in the past (demo
# data) are signed inside the certificate's validity.
DEV_NOT_BEFORE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
DEV_NOT_AFTER = dt.datetime(2045, 12, 31, tzinfo=dt.UTC)


class DocumentsUnavailable(DomainError):
    """Documents cannot be issued here now: an agency's key or certificate is missing or
    unreadable, or (in production) the embedded font is. An operator's problem: a 503."""

    code = "documents_unavailable"


MSG_DOCUMENTS_UNAVAILABLE = _(
    "Documents cannot be issued at the moment. Please try again later; the agency has been told."
)


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    key_pem: bytes
    cert_pem: bytes
    chain_pem: tuple[bytes, ...]


def pki_dir() -> Path:
    return Path(settings.DOCUMENT_PKI_DIR)


def _write(path: Path, data: bytes) -> None:
    """Atomically, readable by the owner only (a key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _key() -> rsa.RSAPrivateKey:
    # RSA (PKCS#1 v1.5): its signatures are deterministic, so a document re-renders byte for byte.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def dev_ca_ensure() -> tuple[bytes, bytes]:
    """The development CA's key and certificate (PEM), made once."""
    key_path, cert_path = pki_dir() / "ca.key", pki_dir() / "ca.crt"
    if key_path.exists() and cert_path.exists():
        return key_path.read_bytes(), cert_path.read_bytes()
    with _creating():
        return _dev_ca_make(key_path, cert_path)


def _dev_ca_make(key_path: Path, cert_path: Path) -> tuple[bytes, bytes]:
    if key_path.exists() and cert_path.exists():
        return key_path.read_bytes(), cert_path.read_bytes()
    key = _key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "医保关系转移接续（开发用）"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Development document CA (not trusted)"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(DEV_NOT_BEFORE)
        .not_valid_after(DEV_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(key_path, _pem_key(key))
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return key_path.read_bytes(), cert_path.read_bytes()


def _dev_agency_issue(agency: Agency) -> None:
    ca_key_pem, ca_cert_pem = _dev_ca_make(pki_dir() / "ca.key", pki_dir() / "ca.crt")
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    key = _key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency.name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, agency.code),
            x509.NameAttribute(NameOID.COMMON_NAME, agency.name),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(DEV_NOT_BEFORE)
        .not_valid_after(DEV_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    _write(pki_dir() / f"agency-{agency.code}.key", _pem_key(key))
    _write(pki_dir() / f"agency-{agency.code}.crt", cert.public_bytes(serialization.Encoding.PEM))


@contextmanager
def _creating() -> Iterator[None]:
    """One process at a time makes development keys (a key and its certificate are two files:
    two workers making them at once could leave one's key beside the other's certificate)."""
    pki_dir().mkdir(parents=True, exist_ok=True)
    with open(pki_dir() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def signing_identity(agency: Agency) -> SigningIdentity:
    """The agency's key, certificate and chain; made first in development (``DOCUMENT_DEV_PKI``)."""
    # One flat folder (a Kubernetes Secret mounts as one).
    key_path = pki_dir() / f"agency-{agency.code}.key"
    cert_path = pki_dir() / f"agency-{agency.code}.crt"
    if not (key_path.exists() and cert_path.exists()):
        if not settings.DOCUMENT_DEV_PKI:
            logger.error(
                "no signing key and certificate for agency %s in %s", agency.code, pki_dir()
            )
            raise DocumentsUnavailable(str(MSG_DOCUMENTS_UNAVAILABLE))
        with _creating():
            if not (key_path.exists() and cert_path.exists()):
                _dev_agency_issue(agency)
    chain_path = pki_dir() / "ca.crt"
    chain = (chain_path.read_bytes(),) if chain_path.exists() else ()
    return SigningIdentity(key_path.read_bytes(), cert_path.read_bytes(), chain)


def trust_roots() -> list[bytes]:
    """The CA certificates a validator here trusts (the chain file)."""
    path = pki_dir() / "ca.crt"
    return [path.read_bytes()] if path.exists() else []
