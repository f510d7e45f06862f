"""The applicant pages through Django's test client (issue 11 items 1 and 3): the lookup, sign-in,
my cases, a case, upload, resubmit, withdraw with its confirmation, the large-text mode, the real
404 page, CSP. The journeys in a real browser are in tests/browser/."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from cases.models import Attachment, TransferCase
from portal.views import MSG_NO_MATCH

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def suffix(case: TransferCase) -> str:
    from core.identity import id_number_decrypt

    return id_number_decrypt(case.id_number_encrypted)[-6:]


def test_home_has_the_lookup_with_the_api_field_names(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="reference"' in html
    assert 'name="id_number_suffix"' in html
    assert "查询办理进度" in html
    policy = dict(part.strip().split(" ", 1) for part in r["Content-Security-Policy"].split(";"))
    assert (policy["default-src"], policy["script-src"], policy["style-src"]) == ("'self'",) * 3
    assert policy["object-src"] == policy["frame-ancestors"] == "'none'"
    assert not INLINE_SCRIPT.search(r.content)


def test_the_lookup_shows_progress_and_nothing_personal(client, case_in_state):
    case = case_in_state("transfer_out_approved")
    r = client.post("/status/", {"reference": case.reference, "id_number_suffix": suffix(case)})
    assert r.status_code == 200
    html = r.content.decode()
    assert case.reference in html
    assert "转出地已办结" in html  # the state's label
    assert 'aria-current="step"' in html
    for personal in ("张三", "13812345678", suffix(case)):
        assert personal not in html


def test_a_wrong_reference_and_a_wrong_suffix_get_the_same_answer(client, case_in_state):
    case = case_in_state("applied")
    wrong_suffix = client.post(
        "/status/", {"reference": case.reference, "id_number_suffix": "000000"}
    )
    wrong_reference = client.post(
        "/status/", {"reference": "YB2099010100000000", "id_number_suffix": suffix(case)}
    )
    assert wrong_suffix.status_code == wrong_reference.status_code == 404
    assert str(MSG_NO_MATCH) in wrong_suffix.content.decode()
    strip = re.compile(rb'value="[^"]*"')
    assert strip.sub(b"", wrong_suffix.content) == strip.sub(b"", wrong_reference.content)


def test_a_malformed_suffix_is_said_and_changes_nothing(client):
    r = client.post("/status/", {"reference": "YB1", "id_number_suffix": "１２３４５６"})
    assert r.status_code == 400
    assert "身份证号码后 6 位" in r.content.decode()


def test_the_lookup_page_is_throttled_like_the_api(client, case_in_state):
    case = case_in_state("applied")
    body = {"reference": case.reference, "id_number_suffix": "000000"}
    codes = [client.post("/status/", body).status_code for _ in range(10)]
    assert codes == [404] * 10
    # The page and the API count together: the 11th try from this address is refused on both.
    r = client.post("/api/v1/status-lookup/", body, content_type="application/json")
    assert r.status_code == 429
    r = client.post("/status/", body)
    assert r.status_code == 429
    assert int(r["Retry-After"]) > 0
    assert "尝试次数过多" in r.content.decode()


@override_settings(DEBUG=True)
def test_an_unknown_path_is_a_real_404_page_even_in_debug(client):
    r = client.get("/no/such/page/")
    assert r.status_code == 404
    html = r.content.decode()
    assert "页面不存在" in html
    assert "URLconf" not in html
    assert "api/v1/" not in html


@override_settings(DEBUG=True)
def test_an_unknown_api_path_is_problem_details(client):
    r = client.get("/api/v1/no-such-thing/")
    assert r.status_code == 404
    assert r["Content-Type"] == "application/problem+json"


def test_my_pages_need_signing_in(client):
    r = client.get("/me/")
    assert r.status_code == 302
    assert r["Location"].startswith("/signin/")


def test_signing_in_leads_to_my_cases(client, personas, case_in_state):
    case = case_in_state("applied")
    r = client.post("/signin/", {"username": "zhangsan", "password": "pw-zhangsan"})
    assert r.status_code == 302
    assert r["Location"] == "/me/"
    html = client.get("/me/").content.decode()
    assert case.reference in html
    assert "深圳市医疗保障局" in html


def test_a_wrong_password_is_said_on_the_page(client, personas):
    r = client.post("/signin/", {"username": "zhangsan", "password": "wrong"})
    assert r.status_code == 200
    assert 'class="errors" role="alert"' in r.content.decode()


def test_staff_are_sent_to_the_staff_pages(personas):
    r = signed_in(personas["cw_out"]).get("/me/")
    assert r.status_code == 302
    assert r["Location"] == "/admin/"


def test_someone_elses_case_is_not_found(personas, case_in_state):
    case = case_in_state("applied")
    r = signed_in(personas["other_applicant"]).get(f"/me/cases/{case.reference}/")
    assert r.status_code == 404
    assert "页面不存在" in r.content.decode()


def test_the_case_page_in_words(personas, case_in_state):
    case = case_in_state("materials_requested")
    r = signed_in(personas["applicant"]).get(f"/me/cases/{case.reference}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert "离职证明" in html  # what is missing
    assert "需补正：离职证明" in html  # the timeline entry, in words
    for raw in ("request_materials", "caseworker", "materials_requested</", "{"):
        assert raw not in html.split("<main", 1)[1]
    assert "张三" not in html


def test_upload_then_resubmit(personas, case_in_state):
    case = case_in_state("materials_requested")
    client = signed_in(personas["applicant"])
    url = f"/me/cases/{case.reference}/"
    r = client.post(
        url + "attachments/",
        {"label": "离职证明", "file": SimpleUploadedFile("scan.pdf", PDF)},
        follow=True,
    )
    assert "已上传材料“离职证明”" in r.content.decode()
    attachment = Attachment.objects.get(case=case)
    assert attachment.content_type == "application/pdf"
    assert f"/api/v1/cases/{case.reference}/attachments/{attachment.pk}/" in r.content.decode()
    # The download link serves the file to the signed-in applicant (the API's one access rule).
    download = client.get(f"/api/v1/cases/{case.reference}/attachments/{attachment.pk}/")
    assert b"".join(download.streaming_content) == PDF
    case.refresh_from_db()
    r = client.post(url + "resubmit/", {"version": case.version}, follow=True)
    case.refresh_from_db()
    assert case.state == "applied"
    assert "补正材料已提交" in r.content.decode()


def test_a_file_that_is_not_a_document_is_refused_in_words(personas, case_in_state):
    case = case_in_state("materials_requested")
    client = signed_in(personas["applicant"])
    r = client.post(
        f"/me/cases/{case.reference}/attachments/",
        {"label": "离职证明", "file": SimpleUploadedFile("a.pdf", b"MZ\x90\x00 not a pdf")},
        follow=True,
    )
    assert Attachment.objects.count() == 0
    assert "PDF、JPEG 或 PNG" in r.content.decode()


def test_withdraw_asks_first_then_withdraws(personas, case_in_state):
    case = case_in_state("applied")
    client = signed_in(personas["applicant"])
    url = f"/me/cases/{case.reference}/withdraw/"
    page = client.get(url)
    assert page.status_code == 200
    assert "确定撤回" in page.content.decode()
    case.refresh_from_db()
    assert case.state == "applied"
    r = client.post(url, {"version": case.version}, follow=True)
    case.refresh_from_db()
    assert case.state == "withdrawn"
    assert "您的申请已撤回" in r.content.decode()


def test_a_stale_confirmation_changes_nothing(personas, case_in_state):
    case = case_in_state("applied")
    client = signed_in(personas["applicant"])
    r = client.post(
        f"/me/cases/{case.reference}/withdraw/", {"version": case.version + 5}, follow=True
    )
    case.refresh_from_db()
    assert case.state == "applied"
    assert "打开页面后业务已有变化" in r.content.decode()


def test_withdraw_cannot_be_done_by_get_alone(personas, case_in_state):
    case = case_in_state("balance_moved")
    r = signed_in(personas["applicant"]).get(f"/me/cases/{case.reference}/withdraw/", follow=True)
    case.refresh_from_db()
    assert case.state == "balance_moved"
    assert "不能进行此操作" in r.content.decode()


def test_the_large_text_mode_persists(client):
    r = client.post("/settings/text-size/", {"size": "large", "next": "/status/"})
    assert r.status_code == 302
    assert r["Location"] == "/status/"
    assert r.cookies["text_size"]["max-age"] >= 365 * 24 * 3600 - 1
    assert 'class="large-text"' in client.get("/").content.decode()
    client.post("/settings/text-size/", {"size": "normal", "next": "https://evil.example/"})
    assert 'class="large-text"' not in client.get("/").content.decode()


def test_the_text_size_form_will_not_redirect_elsewhere(client):
    r = client.post("/settings/text-size/", {"size": "large", "next": "//evil.example/x"})
    assert r["Location"] == "/"


def test_forms_need_their_csrf_token(personas, case_in_state):
    case = case_in_state("applied")
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["applicant"])
    r = client.post(f"/me/cases/{case.reference}/withdraw/", {"version": case.version})
    assert r.status_code == 403
    case.refresh_from_db()
    assert case.state == "applied"


def test_english_by_the_language_switch(client):
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    assert "Check progress" in r.content.decode()
    assert 'lang="en"' in r.content.decode()


def test_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_the_admin_view_site_link_goes_to_the_home_page():
    from django.contrib import admin

    assert admin.site.site_url == "/"
