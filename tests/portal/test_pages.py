"""The applicant pages through Django's test client (issue 11 items 1 and 3): the lookup, sign-in,
my cases, a case, upload, resubmit, withdraw with its confirmation, the large-text mode, the real
404 page, CSP. The journeys in a real browser are in tests/browser/."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from accounts.models import Role, User
from cases.inputs import MSG_NO_STATUS_MATCH
from cases.models import Attachment, TransferCase

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
    assert str(MSG_NO_STATUS_MATCH) in wrong_suffix.content.decode()
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
    assert r["Location"] == "/desk/"
    administrator = User.objects.create_user(
        "root_admin", password="pw-root", role=Role.ADMIN, is_staff=True
    )
    r = signed_in(administrator).get("/me/")
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
    link = f"/me/cases/{case.reference}/attachments/{attachment.pk}/"
    assert link in r.content.decode()
    # The download link serves the file to the signed-in applicant (the API's one access rule).
    download = client.get(link)
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


def test_a_session_ends_30_minutes_after_the_last_request(personas, case_in_state):
    import datetime as dt

    import time_machine

    case_in_state("applied")
    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    client = Client()
    with time_machine.travel(start, tick=False):
        signed = client.post("/signin/", {"username": "zhangsan", "password": "pw-zhangsan"})
        # A browser-session cookie (no expiry date): it goes when the browser closes.
        assert (signed.cookies["sessionid"]["max-age"], signed.cookies["sessionid"]["expires"]) == (
            "",
            "",
        )
        assert client.get("/me/").status_code == 200
    # Each request renews it: 25 minutes later it is still there...
    with time_machine.travel(start + dt.timedelta(minutes=25), tick=False):
        assert client.get("/me/").status_code == 200
    # ... and 31 minutes after that request it is gone.
    with time_machine.travel(start + dt.timedelta(minutes=56), tick=False):
        r = client.get("/me/")
    assert (r.status_code, r["Location"]) == (302, "/signin/?next=/me/")


def test_the_admin_view_site_link_goes_to_the_home_page():
    from django.contrib import admin

    assert admin.site.site_url == "/"


def test_the_status_page_shows_dates_done_and_due_and_says_provisional(
    client, submit_case, calendar_2026
):
    import datetime as dt

    import time_machine

    from workflow.calendar import SHANGHAI

    # Submitted on 24 December: the 10 working days run into 2027, whose schedule is unpublished.
    submitted = dt.datetime(2026, 12, 24, 9, 0, tzinfo=SHANGHAI)
    case = submit_case(now=submitted)
    with time_machine.travel(submitted + dt.timedelta(hours=1), tick=False):
        r = client.post("/status/", {"reference": case.reference, "id_number_suffix": suffix(case)})
    html = r.content.decode()
    assert "2026年12月24日" in html  # applied on
    due = case.clocks.get().due_at.astimezone(SHANGHAI)
    assert f"{due.year}年{due.month}月{due.day}日前办理（暂定）" in html
    assert "预计" in html
    assert "暂定：所涉年份的法定节假日安排尚未公布" in html


def test_the_case_page_says_what_happens_next_cover_and_documents(
    personas, submit_case, case_in_state
):
    import datetime as dt

    case = submit_case(
        stopped_at_source_on=dt.date(2024, 3, 31), enrolled_at_target_on=dt.date(2026, 11, 1)
    )
    client = signed_in(personas["applicant"])
    html = client.get(f"/me/cases/{case.reference}/").content.decode()
    assert "转出地经办机构正在审核申请" in html  # what happens next, and who has it
    assert "转入地等待期" in html
    # The contact letter can be had from submission, the information form once approved.
    assert f"/me/cases/{case.reference}/documents/contact-letter.pdf" in html
    assert "information-form.pdf" not in html
    listing = client.get("/me/").content.decode()
    assert "下一个期限" in listing


def test_documents_download_from_the_page_and_refusals_are_pages(
    personas, case_in_state, settings, tmp_path
):
    case = case_in_state("transfer_out_approved")
    client = signed_in(personas["applicant"])
    base = f"/me/cases/{case.reference}/documents/"
    pdf = client.get(base + "information-form.pdf")
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF-")
    missing = client.get(base + "passport.pdf")
    assert missing.status_code == 404
    assert "页面不存在" in missing.content.decode()
    # No key for the transfer-in agency in production: a message on the case page, not a 500.
    settings.DOCUMENT_DEV_PKI = False
    settings.DOCUMENT_PKI_DIR = tmp_path / "empty"
    r = client.get(base + "contact-letter.pdf", follow=True)
    assert "暂时无法出具文件" in r.content.decode()


def test_an_upload_declared_too_large_is_refused_before_it_is_read(
    personas, case_in_state, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    case = case_in_state("materials_requested")
    client = signed_in(personas["applicant"])
    page = f"/me/cases/{case.reference}/"
    r = client.post(
        page + "attachments/",
        {"label": "离职证明", "file": SimpleUploadedFile("big.pdf", PDF + b"0" * 200_000)},
        HTTP_REFERER=f"http://testserver{page}",
    )
    assert (r.status_code, r["Location"]) == (302, f"http://testserver{page}")
    assert Attachment.objects.count() == 0
    assert "附件最大" in client.get(page).content.decode()


def test_a_form_without_its_csrf_token_gets_a_page_in_words(personas, case_in_state):
    case = case_in_state("applied")
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["applicant"])
    r = client.post(f"/me/cases/{case.reference}/withdraw/", {"version": case.version})
    assert r.status_code == 403
    assert "表单已过期" in r.content.decode()
    api = client.post("/api/v1/status-lookup/", {}, content_type="application/json")
    assert api["Content-Type"] == "application/problem+json"


def test_a_too_large_upload_is_refused_before_the_csrf_check_reads_it(
    personas, case_in_state, settings, monkeypatch
):
    """Nothing reads the body: not the CSRF check (which would spool the files to disk), not the
    view."""
    from django.http import HttpRequest

    settings.ATTACHMENT_MAX_BYTES = 1024
    case = case_in_state("materials_requested")
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["applicant"])

    def no_reading(self):
        raise AssertionError("the body was read")

    monkeypatch.setattr(HttpRequest, "_load_post_and_files", no_reading)
    r = client.post(
        f"/me/cases/{case.reference}/attachments/",
        {"label": "离职证明", "file": SimpleUploadedFile("big.pdf", PDF + b"0" * 200_000)},
    )
    assert (r.status_code, r["Location"]) == (302, "/")  # no page of ours sent it: home
    api = client.post(
        f"/api/v1/cases/{case.reference}/attachments/",
        {"label": "离职证明", "file": SimpleUploadedFile("big.pdf", PDF + b"0" * 200_000)},
    )
    assert (api.status_code, api.json()["code"]) == (413, "request_too_large")
