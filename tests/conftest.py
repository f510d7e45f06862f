"""Shared fixtures: agencies, named personas, and a case factory that goes through the services.

Personas (as in quality.md R6): two applicants; caseworkers at the transfer-out agency (Shenzhen),
the transfer-in agency (Changsha) and an unrelated one (Beijing); a supervisor at Shenzhen; a
Guangdong provincial platform account.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import Role, User
from agencies.models import Agency
from agencies.services import province_modes_load
from cases.models import TransferCase
from cases.services import Applicant, case_submit, case_transition
from core.identity import id_number_check_char
from workflow.calendar import SHANGHAI, calendar_invalidate

AGENCIES = [
    ("440000", "广东省医疗保障局", "440000", "广东省", "province"),
    ("440300", "深圳市医疗保障局", "440000", "广东省", "prefecture"),
    ("440100", "广州市医疗保障局", "440000", "广东省", "prefecture"),
    ("430100", "长沙市医疗保障局", "430000", "湖南省", "prefecture"),
    ("110000", "北京市医疗保障局", "110000", "北京市", "province"),
]

_serial = itertools.count(1)


def make_id_number(address: str = "440305", birth: str = "19900101", seq: int | None = None) -> str:
    """A valid 18-character ID number; a fresh sequence number each call unless given."""
    seq = seq if seq is not None else next(_serial) % 1000
    first17 = f"{address}{birth}{seq:03d}"
    return first17 + id_number_check_char(first17)


@pytest.fixture(autouse=True, scope="session")
def _the_database_asked_for(django_db_setup: Any, django_db_blocker: Any) -> None:
    """`make test` says which database each pass must run on (EXPECT_DB_VENDOR): a pass meant for
    SQLite that silently ran on PostgreSQL (or the reverse) would test the wrong code paths."""
    expected = os.environ.get("EXPECT_DB_VENDOR")
    if expected:
        from django.db import connection

        assert connection.vendor == expected, f"tests ran on {connection.vendor}, not {expected}"


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> None:
    """Throttle counters live in Redis under ``THROTTLE_KEY_PREFIX`` (make test makes it unique per
    run): each test starts with none, and nothing else in that Redis database is touched."""
    from django.core.cache import caches

    from core.throttling import COUNTERS

    COUNTERS.forget_leases()
    shared = caches["throttle"]
    if hasattr(shared, "delete_pattern"):
        shared.delete_pattern("*")
    else:
        shared.clear()
    caches["throttle_fallback"].clear()


@pytest.fixture(autouse=True)
def _own_media_root(tmp_path: Any, settings: Any) -> Any:
    """Each test stores attachments under its own folder (never the project's var/media)."""
    from django.core.files.storage import storages

    settings.MEDIA_ROOT = tmp_path / "media"
    storages._storages = {}  # the default storage reads MEDIA_ROOT when first used
    yield
    storages._storages = {}


@pytest.fixture(scope="session")
def _pki_dir(tmp_path_factory: Any) -> Any:
    # One development CA and agency keys for the whole run: RSA keys take a while to make.
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(autouse=True)
def _own_pki(_pki_dir: Any, settings: Any) -> None:
    """Documents are signed by a development CA of the test run's own (never var/pki)."""
    settings.DOCUMENT_PKI_DIR = _pki_dir
    settings.DOCUMENT_DEV_PKI = True


@pytest.fixture(autouse=True)
def _fresh_calendar_cache() -> None:
    # The working-day calendar is cached per process; each test starts from its own database.
    calendar_invalidate()


@pytest.fixture
def calendar_2026(db: Any) -> None:
    """The official 2026 schedule (chinesecalendar): 2027 and later are provisional."""
    from workflow.calendar_data import calendar_sync_year

    calendar_sync_year(year=2026)
    calendar_invalidate()


@pytest.fixture
def agencies(db: Any) -> dict[str, Agency]:
    for code, name, pcode, pname, level in AGENCIES:
        Agency.objects.update_or_create(
            code=code,
            defaults={"name": name, "province_code": pcode, "province_name": pname, "level": level},
        )
    return {a.code: a for a in Agency.objects.all()}


def _user(username: str, role: str, **extra: Any) -> User:
    id_number = extra.pop("id_number", None)
    user = User(username=username, role=role, **extra)
    if id_number:
        user.set_id_number(id_number)
    user.set_password("pw-" + username)
    user.save()
    return user


@pytest.fixture
def personas(agencies: dict[str, Agency]) -> dict[str, User]:
    return {
        "applicant": _user(
            "zhangsan",
            Role.APPLICANT,
            real_name="张三",
            id_number=make_id_number("440305", "19880512", 123),
            phone="13812345678",
        ),
        "other_applicant": _user(
            "lisi",
            Role.APPLICANT,
            real_name="李四",
            id_number=make_id_number("430102", "19920303", 456),
        ),
        "cw_out": _user("sz_cw", Role.CASEWORKER, agency_id="440300", is_staff=True),
        "cw_in": _user("cs_cw", Role.CASEWORKER, agency_id="430100", is_staff=True),
        "cw_other": _user("bj_cw", Role.CASEWORKER, agency_id="110000", is_staff=True),
        "supervisor": _user("sz_sup", Role.SUPERVISOR, agency_id="440300", is_staff=True),
        "platform": _user("gd_platform", Role.PLATFORM, agency_id="440000", province_wide=True),
    }


@pytest.fixture
def submit_case(personas: dict[str, User]) -> Callable[..., TransferCase]:
    """Submit a case through ``case_submit``; by default the applicant persona applies for a move
    from Shenzhen (440300) to Changsha (430100) on 2026-11-23 09:00 Asia/Shanghai."""

    def make(**overrides: Any) -> TransferCase:
        actor = overrides.pop("actor", personas["applicant"])
        fields: dict[str, Any] = {
            "insurance_type": "employee",
            "from_agency": "440300",
            "to_agency": "430100",
            "channel": "app",
            "stopped_at_source_on": dt.date(2026, 10, 31),
            "enrolled_at_target_on": dt.date(2026, 11, 1),
            "now": dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI),
        }
        if actor.role != Role.APPLICANT:
            fields["channel"] = "window"
            fields["applicant"] = Applicant(
                name="王五", id_number=make_id_number("440306", "19850101"), phone="13900001111"
            )
        fields.update(overrides)
        return case_submit(actor=actor, **fields)

    return make


STATE_PATHS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "applied": [],
    "materials_requested": [("request_materials", "cw_out", {"missing_materials": ["离职证明"]})],
    "transfer_out_approved": [
        (
            "approve_transfer_out",
            "cw_out",
            {"contribution_months": 60, "personal_account_balance": "1234.56"},
        )
    ],
    "transfer_in_confirmed": [
        (
            "approve_transfer_out",
            "cw_out",
            {"contribution_months": 60, "personal_account_balance": "1234.56"},
        ),
        ("confirm_transfer_in", "cw_in", {}),
    ],
    "balance_moved": [
        (
            "approve_transfer_out",
            "cw_out",
            {"contribution_months": 60, "personal_account_balance": "1234.56"},
        ),
        ("confirm_transfer_in", "cw_in", {}),
        ("move_balance", "cw_in", {"amount": "1234.56"}),
    ],
    "rejected": [("reject", "cw_out", {"reason_code": "arrears"})],
    "withdrawn": [("withdraw", "applicant", {})],
}


@pytest.fixture
def case_in_state(
    personas: dict[str, User], submit_case: Callable[..., TransferCase]
) -> Callable[[str], TransferCase]:
    """A case of the applicant persona brought to ``state`` through the services."""

    def make(state: str, **submit_overrides: Any) -> TransferCase:
        case = submit_case(**submit_overrides)
        at = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
        for action, who, payload in STATE_PATHS[state]:
            case = case_transition(
                case=case, action=action, actor=personas[who], payload=payload, now=at
            )
            at += dt.timedelta(days=1)
        assert case.state == state
        return case

    return make


@pytest.fixture
def hunan(agencies, personas, calendar_2026):
    """Hunan in instant mode from 2025-07-10 (as ``load_agencies`` ships it), Zhuzhou beside
    Changsha, and the people of both."""
    Agency.objects.create(
        code="430000",
        name="湖南省医疗保障局",
        province_code="430000",
        province_name="湖南省",
        level="province",
    )
    Agency.objects.create(
        code="430200",
        name="株洲市医疗保障局",
        province_code="430000",
        province_name="湖南省",
        level="prefecture",
    )
    assert province_modes_load() >= 1
    return {
        "zz_cw": _user("zz_cw", Role.CASEWORKER, agency_id="430200", is_staff=True),
        "zz_sup": _user("zz_sup", Role.SUPERVISOR, agency_id="430200", real_name="周主管"),
        "cs_sup": _user("cs_sup", Role.SUPERVISOR, agency_id="430100", real_name="陈主管"),
        "hn_platform": _user("hn_platform", Role.PLATFORM, agency_id="430000", province_wide=True),
    }


def submit_instant(
    actor: User, sequence: int, *, balance: str, at: dt.datetime, interest: str = "0"
):
    """An instant-mode case Changsha -> Zhuzhou (needs the ``hunan`` fixture) for person number
    ``sequence``, completed at ``at`` with ``balance`` (+ ``interest``) credited first."""
    return case_submit(
        actor=actor,
        insurance_type="employee",
        from_agency="430100",
        to_agency="430200",
        channel="window",
        applicant=Applicant(name="赵六", id_number=make_id_number("430102", "19900202", sequence)),
        stopped_at_source_on=dt.date(2026, 10, 31),
        enrolled_at_target_on=dt.date(2026, 11, 1),
        contribution_months=60,
        personal_account_balance=balance,
        interest=interest,
        now=at,
    )
