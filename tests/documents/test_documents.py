"""Signed documents (issue 11 items 2 and 5; api.md "Documents"): the information form, the proof
of insurance and the contact letter as A4 PDFs in Chinese, rendered (pdftoppm) and read
(pdftotext), signed with the issuing agency's key and verified by two independent validators
(pyHanko's, poppler's pdfsig), a changed byte caught, the same bytes again, superseded when the
facts change, verifiable by anyone without the ID number."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from core.identity import id_number_decrypt, id_number_mask
from documents.models import IssuedDocument
from documents.pki import trust_roots

pytestmark = pytest.mark.django_db

INFO = "information-form"
CERT = "insurance-certificate"
LETTER = "contact-letter"


def tool(*args: str, check: bool = True) -> str:
    """One of poppler's command-line tools (installed by make test), by its full path."""
    path = shutil.which(args[0])
    assert path, f"{args[0]} missing: make test installs poppler-utils"
    done = subprocess.run([path, *args[1:]], capture_output=True, text=True, check=check)  # noqa: S603
    return done.stdout


def pdf_url(case, kind: str) -> str:
    return f"/api/v1/cases/{case.reference}/documents/{kind}.pdf"


def fetch(client, case, kind: str) -> bytes:
    r = client.get(pdf_url(case, kind))
    assert r.status_code == 200, r.content[:300]
    assert r["Content-Type"] == "application/pdf"
    return r.content


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return tool("pdftotext", "-layout", str(path), "-")


def pyhanko_status(pdf: bytes):
    roots = [
        asn1_x509.Certificate.load(
            x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
        )
        for pem in trust_roots()
    ]
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=roots))


def pdfsig(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "sig.pdf"
    path.write_bytes(pdf)
    # pdfsig exits non-zero for a broken signature: its report is what is read.
    return tool("pdfsig", str(path), check=False)


def test_the_information_form_renders_in_chinese_with_the_full_id_number(
    client_for, case_in_state, tmp_path
):
    case = case_in_state("transfer_out_approved")
    pdf = fetch(client_for("cw_in"), case, INFO)
    document = IssuedDocument.objects.get(case=case, kind=INFO)
    text = text_of(pdf, tmp_path)
    assert "参保人员基本医疗保险信息表" in text
    assert document.number in text
    assert "深圳市医疗保障局" in text  # the issuer: the transfer-out agency
    assert document.issuer_id == "440300"
    # The form goes to the other agency: it carries the full number (domain.md).
    assert id_number_decrypt(case.id_number_encrypted) in text
    assert re.search(r"实际缴费月数\s+60\b", text)
    assert f"/verify/{document.number}/" in text
    # Rendered to an image: an A4 page (210 x 297 mm) with ink on it.
    (tmp_path / "doc.pdf").write_bytes(pdf)
    tool(
        "pdftoppm",
        "-r",
        "50",
        "-png",
        "-singlefile",
        str(tmp_path / "doc.pdf"),
        str(tmp_path / "page"),
    )
    from PIL import Image

    with Image.open(tmp_path / "page.png") as page:
        assert abs(page.height / page.width - 297 / 210) < 0.01
        dark = page.convert("L").point(lambda v: 255 if v < 128 else 0).histogram()[255]
        assert dark > 5000
    fonts = tool("pdffonts", str(tmp_path / "doc.pdf"))
    assert re.search(r"WenQuanYi\S*\s+TrueType\s+\S+\s+yes", fonts), fonts


def test_the_other_documents_mask_the_id_number(client_for, case_in_state, tmp_path):
    case = case_in_state("transfer_out_approved")
    number = id_number_decrypt(case.id_number_encrypted)
    for kind, title, issuer in (
        (CERT, "参保凭证", "深圳市医疗保障局"),
        (LETTER, "基本医疗保险关系转移接续联系函", "长沙市医疗保障局"),
    ):
        text = text_of(fetch(client_for("applicant"), case, kind), tmp_path)
        assert title in text
        assert f"出具机构：{issuer}" in text
        assert number not in text
        assert id_number_mask(number) in text


def test_the_signature_verifies_with_two_validators_and_a_changed_byte_breaks_it(
    client_for, case_in_state, tmp_path
):
    case = case_in_state("transfer_out_approved")
    pdf = fetch(client_for("cw_out"), case, INFO)
    status = pyhanko_status(pdf)
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert "深圳市医疗保障局" in status.signing_cert.subject.human_friendly
    report = pdfsig(pdf, tmp_path)
    assert "Signature is Valid." in report
    assert "Total document signed" in report
    # One byte of the page's content stream changed (inside the signed range).
    at = pdf.index(b"stream", pdf.index(b"/Length")) + 20
    tampered = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    assert not pyhanko_status(tampered).intact
    assert "Signature is Valid." not in pdfsig(tampered, tmp_path)


def test_the_same_document_comes_back_byte_for_byte(client_for, case_in_state):
    case = case_in_state("transfer_out_approved")
    start = dt.datetime(2026, 11, 25, 9, 0, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        first = fetch(client_for("cw_in"), case, INFO)
    # Hours later: no clock of the renderer or the signer may leak into the bytes.
    with time_machine.travel(start + dt.timedelta(hours=5, seconds=17), tick=False):
        again = fetch(client_for("applicant"), case, INFO)
    assert first == again
    document = IssuedDocument.objects.get(case=case, kind=INFO)
    assert document.sha256 == hashlib.sha256(first).hexdigest()
    assert IssuedDocument.objects.filter(case=case).count() == 1


def test_a_change_of_the_facts_supersedes_the_document(client_for, case_in_state, client):
    case = case_in_state("transfer_out_approved")
    fetch(client_for("cw_in"), case, INFO)
    old = IssuedDocument.objects.get(case=case, kind=INFO)
    url = f"/api/v1/documents/{old.number}/verification/"
    assert client.get(url).json()["status"] == "valid"
    # A correction of the recorded interest changes what the form says.
    type(case).objects.filter(pk=case.pk).update(interest="1.23")
    assert client.get(url).json()["status"] == "superseded"
    fetch(client_for("cw_in"), case, INFO)
    new = IssuedDocument.objects.get(case=case, kind=INFO, superseded_at__isnull=True)
    assert new.number != old.number
    old.refresh_from_db()
    assert old.superseded_at is not None
    assert client.get(url).json()["status"] == "superseded"
    body = client.get(f"/api/v1/documents/{new.number}/verification/").json()
    assert body["status"] == "valid"


def test_verification_tells_anyone_what_the_document_is_and_nothing_personal(
    client_for, case_in_state, client
):
    case = case_in_state("transfer_out_approved")
    pdf = fetch(client_for("cw_in"), case, INFO)
    document = IssuedDocument.objects.get(case=case, kind=INFO)
    r = client.get(f"/api/v1/documents/{document.number}/verification/")
    assert r.status_code == 200
    body = r.json()
    assert body == {
        "number": document.number,
        "kind": INFO,
        "kind_label": "参保人员基本医疗保险信息表",
        "issuer": {"code": "440300", "name": "深圳市医疗保障局"},
        "issued_at": body["issued_at"],
        "case_reference": case.reference,
        "applicant": "张*",
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "status": "valid",
    }
    number = id_number_decrypt(case.id_number_encrypted)
    body_text = r.content.decode()
    assert number not in body_text
    assert number[6:14] not in body_text  # not even the birth date
    assert "张三" not in body_text
    assert client.get("/api/v1/documents/XXB0000000000000000000/verification/").status_code == 404


def test_the_verification_page_says_the_same(client_for, case_in_state, client):
    case = case_in_state("transfer_out_approved")
    pdf = fetch(client_for("cw_in"), case, INFO)
    document = IssuedDocument.objects.get(case=case, kind=INFO)
    html = client.get(f"/verify/{document.number}/").content.decode()
    assert "有效" in html
    assert "深圳市医疗保障局" in html
    assert hashlib.sha256(pdf).hexdigest() in html
    assert id_number_decrypt(case.id_number_encrypted)[:10] not in html
    missing = client.get("/verify/NOPE123/")
    assert missing.status_code == 404
    assert "NOPE123" in missing.content.decode()


def test_documents_exist_only_when_the_case_holds_them(client_for, case_in_state):
    applied = case_in_state("applied")
    client = client_for("cw_out")
    listed = client.get(f"/api/v1/cases/{applied.reference}/documents/").json()
    assert [d["kind"] for d in listed] == [LETTER]
    assert client.get(pdf_url(applied, INFO)).status_code == 404
    assert client.get(pdf_url(applied, "passport")).status_code == 404
    assert not IssuedDocument.objects.exists()


def test_the_list_shows_numbers_once_issued(client_for, case_in_state):
    case = case_in_state("transfer_out_approved")
    client = client_for("applicant")
    listed = client.get(f"/api/v1/cases/{case.reference}/documents/").json()
    assert [(d["kind"], d["number"]) for d in listed] == [
        (INFO, None),
        (CERT, None),
        (LETTER, None),
    ]
    fetch(client, case, CERT)
    listed = {d["kind"]: d for d in client.get(f"/api/v1/cases/{case.reference}/documents/").json()}
    issued = IssuedDocument.objects.get(kind=CERT)
    assert (listed[CERT]["number"], listed[CERT]["valid"]) == (issued.number, True)
    assert listed[CERT]["url"] == pdf_url(case, CERT)


def test_who_may_not_see_the_case_gets_no_document(client_for, case_in_state):
    case = case_in_state("transfer_out_approved")
    assert client_for("other_applicant").get(pdf_url(case, INFO)).status_code == 404
    assert client_for("cw_other").get(pdf_url(case, INFO)).status_code == 404
    assert client_for(None).get(pdf_url(case, INFO)).status_code == 401
    assert not IssuedDocument.objects.exists()


def test_a_withdrawn_case_has_no_contact_letter(client_for, case_in_state):
    case = case_in_state("withdrawn")
    assert client_for("applicant").get(pdf_url(case, LETTER)).status_code == 404


def test_the_admin_lists_issued_documents_of_cases_staff_may_see(client_for, case_in_state):
    from django.test import Client

    from accounts.models import User

    case = case_in_state("transfer_out_approved")
    fetch(client_for("cw_in"), case, INFO)
    document = IssuedDocument.objects.get()
    seen = Client()
    seen.force_login(User.objects.get(username="sz_cw"))
    page = seen.get("/admin/documents/issueddocument/")
    assert page.status_code == 200
    assert document.number in page.content.decode()
    unrelated = Client()
    unrelated.force_login(User.objects.get(username="bj_cw"))
    page = unrelated.get("/admin/documents/issueddocument/")
    assert document.number not in page.content.decode()
    # Outside the queryset: the admin's "does not exist" answer, a redirect to its index.
    change = unrelated.get(f"/admin/documents/issueddocument/{document.pk}/change/")
    assert (change.status_code, change["Location"]) == (302, "/admin/")


def test_a_refetch_serves_the_stored_file_kept_encrypted(
    client_for, case_in_state, monkeypatch, settings
):
    from django.core.files.storage import storages

    import documents.services

    case = case_in_state("transfer_out_approved")
    first = fetch(client_for("cw_in"), case, INFO)
    document = IssuedDocument.objects.get()
    with storages["default"].open(document.storage_name, "rb") as handle:
        at_rest = handle.read()
    # Encrypted at rest: neither a PDF nor the full ID number it carries.
    assert not at_rest.startswith(b"%PDF")
    assert id_number_decrypt(case.id_number_encrypted).encode() not in at_rest

    def no_rendering(*args, **kwargs):
        raise AssertionError("an unchanged document is served from storage, not rendered")

    monkeypatch.setattr(documents.services, "_pdf", no_rendering)
    assert fetch(client_for("applicant"), case, INFO) == first


def test_a_lost_stored_file_is_rendered_again_byte_for_byte(client_for, case_in_state):
    from django.core.files.storage import storages

    case = case_in_state("transfer_out_approved")
    first = fetch(client_for("cw_in"), case, INFO)
    document = IssuedDocument.objects.get()
    storages["default"].delete(document.storage_name)
    assert fetch(client_for("cw_in"), case, INFO) == first
    document.refresh_from_db()
    assert storages["default"].exists(document.storage_name)


def test_a_failed_issue_leaves_no_file_behind(client_for, case_in_state, monkeypatch, tmp_path):
    import documents.services

    case = case_in_state("transfer_out_approved")
    written = []
    store = documents.services._store

    def store_and_note(pdf):
        name = store(pdf)
        written.append(name)
        return name

    def broken_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(documents.services, "_store", store_and_note)
    monkeypatch.setattr(IssuedDocument, "save", broken_save)
    with pytest.raises(RuntimeError):
        documents.services.document_issue(case=case, kind=INFO, now=dt.datetime.now(dt.UTC))
    assert len(written) == 1  # the file had been written before the row failed...
    media = tmp_path / "media"
    assert sorted(media.rglob("*.enc")) == []  # ... and went with it


def test_a_withdrawn_case_voids_its_documents(client_for, case_in_state, client, personas):
    from cases.services import case_transition

    case = case_in_state("applied")
    fetch(client_for("applicant"), case, LETTER)
    letter = IssuedDocument.objects.get(kind=LETTER)
    case_transition(case=case, action="withdraw", actor=personas["applicant"])
    body = client.get(f"/api/v1/documents/{letter.number}/verification/").json()
    assert body["status"] == "void"
    assert "已作废" in client.get(f"/verify/{letter.number}/").content.decode()


def test_bytes_that_no_longer_match_their_number_get_a_new_number(client_for, case_in_state):
    from django.core.files.storage import storages

    case = case_in_state("transfer_out_approved")
    fetch(client_for("cw_in"), case, INFO)
    old = IssuedDocument.objects.get()
    # The stored file lost, and the key changed since (its re-rendering differs from the record).
    storages["default"].delete(old.storage_name)
    IssuedDocument.objects.filter(pk=old.pk).update(sha256="0" * 64)
    pdf = fetch(client_for("cw_in"), case, INFO)
    new = IssuedDocument.objects.get(superseded_at__isnull=True)
    assert new.number != old.number
    assert new.sha256 == hashlib.sha256(pdf).hexdigest()


def test_no_signing_key_in_production_is_a_503_not_a_500(
    client_for, case_in_state, settings, tmp_path
):
    case = case_in_state("transfer_out_approved")
    settings.DOCUMENT_DEV_PKI = False
    settings.DOCUMENT_PKI_DIR = tmp_path / "no-keys"
    r = client_for("cw_in").get(pdf_url(case, INFO))
    assert r.status_code == 503
    assert r.json()["code"] == "documents_unavailable"
    assert int(r["Retry-After"]) > 0
    assert not IssuedDocument.objects.exists()


def test_the_contact_letter_prints_its_whole_closing(client_for, case_in_state, tmp_path):
    case = case_in_state("applied")
    text = text_of(fetch(client_for("applicant"), case, LETTER), tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert "请协助办理转出手续并出具参保人员基本医疗保险信息表。" in flat


def test_a_chain_file_with_an_intermediate_goes_into_the_signature(
    client_for, case_in_state, settings
):
    """ca.crt holding two certificates: both are embedded for validators to build the path."""
    from documents.pki import dev_ca_ensure, pki_dir

    case = case_in_state("transfer_out_approved")
    dev_ca_ensure()
    original = (pki_dir() / "ca.crt").read_bytes()
    extra = x509.load_pem_x509_certificate(original)
    try:
        (pki_dir() / "ca.crt").write_bytes(
            original + extra.public_bytes(serialization.Encoding.PEM)
        )
        from documents import pdf as pdf_module

        pdf_module._signer.cache_clear()
        pdf = fetch(client_for("cw_in"), case, LETTER)
        reader = PdfFileReader(io.BytesIO(pdf))
        (signature,) = reader.embedded_signatures
        assert len(signature.signed_data["certificates"]) >= 2
    finally:
        (pki_dir() / "ca.crt").write_bytes(original)
