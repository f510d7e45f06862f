"""The admin in zh-Hans, as case staff see it (issue 12 item 4): no English word or raw code on any
page a caseworker or a supervisor opens — field labels, filters, the timeline, the rule audit,
yes/no icons, Django's own hidden headers."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from agencies.models import AgencyRule
from agencies.rules import agency_rule_save
from documents.services import document_issue
from tests.browser.conftest import foreign_words, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def admin_sign_in(page, username: str, password: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


@pytest.mark.parametrize("persona", ["cw_out", "supervisor"])
def test_the_admin_pages_of_case_staff_are_chinese_throughout(
    open_page, personas, case_in_state, persona
):
    approved = case_in_state("transfer_out_approved")
    # pyHanko signs through asyncio.run(): not in this thread, where Playwright's loop runs.
    issuing = threading.Thread(
        target=document_issue,
        kwargs={"case": approved, "kind": "information-form", "now": dt.datetime.now(dt.UTC)},
    )
    issuing.start()
    issuing.join()
    applied = case_in_state("applied", insurance_type="resident")
    agency_rule_save(
        rule=AgencyRule(agency_id="440300", effective_from=dt.date(2026, 1, 1), max_age_male=50),
        actor=None,
        now=dt.datetime(2026, 11, 24, tzinfo=dt.UTC),
        seed=True,
    )
    user = personas[persona]
    page = open_page(width=1440)
    admin_sign_in(page, user.username, f"pw-{user.username}")
    pages = [
        "/admin/",
        "/admin/cases/transfercase/",
        f"/admin/cases/transfercase/{approved.pk}/change/",
        f"/admin/cases/transfercase/{applied.pk}/change/",
        f"/admin/cases/transfercase/{applied.pk}/transition/approve_transfer_out/",
        f"/admin/cases/transfercase/{applied.pk}/transition/request_materials/",
        f"/admin/cases/transfercase/{applied.pk}/transition/reject/",
        "/admin/agencies/agency/",
        "/admin/agencies/agencyrule/",
        "/admin/agencies/agencyrulechange/",
        "/admin/agencies/provincemode/",
        "/admin/documents/issueddocument/",
        "/admin/password_change/",
    ]
    if persona == "supervisor":
        pages.append("/admin/cases/settlementstatement/")
    found = {}
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        if path.endswith(f"/{approved.pk}/change/"):
            # The case admin's style sheet is a file the Content-Security-Policy lets in: the
            # read-only inlines' per-row object titles are hidden by it.
            titles = page.locator(".inline-group td.original p")
            assert titles.count() > 0
            assert not titles.first.is_visible()
        # The signed-in account's own name is what they typed to sign in, not a label.
        words = [w for w in foreign_words(page) if w != user.username]
        if words:
            found[path] = sorted(set(words))
    screenshot(page, f"admin-{persona}-zh-1440")
    assert found == {}


def test_the_admin_pages_of_administrators_are_chinese_throughout(
    open_page, personas, case_in_state, live_server
):
    """Every list, add and change page an administrator opens: accounts, agencies, rules, the
    calendar, the outbox, sign-in protection, tokens. Data the pages list (account names, the
    calendar's provenance, browsers' identification, marked as code) is not a label."""
    from accounts.models import Role, User
    from notifications.models import Notification
    from workflow.calendar_data import calendar_sync_year

    calendar_sync_year(year=2026)
    case_in_state("transfer_in_confirmed")  # leaves notifications in the outbox
    assert Notification.objects.exists()
    User.objects.create_user(
        "root", password="pw-root", role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    page = open_page(width=1440)
    # A failed sign-in first, so the sign-in protection's pages have rows.
    page.goto("/signin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "wrong")
    page.click("main button[type=submit]")
    admin_sign_in(page, "root", "pw-root")
    page.goto("/admin/")
    lists = sorted(
        set(
            page.eval_on_selector_all(
                "#content-main a[href^='/admin/']", "els => els.map(e => e.getAttribute('href'))"
            )
        )
    )
    lists = [p for p in lists if p.count("/") == 4 and not p.endswith("add/")]
    assert "/admin/accounts/user/" in lists
    assert "/admin/auth/group/" not in lists  # roles, not groups
    pages = ["/admin/"]
    for path in lists:
        pages.append(path)
        page.goto(path)
        first = page.query_selector("#result_list tbody th a")
        if first is not None:
            pages.append(first.get_attribute("href"))
        if page.query_selector(".object-tools a.addlink") is not None:
            pages.append(path + "add/")
    data = {u.username for u in User.objects.all()} | {"chinesecalendar", "IP"}
    found = {}
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        words = [w for w in foreign_words(page) if w not in data and not w.startswith("demo_")]
        if words:
            found[path] = sorted(set(words))
    screenshot(page, "admin-administrator-zh-1440")
    assert len(pages) > 20
    assert found == {}
