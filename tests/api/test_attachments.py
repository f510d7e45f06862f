"""Attachments (issue 9 item 8; api.md "Attachments"): PDF, JPEG or PNG by content, at most the
limit (413), wrong type 415, images re-encoded without metadata, stored under a random name
through Django's storage API, only for those who may see the case, never a server error."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image

from cases.models import Attachment, CaseEvent, TransferCase

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def uploads_unthrottled(settings):
    """The fuzzing below sends hundreds of files from one account; the limit has its own test."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "upload": "100000/hour"},
    }


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "ACME Camera"  # Make
    exif[0x9003] = "2026:11:23 09:00:00"  # DateTimeOriginal
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()


def upload(
    client,
    case,
    content: bytes,
    *,
    name="file.bin",
    declared="application/octet-stream",
    label="离职证明",
):
    data = {"file": SimpleUploadedFile(name, content, content_type=declared)}
    if label is not None:
        data["label"] = label
    return client.post(f"/api/v1/cases/{case.reference}/attachments/", data, format="multipart")


def test_a_pdf_is_stored_as_sent_listed_and_downloaded(client_for, case_in_state):
    case = case_in_state("applied")
    client = client_for("applicant")
    r = upload(client, case, PDF, name="whatever.png", declared="image/png")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["content_type"], body["size"], body["sha256"]) == (
        "application/pdf",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    attachment = Attachment.objects.get()
    assert attachment.storage_name.startswith("attachments/")
    assert "whatever" not in attachment.storage_name
    assert CaseEvent.objects.filter(case=case, action="attach").count() == 1
    listed = client_for("cw_out").get(f"/api/v1/cases/{case.reference}/attachments/").json()
    assert [a["id"] for a in listed["results"]] == [body["id"]]
    download = client_for("cw_in").get(body["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Cache-Control"] == "private, no-store"
    assert b"".join(download.streaming_content) == PDF


def test_an_image_is_re_encoded_without_its_metadata(client_for, case_in_state):
    case = case_in_state("applied")
    original = jpeg_with_exif()
    assert b"ACME Camera" in original
    r = upload(client_for("cw_out"), case, original, name="scan.jpg", declared="image/jpeg")
    assert r.status_code == 201, r.content
    stored = storages["default"].open(Attachment.objects.get().storage_name).read()
    assert b"ACME Camera" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("JPEG", (40, 30))
        assert not image.getexif()
    assert (
        upload(client_for("cw_out"), case, png(), label="照片").json()["content_type"]
        == "image/png"
    )


@pytest.mark.parametrize(
    "content",
    [
        b"hello, not a file type we take",
        b"GIF89a" + b"\x00" * 20,
        b"\xff\xd8\xff" + b"garbage" * 10,
    ],
)
def test_other_content_is_415_whatever_its_name(client_for, case_in_state, content):
    case = case_in_state("applied")
    r = upload(client_for("applicant"), case, content, name="fine.pdf", declared="application/pdf")
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"
    assert not Attachment.objects.exists()


def test_a_decompression_bomb_is_refused(client_for, case_in_state):
    case = case_in_state("applied")
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, format="PNG")  # 144 Mpx, a few KB
    r = upload(client_for("applicant"), case, out.getvalue())
    assert r.status_code == 415


@override_settings(ATTACHMENT_MAX_BYTES=1024)
def test_larger_than_the_limit_is_413_and_nothing_is_stored(client_for, case_in_state, tmp_path):
    case = case_in_state("applied")
    r = upload(client_for("applicant"), case, PDF + b"0" * 2000)
    assert r.status_code == 413
    assert r.json()["code"] == "request_too_large"
    assert not Attachment.objects.exists()
    media = tmp_path / "media"
    assert (sorted(media.rglob("*.*")) if media.exists() else []) == []


def test_a_label_and_a_file_are_required(client_for, case_in_state):
    case = case_in_state("applied")
    assert upload(client_for("applicant"), case, PDF, label=None).status_code == 400
    # A NUL (PostgreSQL refuses it: schemathesis found the 500) or another control character.
    for label in ("\x04\x00Û", "离职\u202e证明"):
        r = upload(client_for("applicant"), case, PDF, label=label)
        assert (r.status_code, list(r.json()["errors"])) == (400, ["label"])
    assert not Attachment.objects.exists()
    r = client_for("applicant").post(
        f"/api/v1/cases/{case.reference}/attachments/", {"label": "x"}, format="multipart"
    )
    assert (r.status_code, list(r.json()["errors"])) == (400, ["file"])


def test_who_may_not_see_the_case_gets_404_everywhere(client_for, case_in_state):
    case = case_in_state("applied")
    body = upload(client_for("applicant"), case, PDF).json()
    for outsider in ("other_applicant", "cw_other"):
        client = client_for(outsider)
        assert upload(client, case, PDF).status_code == 404
        assert client.get(f"/api/v1/cases/{case.reference}/attachments/").status_code == 404
        assert client.get(body["url"]).status_code == 404
    assert client_for(None).get(body["url"]).status_code == 401
    assert Attachment.objects.count() == 1


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefix=st.sampled_from([b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b""]),
    tail=st.binary(max_size=600),
)
def test_malformed_files_never_give_a_server_error(client_for, case_in_state, prefix, tail):
    case = TransferCase.objects.first() or case_in_state("applied")
    r = upload(client_for("applicant"), case, prefix + tail)
    assert r.status_code in (201, 415), r.content
    if (prefix + tail).startswith(b"%PDF-"):
        assert r.status_code == 201  # a PDF by its signature is kept as sent


def _mutants(seed: bytes, flips: list[tuple[int, int]]) -> bytes:
    data = bytearray(seed)
    for position, value in flips:
        data[position % len(data)] = value
    return bytes(data)


@hsettings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.sampled_from(["jpeg", "png"]),
    flips=st.lists(st.tuples(st.integers(8, 4000), st.integers(0, 255)), min_size=1, max_size=6),
)
def test_damaged_real_images_never_give_a_server_error(client_for, case_in_state, which, flips):
    """Valid images with a few bytes changed past the signature reach deep into the decoders."""
    case = TransferCase.objects.first() or case_in_state("applied")
    seed = jpeg_with_exif() if which == "jpeg" else png()
    r = upload(client_for("applicant"), case, _mutants(seed, flips))
    assert r.status_code in (201, 415), r.content


def test_a_png_without_its_palette_is_no_server_error(client_for, case_in_state):
    """Pillow's PNG encoder raised UnboundLocalError on this one (found by review) when it was
    saved with its own mode; rebuilt from its pixels it is stored as a clean PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 2, 2, 8, 3, 0, 0, 0)  # 2x2, 8-bit palette, no PLTE
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00" * 2))
        + chunk(b"IEND", b"")
    )
    case = case_in_state("applied")
    assert upload(client_for("applicant"), case, data).status_code == 201
    stored = storages["default"].open(Attachment.objects.get().storage_name).read()
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size) == ("PNG", (2, 2))


def test_a_jpeg_comment_does_not_survive(client_for, case_in_state):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="JPEG", comment=b"secret note 13812345678")
    case = case_in_state("applied")
    assert upload(client_for("cw_out"), case, out.getvalue()).status_code == 201
    stored = storages["default"].open(Attachment.objects.get().storage_name).read()
    assert b"secret note" not in stored


def test_another_cases_attachment_id_is_404(client_for, case_in_state, submit_case, personas):
    mine = case_in_state("applied")
    body = upload(client_for("applicant"), mine, PDF).json()
    from cases.services import Applicant
    from tests.conftest import make_id_number

    other = submit_case(
        actor=personas["cw_out"],
        applicant=Applicant(name="王五", id_number=make_id_number("440306", "19850101")),
    )
    r = client_for("cw_out").get(f"/api/v1/cases/{other.reference}/attachments/{body['id']}/")
    assert r.status_code == 404


def test_the_admin_case_page_lists_the_attachments_with_their_links(
    client, client_for, personas, case_in_state
):
    from django.urls import reverse

    case = case_in_state("applied")
    body = upload(client_for("applicant"), case, PDF).json()
    client.force_login(personas["cw_out"])
    page = client.get(reverse("admin:cases_transfercase_change", args=[case.pk]))
    text = page.content.decode()
    assert f'href="{body["url"]}"' in text
    assert "离职证明" in text
    # The link is the API's download: the admin's session reaches it under the same access rule.
    assert client.get(body["url"]).status_code == 200


def files_stored(tmp_path) -> list:
    media = tmp_path / "media"
    return sorted(media.rglob("*.*")) if media.exists() else []


def test_the_same_upload_retried_with_its_key_is_stored_once(client_for, case_in_state, tmp_path):
    case = case_in_state("applied")
    client = client_for("applicant")
    url = f"/api/v1/cases/{case.reference}/attachments/"

    def send(content: bytes):
        data = {"file": SimpleUploadedFile("a.pdf", content), "label": "离职证明"}
        return client.post(url, data, format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1")

    first = send(PDF)
    again = send(PDF)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Attachment.objects.count() == 1
    assert CaseEvent.objects.filter(case=case, action="attach").count() == 1
    assert len(files_stored(tmp_path)) == 1
    # The same key with another file is another request: refused, nothing stored.
    other = send(PDF + b"% another\n")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert Attachment.objects.count() == 1
    assert len(files_stored(tmp_path)) == 1


@override_settings(ATTACHMENT_MAX_PER_CASE=2)
def test_a_case_holds_at_most_the_configured_number_of_files(client_for, case_in_state, tmp_path):
    case = case_in_state("applied")
    client = client_for("applicant")
    assert [upload(client, case, PDF).status_code for _ in range(2)] == [201, 201]
    r = upload(client, case, PDF)
    assert r.status_code == 400
    assert r.json()["code"] == "too_many_attachments"
    assert "2" in r.json()["detail"]
    assert Attachment.objects.filter(case=case).count() == 2
    assert len(files_stored(tmp_path)) == 2


def test_uploads_are_throttled_per_account_reads_are_not(client_for, case_in_state, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "upload": "2/hour",
        },
    }
    case = case_in_state("applied")
    client = client_for("applicant")
    assert [upload(client, case, PDF).status_code for _ in range(3)] == [201, 201, 429]
    assert Attachment.objects.filter(case=case).count() == 2
    url = f"/api/v1/cases/{case.reference}/attachments/"
    assert client.get(url).status_code == 200
    # Another account has its own count.
    assert upload(client_for("cw_out"), case, PDF).status_code == 201
