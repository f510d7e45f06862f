"""The page checks catch what they look for: a page with an unlabelled image and button, low
contrast and an English word must fail them (else a clean result would mean nothing)."""

from __future__ import annotations

from tests.browser.conftest import axe_violations, foreign_words

BAD_PAGE = """<!doctype html><html lang="zh-Hans"><head><title>测试</title></head><body>
<main><h1>办理进度</h1><img src="/x.png"><button></button>
<p style="color:#ccc;background:#fff">浅色文字</p><p>请点击 Submit 提交 approve_transfer_out</p>
<p lang="en">Marked as English: not a finding</p><p>业务编号 YB2026112300042，PDF 文件</p></main>
</body></html>"""


def test_axe_and_the_chinese_walk_find_the_faults_of_a_bad_page(browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(BAD_PAGE)
        found = {v["id"] for v in axe_violations(page)}
        assert {"image-alt", "button-name", "color-contrast"} <= found
        assert foreign_words(page) == ["Submit", "approve_transfer_out"]
    finally:
        context.close()
