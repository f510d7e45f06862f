"""Browser tests (faces.md "Testing the faces"): Debian's Chromium, headless, driven by Playwright
for Python with ``executable_path`` (no browser download), against pytest-django's live server on
the test database. `make test` installs Chromium, a Chinese font and axe-core (package-lock.json)
when they are missing. Screenshots go to ``var/test-artifacts/screenshots/`` (README), or
``SCREENSHOT_DIR``."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# page actions are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "var" / "test-artifacts" / "screenshots")
# As the machine's own probe starts it: no background connections a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = {"phone": 360, "desktop": 1440}


def chromium_path() -> str:
    path = os.environ.get("YIBAO_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("no Chromium: `make test` installs Debian's chromium (as root)")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(
    browser: Browser, live_server: Any, transactional_db: Any
) -> Iterator[Callable[..., Page]]:
    """A new page in its own context (cookies, language) at a width: ``open_page(width=360,
    language="zh-hans")``. Pages are closed after the test."""
    contexts = []

    def make(*, width: int = 1440, language: str = "zh-hans") -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            locale="zh-CN" if language == "zh-hans" else "en-US",
            base_url=live_server.url,
        )
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/signin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/me/$"))


def screenshot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of WCAG 2.1 A and AA on the page as it is.
    Run through the DevTools protocol, which the page's CSP does not govern."""
    if not AXE.exists():
        pytest.fail(f"no {AXE}: `make test` runs npm ci (package-lock.json pins axe-core)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# Words a zh-Hans page may hold in Latin letters: the case reference's prefix, file formats, units.
# ... and document numbers (XXB, CBP, LXH + digits) and "SHA-256".
# ... and the national platform's own name, "国家医保服务平台 App"; the exports' file formats.
ALLOWED_LATIN = {
    *("YB", "PDF", "JPEG", "PNG", "MB", "X", "XXB", "CBP", "LXH", "SHA", "APP", "CSV", "XLSX"),
    # A settlement statement's number (清算单号: QS, the month, the two funds), as YB a case's.
    "QS",
}
_TEXTS_JS = """() => {
  const out = [];
  const skip = (el) => el.closest('[lang]:not([lang^="zh"])') || el.closest('script, style');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || skip(el)) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    if (node.textContent.trim()) out.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [alt]')) {
    if (skip(el)) continue;
    for (const a of ['title', 'aria-label', 'placeholder', 'alt']) {
      if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
  }
  out.push(document.title);
  return out;
}"""


def foreign_words(page: Page) -> list[str]:
    """Latin-letter words (an English label, a raw code such as approve_transfer_out) on a zh-Hans
    page, outside the allowed ones and outside anything marked as another language."""
    words: list[str] = []
    for text in page.evaluate(_TEXTS_JS):
        for word in re.findall(r"[A-Za-z_][A-Za-z_]+|[A-Za-z]", text):
            if word.upper() not in ALLOWED_LATIN and not re.fullmatch(r"(YB|QS)\d+", word):
                words.append(word)
    return words
