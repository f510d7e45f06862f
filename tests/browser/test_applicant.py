"""The applicant's journeys in a real browser (issue 11 item 4): look a case up, sign in, send
missing materials, withdraw with a confirmation, keep the large text; every page axe-clean at
360 px and 1440 px in zh-Hans and en, and no English word or raw code on a zh-Hans page."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from cases.models import Attachment, TransferCase
from core.identity import id_number_decrypt
from tests.browser.conftest import WIDTHS, axe_violations, foreign_words, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def suffix(case: TransferCase) -> str:
    return id_number_decrypt(case.id_number_encrypted)[-6:]


def look_up(page: Page, case: TransferCase, id_suffix: str) -> None:
    page.goto("/")
    page.fill("input[name=reference]", case.reference)
    page.fill("input[name=id_number_suffix]", id_suffix)
    page.click("main button[type=submit]")


def test_anyone_looks_a_case_up_by_reference_and_id_suffix(open_page, case_in_state):
    case = case_in_state("transfer_out_approved")
    page = open_page(width=WIDTHS["phone"])
    look_up(page, case, "000000")
    expect(page.locator(".errors")).to_contain_text("没有找到")
    look_up(page, case, suffix(case))
    expect(page).to_have_url(re.compile(r"/status/$"))
    expect(page.locator("main")).to_contain_text(case.reference)
    current = page.locator('.step[aria-current="step"]')
    expect(current).to_contain_text("转入")
    expect(current).to_contain_text("办理中")
    expect(page.locator(".step-done")).to_have_count(2)
    assert "张三" not in page.content()
    screenshot(page, "status-zh-360")


def test_an_applicant_sends_missing_materials(open_page, case_in_state, tmp_path):
    case = case_in_state("materials_requested")
    page = open_page(width=WIDTHS["phone"])
    sign_in(page, "zhangsan", "pw-zhangsan")
    screenshot(page, "me-zh-360")
    page.click(f"a[href='/me/cases/{case.reference}/']")
    expect(page.locator(".missing")).to_contain_text("离职证明")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(PDF)
    page.fill("input[name=label]", "离职证明")
    page.set_input_files("input[name=file]", str(scan))
    page.click("text=上传文件")
    expect(page.locator(".messages")).to_contain_text("已上传材料“离职证明”")
    expect(page.locator(".attachments")).to_contain_text("离职证明")
    assert Attachment.objects.filter(case=case).count() == 1
    screenshot(page, "case-materials-zh-360")
    page.click("text=材料已齐全，提交补正")
    expect(page.locator(".messages")).to_contain_text("补正材料已提交")
    case.refresh_from_db()
    assert case.state == "applied"
    # The file downloads from the link on the page, as the file that was sent.
    with page.expect_download() as download:
        page.click(".attachments a")
    assert download.value.path().read_bytes() == PDF


def test_withdrawing_asks_before_it_acts(open_page, case_in_state):
    case = case_in_state("applied")
    page = open_page(width=WIDTHS["desktop"])
    sign_in(page, "zhangsan", "pw-zhangsan")
    page.goto(f"/me/cases/{case.reference}/")
    withdraw = page.get_by_role("link", name="撤回申请")
    withdraw.click()
    expect(page).to_have_url(re.compile(r"/withdraw/$"))
    screenshot(page, "withdraw-confirm-zh-1440")
    case.refresh_from_db()
    assert case.state == "applied"
    page.click("text=不撤回")
    expect(page).to_have_url(re.compile(rf"/me/cases/{case.reference}/$"))
    withdraw.click()
    page.get_by_role("button", name="确定撤回").click()
    expect(page.locator(".messages")).to_contain_text("您的申请已撤回")
    case.refresh_from_db()
    assert case.state == "withdrawn"
    expect(withdraw).to_have_count(0)


def test_a_signed_document_downloads_and_its_verification_page_matches(
    open_page, case_in_state, tmp_path
):
    case = case_in_state("transfer_out_approved")
    page = open_page(width=WIDTHS["phone"])
    sign_in(page, "zhangsan", "pw-zhangsan")
    page.goto(f"/me/cases/{case.reference}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="参保人员基本医疗保险信息表").click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")
    number = download.value.suggested_filename.removesuffix(".pdf")
    # The address the QR code carries is printed beside it; it leads to the verification page.
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(  # noqa: S603
        [shutil.which("pdftotext") or "pdftotext", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"/verify/{number}/" in text
    page.goto(f"/verify/{number}/")
    expect(page.locator("main")).to_contain_text("有效")
    expect(page.locator(".hash")).to_have_text(hashlib.sha256(pdf).hexdigest())
    screenshot(page, "verify-zh-360")


def test_large_text_stays_on(open_page):
    page = open_page(width=WIDTHS["phone"])
    page.goto("/")
    normal = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    page.click("text=大字模式")
    expect(page.locator("html")).to_have_class("large-text")
    page.goto("/signin/")
    expect(page.locator("html")).to_have_class("large-text")
    larger = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert larger > normal * 1.2
    screenshot(page, "signin-large-zh-360")


def _pages(page: Page, case_materials: TransferCase, case_done: TransferCase, settings) -> Callable:
    """Visit each applicant page in turn, yielding its name once it is shown."""

    def walk():
        page.goto("/")
        yield "home"
        # An open case: a running step with its due date and the expected completion.
        look_up(page, case_materials, suffix(case_materials))
        yield "status"
        page.goto("/no/such/page/")
        yield "not-found"
        sign_in(page, "zhangsan", "pw-zhangsan")
        yield "me"
        page.goto(f"/me/cases/{case_materials.reference}/")
        yield "case-materials"
        page.goto(f"/me/cases/{case_materials.reference}/withdraw/")
        yield "withdraw"
        page.goto(f"/me/cases/{case_done.reference}/")
        yield "case-done"
        with page.expect_download() as download:
            page.locator("a[href$='/documents/insurance-certificate.pdf']").click()
        page.goto(f"/verify/{download.value.suggested_filename.removesuffix('.pdf')}/")
        yield "verify"
        page.goto("/verify/CBP0000000000000000000/")
        yield "verify-unknown"
        page.goto("/signin/")  # signed in: sent on to my cases
        page.click(
            "text=退出登录"
            if "zh" in page.locator("html").get_attribute("lang")
            else "text=Sign out"
        )
        page.goto("/signin/")
        yield "signin"
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "status_lookup": "0/min",
            },
        }
        with page.expect_response(lambda r: r.url.endswith("/status/")) as answer:
            look_up(page, case_materials, suffix(case_materials))
        assert answer.value.status == 429
        yield "throttled"

    return walk


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_page_is_accessible_and_chinese_complete(
    open_page, case_in_state, settings, language, width
):
    # One open case per person and type: the finished one first.
    case_done = case_in_state("balance_moved")
    case_materials = case_in_state("materials_requested")
    page = open_page(width=WIDTHS[width], language=language)
    problems: dict[str, list] = {}
    seen = []
    for name in _pages(page, case_materials, case_done, settings)():
        seen.append(name)
        if page.locator("html").get_attribute("lang") != (
            "zh-Hans" if language == "zh-hans" else "en"
        ):
            problems[name] = ["wrong lang attribute"]
        violations = axe_violations(page)
        if violations:
            problems.setdefault(name, []).extend(violations)
        if language == "zh-hans":
            words = foreign_words(page)
            if words:
                problems.setdefault(name, []).append({"english": sorted(set(words))})
        # The page fits the width: nothing scrolls sideways.
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            problems.setdefault(name, []).append({"overflow_px": overflow})
        screenshot(page, f"{name}-{language}-{WIDTHS[width]}")
    assert seen == [
        "home",
        "status",
        "not-found",
        "me",
        "case-materials",
        "withdraw",
        "case-done",
        "verify",
        "verify-unknown",
        "signin",
        "throttled",
    ]
    assert problems == {}
