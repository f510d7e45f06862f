"""The demo data set: agencies, calendar, accounts and cases in every state, for trying the system.

Everything is built through the services a real deployment uses (``agencies_load``,
``calendar_sync``, ``account_create``, ``case_submit``, ``case_transition``), with ``now`` set in
the past, so the cases carry real stage clocks and audit trails: some current stages are overdue
today, some fall due in a day or two.

Running it again adds nothing: accounts have fixed usernames, demo people have fixed ID numbers,
and a case is skipped when its person already has one for the same insurance type and agencies.
The ID numbers are valid (GB 11643-1999 check characters) but invented.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from django.db import transaction
from django.utils import timezone
from PIL import Image

from accounts.models import Role, User
from accounts.services import account_create
from agencies.models import AgencyRule
from agencies.rules import agency_rule_save
from agencies.services import AgencyLoadResult, agencies_load
from cases.models import TransferCase
from cases.services import Applicant, case_submit, case_transition
from cases.services.attachments import attachment_add
from cases.services.settlement import settlement_statements_draw_due
from cases.states import Action, CaseKind, CaseState, Channel, InsuranceType, RejectReason
from core.errors import InvalidInput
from core.identity import id_number_check_char, id_number_digest
from workflow.calendar import SHANGHAI, get_calendar, local_date
from workflow.calendar_data import calendar_sync
from workflow.models import StageClock

# One shared password for the demo accounts: fine on a laptop, never on a reachable server.
DEMO_PASSWORD: Final = "demo-pass-2026"  # noqa: S105 - published on purpose, local demos only
CASES_PER_STATE: Final = 12

# The caseworker who acts for each agency in the demo. Agencies outside this map take part only in
# steps that are someone else's (a case waiting for Beijing stays waiting).
CASEWORKERS: Final = {
    "440300": "sz_caseworker",
    "430100": "cs_caseworker",
    "440100": "gz_caseworker",
    "430200": "zz_caseworker",
}
PLATFORM: Final = "gd_platform"
# Hunan's provincial platform: its transfers within the province are instant (免申转 included).
HUNAN_PLATFORM: Final = "hn_platform"


class DemoConflict(Exception):
    """A demo username is taken by an account that is not the demo's; nothing was loaded."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    agency_code: str = ""
    province_wide: bool = False
    name: str = ""
    id_number: str = ""
    phone: str = ""
    # Background applicants exist to own the cases they filed; they cannot sign in.
    can_sign_in: bool = True


@dataclass(frozen=True, slots=True)
class _Person:
    name: str
    id_number: str
    phone: str
    username: str = ""


def demo_id_number(address: str, birth: dt.date, sequence: int) -> str:
    """A valid ID number: address code, birth date, 3-digit sequence (odd = male), check character."""
    first17 = f"{address}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_number_check_char(first17)


SZ_APPLICANT: Final = _Person(
    name="李明",
    id_number=demo_id_number("440305", dt.date(1988, 4, 12), 315),
    phone="13800138001",
    username="sz_applicant",
)
CS_APPLICANT: Final = _Person(
    name="王芳",
    id_number=demo_id_number("430102", dt.date(1993, 9, 5), 228),
    phone="13900139002",
    username="cs_applicant",
)

ACCOUNTS: Final = (
    DemoAccount("admin", Role.ADMIN),
    DemoAccount("sz_caseworker", Role.CASEWORKER, "440300", name="陈晓"),
    DemoAccount("sz_supervisor", Role.SUPERVISOR, "440300", name="林涛"),
    DemoAccount("gz_caseworker", Role.CASEWORKER, "440100", name="何静"),
    DemoAccount("cs_caseworker", Role.CASEWORKER, "430100", name="刘洋"),
    DemoAccount("cs_supervisor", Role.SUPERVISOR, "430100", name="周敏"),
    DemoAccount("zz_caseworker", Role.CASEWORKER, "430200", name="谭军"),
    DemoAccount(PLATFORM, Role.PLATFORM, "440000", province_wide=True),
    DemoAccount(HUNAN_PLATFORM, Role.PLATFORM, "430000", province_wide=True),
    *(
        DemoAccount(p.username, Role.APPLICANT, name=p.name, id_number=p.id_number, phone=p.phone)
        for p in (SZ_APPLICANT, CS_APPLICANT)
    ),
)

# --- the background people --------------------------------------------------------------------

_ADDRESSES: Final = (
    "440305",
    "440304",
    "440106",
    "440104",
    "430102",
    "430104",
    "430202",
    "110105",
    "310104",
    "500103",
    "360102",
    "420106",
    "450103",
    "510107",
)
_SURNAMES: Final = "张王李赵陈刘杨黄周吴徐孙胡朱高林何郭马罗"
_MALE_NAMES: Final = ("伟", "强", "磊", "军", "勇", "杰", "涛", "超", "浩", "鹏", "建国", "志明")
_FEMALE_NAMES: Final = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "婷", "雪", "秀英", "晓燕")
_BIRTH_FROM: Final = dt.date(1980, 1, 1)


def _background_person(key: int) -> _Person:
    """Demo person number ``key`` (1..999): born 1980-1999, a fixed name, ID number and phone."""
    sequence = 100 + key * 7 % 900
    birth = _BIRTH_FROM + dt.timedelta(days=key * 2711 % 7300)
    given = _MALE_NAMES if sequence % 2 else _FEMALE_NAMES
    return _Person(
        name=_SURNAMES[key % len(_SURNAMES)] + given[key * 5 % len(given)],
        id_number=demo_id_number(_ADDRESSES[key % len(_ADDRESSES)], birth, sequence),
        phone=f"1{3 + key % 6}{(key * 7919 + 12345678) % 10**9:09d}",
    )


# --- the cases ------------------------------------------------------------------------------------

FROM, TO, APPLICANT = "from", "to", "applicant"


@dataclass(frozen=True, slots=True)
class _Step:
    action: str
    by: str  # FROM / TO: that agency's caseworker; APPLICANT: the person's account
    after: int  # working days after the previous event


@dataclass(frozen=True, slots=True)
class _Scenario:
    key: int
    person: _Person
    insurance_type: str
    from_agency: str
    to_agency: str
    channel: str
    submitter: str  # a username, or APPLICANT
    steps: tuple[_Step, ...]
    age: int  # working days from the last event to today (at least 1, so it is in the past)
    target_insurance_type: str | None = None  # a cross-type move when it differs
    overlap_days: int = 0  # enrolled at the target this many days before the stop at source
    # Materials the applicant's side uploads before each resubmission (a PDF, then a photo).
    attachments: tuple[str, ...] = ()
    kind: str = CaseKind.TRANSFER
    # Instant mode: the information form's figures the provincial system sends with it.
    figures: tuple[tuple[str, str], ...] = ()


def _steps(*steps: tuple[str, str, int]) -> tuple[_Step, ...]:
    return tuple(_Step(*step) for step in steps)


# Ways to reach each state; scenarios take them in turn. Some steps come later than their window
# allows (approve after 13 working days), so the statistics show late completions too.
_RECIPES: Final[dict[str, tuple[tuple[_Step, ...], ...]]] = {
    CaseState.APPLIED: (
        (),
        _steps((Action.REQUEST_MATERIALS, FROM, 2), (Action.RESUBMIT_MATERIALS, APPLICANT, 3)),
    ),
    CaseState.MATERIALS_REQUESTED: (
        _steps((Action.REQUEST_MATERIALS, FROM, 3)),
        _steps((Action.REQUEST_MATERIALS, FROM, 8)),
    ),
    CaseState.TRANSFER_OUT_APPROVED: (
        _steps((Action.APPROVE_TRANSFER_OUT, FROM, 4)),
        _steps((Action.APPROVE_TRANSFER_OUT, FROM, 13)),
    ),
    CaseState.TRANSFER_IN_CONFIRMED: (
        _steps((Action.APPROVE_TRANSFER_OUT, FROM, 6), (Action.CONFIRM_TRANSFER_IN, TO, 3)),
    ),
    CaseState.BALANCE_MOVED: (
        _steps(
            (Action.APPROVE_TRANSFER_OUT, FROM, 5),
            (Action.CONFIRM_TRANSFER_IN, TO, 2),
            (Action.MOVE_BALANCE, TO, 3),
        ),
        _steps(
            (Action.APPROVE_TRANSFER_OUT, FROM, 9),
            (Action.CONFIRM_TRANSFER_IN, TO, 7),
            (Action.MOVE_BALANCE, TO, 2),
        ),
    ),
    CaseState.REJECTED: (
        _steps((Action.REJECT, FROM, 5)),
        _steps((Action.APPROVE_TRANSFER_OUT, FROM, 7), (Action.REJECT, TO, 2)),
    ),
    CaseState.WITHDRAWN: (
        _steps((Action.WITHDRAW, APPLICANT, 2)),
        _steps((Action.REQUEST_MATERIALS, FROM, 3), (Action.WITHDRAW, APPLICANT, 4)),
    ),
}

# Working days since the last event, one per scenario of the state. For open states they straddle
# the window (10 working days to transfer out, 5 to transfer in and to credit the balance): due in
# a day or two, due today, a day late, weeks late.
_AGES: Final[dict[str, tuple[int, ...]]] = {
    CaseState.APPLIED: (1, 3, 6, 8, 9, 10, 11, 13, 16, 20, 4, 25),
    CaseState.MATERIALS_REQUESTED: (1, 2, 4, 6, 8, 10, 12, 15, 3, 5, 7, 20),
    CaseState.TRANSFER_OUT_APPROVED: (1, 2, 3, 4, 5, 6, 7, 9, 12, 2, 4, 15),
    CaseState.TRANSFER_IN_CONFIRMED: (1, 2, 3, 4, 4, 5, 6, 8, 10, 3, 1, 12),
}

# Agency pairs, inter- and intra-province (within Guangdong: within Hunan a transfer completes at
# once, see ``_instant_scenarios``). Beijing, Shanghai and Chongqing have no demo staff, so
# only cases that never need their move go there.
_PAIRS: Final = (
    ("440300", "430100"),  # 深圳 -> 长沙
    ("430100", "440300"),  # 长沙 -> 深圳
    ("440100", "440300"),  # 广州 -> 深圳
    ("440300", "440100"),  # 深圳 -> 广州
    ("440100", "430100"),  # 广州 -> 长沙
    ("430200", "440100"),  # 株洲 -> 广州
    ("110000", "440300"),  # 北京 -> 深圳
    ("440300", "310000"),  # 深圳 -> 上海
    ("430100", "500000"),  # 长沙 -> 重庆
)

_MISSING: Final = (["离职证明"], ["参保凭证", "医保电子凭证截图"], ["身份证复印件（正反面）"])
_REJECT_REASONS: Final = (
    (RejectReason.NOT_STOPPED_AT_SOURCE, "转出地仍为在职参保状态，请先办理停保。"),
    (RejectReason.ARREARS, "2026年8月至9月单位缴费未到账。"),
    (RejectReason.NOT_ENROLLED_AT_TARGET, "转入地未查询到正常参保记录。"),
    (RejectReason.DUPLICATE_ENROLMENT, "两地同时参保，请先保留一方参保关系。"),
    (RejectReason.OTHER, "申请人信息与参保登记信息不一致。"),
)
_WITHDRAW_NOTES: Final = ("已回原单位工作，不再转移。", "信息填写有误，重新申请。")
_SELF_CHANNELS: Final = (Channel.APP, Channel.WECHAT, Channel.ALIPAY)


def _feasible(pair: tuple[str, str], steps: tuple[_Step, ...]) -> bool:
    """Whether the demo has a caseworker for every agency move of ``steps``."""
    src, dst = pair
    return all(
        step.by == APPLICANT or CASEWORKERS.get(src if step.by == FROM else dst) for step in steps
    )


def _generated_scenarios() -> Iterator[_Scenario]:
    """``CASES_PER_STATE`` cases for every state, spread over pairs, types and channels."""
    for state_index, state in enumerate(CaseState.values):
        recipes = _RECIPES[state]
        for i in range(CASES_PER_STATE):
            key = 1 + state_index * CASES_PER_STATE + i
            steps = recipes[i % len(recipes)]
            pairs = [pair for pair in _PAIRS if _feasible(pair, steps)]
            src, dst = pairs[(i + state_index) % len(pairs)]
            resident = i % 3 == 2 and state != CaseState.TRANSFER_IN_CONFIRMED
            if resident:
                # No personal account: confirming the transfer in completes the case.
                steps = tuple(s for s in steps if s.action != Action.MOVE_BALANCE)
            person = _background_person(key)
            mode = i % 4
            if mode == 1 or (mode == 2 and "44" not in (src[:2], dst[:2])):
                channel, submitter = _SELF_CHANNELS[key % 3], APPLICANT
            elif mode == 2:
                channel, submitter = Channel.PROVINCIAL_APP, PLATFORM
            else:
                # At a window: the transfer-out side's (mode 0) or the transfer-in side's (mode 3).
                sides = (src, dst) if mode == 0 else (dst, src)
                desk = next(code for code in sides if code in CASEWORKERS)
                channel, submitter = Channel.WINDOW, CASEWORKERS[desk]
            needs_account = submitter == APPLICANT or any(
                s.action == Action.WITHDRAW for s in steps
            )
            if needs_account:
                person = _Person(
                    person.name, person.id_number, person.phone, username=f"demo_person_{key:02d}"
                )
            yield _Scenario(
                key=key,
                person=person,
                insurance_type=InsuranceType.RESIDENT if resident else InsuranceType.EMPLOYEE,
                from_agency=src,
                to_agency=dst,
                channel=channel,
                submitter=submitter,
                steps=steps,
                age=_AGES[state][i] if state in _AGES else 2 + 3 * i,
            )


def _featured_scenarios() -> tuple[_Scenario, ...]:
    """The two demo applicants' own cases: something to withdraw and something to resubmit."""
    return (
        _Scenario(
            key=901,
            person=SZ_APPLICANT,
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="440300",
            to_agency="440100",
            channel=Channel.APP,
            submitter=APPLICANT,
            steps=_steps((Action.WITHDRAW, APPLICANT, 2)),
            age=40,
        ),
        _Scenario(
            key=902,
            person=SZ_APPLICANT,
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="440300",
            to_agency="430100",
            channel=Channel.APP,
            submitter=APPLICANT,
            steps=(),
            age=3,
        ),
        _Scenario(
            key=903,
            person=CS_APPLICANT,
            insurance_type=InsuranceType.RESIDENT,
            from_agency="430200",
            to_agency="440100",
            channel=Channel.WINDOW,
            submitter="zz_caseworker",
            steps=_steps(
                (Action.APPROVE_TRANSFER_OUT, FROM, 4), (Action.CONFIRM_TRANSFER_IN, TO, 2)
            ),
            age=30,
        ),
        _Scenario(
            key=904,
            person=CS_APPLICANT,
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="430100",
            to_agency="440300",
            channel=Channel.APP,
            submitter=APPLICANT,
            steps=_steps((Action.REQUEST_MATERIALS, FROM, 4)),
            age=2,
        ),
    )


# A local rule to look at (GET /api/v1/agencies/430100/rules/): invented for the demo, loose
# enough that every demo person passes it.
DEMO_RULE: Final = {
    "agency_id": "430100",
    "effective_from": dt.date(2026, 1, 1),
    "max_age_male": 55,
    "max_age_female": 50,
    "basis": "演示数据，非真实规定",
}

# People of the featured cases of the rules (issue 9): not accounts, their cases filed at windows.
RULE_PEOPLE: Final = {
    905: _Person("孙丽", "", "13700009051"),
    906: _Person("郭涛", "", "13700009061"),
    907: _Person("马超", "", "13700009071"),
}


def _rules_scenarios() -> tuple[_Scenario, ...]:
    """One case for each rule the demo should show: a move into resident insurance whose balance
    is paid out, materials asked for a second time (with the reason), a duplicate enrolment."""
    people = {
        key: _Person(
            person.name, demo_id_number("440305", dt.date(1985, 3, key % 28 + 1), key), person.phone
        )
        for key, person in RULE_PEOPLE.items()
    }
    return (
        _Scenario(
            key=905,
            person=people[905],
            insurance_type=InsuranceType.EMPLOYEE,
            target_insurance_type=InsuranceType.RESIDENT,
            from_agency="440300",
            to_agency="430100",
            channel=Channel.WINDOW,
            submitter="sz_caseworker",
            steps=_steps(
                (Action.APPROVE_TRANSFER_OUT, FROM, 3),
                (Action.CONFIRM_TRANSFER_IN, TO, 2),
                (Action.PAY_OUT_BALANCE, TO, 2),
            ),
            age=4,
        ),
        _Scenario(
            key=906,
            person=people[906],
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="440300",
            to_agency="440100",
            channel=Channel.WINDOW,
            submitter="sz_caseworker",
            steps=_steps(
                (Action.REQUEST_MATERIALS, FROM, 2),
                (Action.RESUBMIT_MATERIALS, APPLICANT, 2),
                (Action.REQUEST_MATERIALS, FROM, 2),
            ),
            age=2,
            attachments=("离职证明", "参保缴费凭证（照片）"),
        ),
        _Scenario(
            key=907,
            person=people[907],
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="430100",
            to_agency="440300",
            channel=Channel.WINDOW,
            submitter="cs_caseworker",
            steps=(),
            age=3,
            overlap_days=45,
        ),
    )


def _merge_scenarios() -> tuple[_Scenario, ...]:
    """Merge cases (one person insured at two places at once) in several states: the cancelling
    agency is ``from_agency``, the keeping one ``to_agency``."""
    people = {
        key: _Person(name, demo_id_number("440304", dt.date(1987, 6, key % 28 + 1), key), phone)
        for key, name, phone in (
            (911, "黄磊", "13700009111"),
            (912, "吴娟", "13700009121"),
            (913, "徐强", "13700009131"),
            (914, "朱婷", "13700009141"),
        )
    }
    approve = (Action.APPROVE_TRANSFER_OUT, FROM, 3)
    return (
        _Scenario(
            key=911,
            person=people[911],
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="440100",
            to_agency="440300",
            channel=Channel.WINDOW,
            submitter="sz_caseworker",
            steps=(),
            age=4,
            kind=CaseKind.MERGE,
        ),
        _Scenario(
            key=912,
            person=people[912],
            insurance_type=InsuranceType.RESIDENT,
            target_insurance_type=InsuranceType.EMPLOYEE,
            from_agency="430100",
            to_agency="440300",
            channel=Channel.WINDOW,
            submitter="sz_caseworker",
            steps=_steps(approve),
            age=2,
            kind=CaseKind.MERGE,
        ),
        _Scenario(
            key=913,
            person=people[913],
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="440300",
            to_agency="430100",
            channel=Channel.WINDOW,
            submitter="cs_caseworker",
            steps=_steps(
                approve, (Action.CONFIRM_TRANSFER_IN, TO, 2), (Action.MOVE_BALANCE, TO, 1)
            ),
            age=6,
            kind=CaseKind.MERGE,
        ),
        _Scenario(
            key=914,
            person=people[914],
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="440300",
            to_agency="440100",
            channel=Channel.WINDOW,
            submitter="gz_caseworker",
            steps=_steps(approve, (Action.CONFIRM_TRANSFER_IN, TO, 2)),
            age=1,
            kind=CaseKind.MERGE,
        ),
    )


def _instant_scenarios() -> tuple[_Scenario, ...]:
    """Hunan's instant mode (即时办结, 先划转后清算): transfers within the province complete at
    submission, one started by the provincial platform (免申转); the older ones fall in last
    month, so a settlement statement is drawn up for them."""
    people = {
        key: _Person(name, demo_id_number("430104", dt.date(1991, 2, key % 28 + 1), key), phone)
        for key, name, phone in (
            (921, "罗杰", "13700009211"),
            (922, "杨雪", "13700009221"),
            (923, "胡鹏", "13700009231"),
        )
    }
    figures = (("contribution_months", "84"), ("personal_account_balance", "4321.09"))
    return (
        _Scenario(
            key=921,
            person=people[921],
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="430200",
            to_agency="430100",
            channel=Channel.WINDOW,
            submitter="cs_caseworker",
            steps=(),
            age=28,
            figures=figures,
        ),
        _Scenario(
            key=922,
            person=people[922],
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="430200",
            to_agency="430100",
            channel=Channel.AUTO,
            submitter=HUNAN_PLATFORM,
            steps=(),
            age=30,
            figures=(
                ("contribution_months", "150"),
                ("personal_account_balance", "12800.00"),
                ("interest", "44.80"),
            ),
        ),
        _Scenario(
            key=923,
            person=people[923],
            insurance_type=InsuranceType.EMPLOYEE,
            from_agency="430200",
            to_agency="430100",
            channel=Channel.AUTO,
            submitter=HUNAN_PLATFORM,
            steps=(),
            age=1,
            figures=(("contribution_months", "40"), ("personal_account_balance", "960.50")),
        ),
    )


def demo_scenarios() -> tuple[_Scenario, ...]:
    return (
        *_featured_scenarios(),
        *_rules_scenarios(),
        *_merge_scenarios(),
        *_instant_scenarios(),
        *_generated_scenarios(),
    )


# --- building -------------------------------------------------------------------------------------


@dataclass(slots=True)
class DemoResult:
    agencies: AgencyLoadResult
    calendar_days: dict[int, int]
    accounts_created: list[str] = field(default_factory=list)
    accounts_kept: list[str] = field(default_factory=list)
    background_accounts: int = 0
    cases_created: int = 0
    cases_existing: int = 0
    # Cases not created because their person already has another open case of the type.
    cases_blocked: int = 0
    # Case references worth trying, by what they show.
    examples: dict[str, str] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)
    open_overdue: int = 0
    open_due_soon: int = 0
    statements: int = 0


def _workdays_back(today: dt.date, n: int) -> dt.date:
    """The working day ``n`` working days before ``today`` (today itself not counted)."""
    calendar = get_calendar()
    day = today
    while n > 0:
        day -= dt.timedelta(days=1)
        if calendar.is_workday(day):
            n -= 1
    return day


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def _payload(scenario: _Scenario, step: _Step, case: TransferCase) -> dict[str, Any]:
    key = scenario.key
    if step.action == Action.APPROVE_TRANSFER_OUT:
        balance = Decimal("0.00")
        if scenario.insurance_type == InsuranceType.EMPLOYEE:
            balance = Decimal(800 + key * 7919 % 30000) + Decimal(key * 37 % 100) / 100
        payload: dict[str, Any] = {
            "contribution_months": 12 + key * 29 % 240,
            "deemed_months": 24 if key % 5 == 0 else 0,
            "personal_account_balance": f"{balance:.2f}",
            "note": "信息表已上传，个人账户余额已汇出。" if balance else "信息表已上传。",
        }
        if balance and key % 3 == 2:
            payload["interest"] = f"{balance * Decimal('0.0035'):.2f}"  # a year's interest
        if scenario.kind == CaseKind.MERGE:
            # The cancelling agency's check: normal, the months enrolled twice and their refund.
            payload.update(
                overlap_months=2 + key % 4,
                refund_amount=f"{(2 + key % 4) * Decimal('96.50'):.2f}",
                account_normal=True,
                note="原参保关系状态正常，无欠费，已注销。",
            )
        return payload
    if step.action == Action.REQUEST_MATERIALS:
        if case.materials_requested_before:
            return {
                "missing_materials": ["离职证明"],
                "repeat_reason": "补交的离职证明未加盖单位公章。",
                "note": "补交材料不符合要求，请重新提交。",
            }
        return {
            "missing_materials": _MISSING[key % len(_MISSING)],
            "note": "请一次性补齐以下材料。",
        }
    if step.action == Action.RESUBMIT_MATERIALS:
        return {"note": "材料已补齐。"}
    if step.action == Action.MOVE_BALANCE:
        return {"amount": str(case.balance_due), "note": "款项已到账并记入个人账户。"}
    if step.action == Action.PAY_OUT_BALANCE:
        return {"amount": str(case.balance_due), "note": "转入居民医保，个人账户余额已支付给本人。"}
    if step.action == Action.REJECT:
        reason, note = _REJECT_REASONS[key % len(_REJECT_REASONS)]
        return {"reason_code": reason, "note": note}
    if step.action == Action.WITHDRAW:
        return {"note": _WITHDRAW_NOTES[key % len(_WITHDRAW_NOTES)]}
    return {}


def _ensure_account(spec: DemoAccount, result: DemoResult) -> User:
    user = User.objects.filter(username=spec.username).first()
    if user is None:
        user = account_create(
            role=spec.role,
            username=spec.username,
            password=DEMO_PASSWORD if spec.can_sign_in else None,
            agency_code=spec.agency_code or None,
            name=spec.name or None,
            id_number=spec.id_number or None,
            phone=spec.phone,
            province_wide=spec.province_wide,
        )
        if spec.can_sign_in:
            result.accounts_created.append(spec.username)
        else:
            result.background_accounts += 1
        return user
    same = (
        user.role == spec.role
        and (user.agency_id or "") == spec.agency_code
        and (not spec.id_number or user.id_number_digest == id_number_digest(spec.id_number))
    )
    if not same:
        raise DemoConflict(
            f"An account called {spec.username} exists and is not the demo's "
            f"({user.role}, agency {user.agency_id or '-'}); rename or remove it first."
        )
    # An existing demo account keeps its password: it may have been changed on purpose.
    if spec.can_sign_in:
        result.accounts_kept.append(spec.username)
    return user


def _build_case(
    scenario: _Scenario, users: dict[str, User], today: dt.date, result: DemoResult
) -> TransferCase | None:
    person = scenario.person
    existing = TransferCase.objects.filter(
        id_number_digest=id_number_digest(person.id_number),
        insurance_type=scenario.insurance_type,
        from_agency_id=scenario.from_agency,
        to_agency_id=scenario.to_agency,
    ).first()
    if existing is not None:
        result.cases_existing += 1
        return existing

    total = scenario.age + sum(step.after for step in scenario.steps)
    submitted_on = _workdays_back(today, total)
    lead, gap = ((10, 1), (25, 10), (60, 40), (150, 125))[scenario.key % 4]
    stopped_on = submitted_on - dt.timedelta(days=lead)
    submitter = users[person.username if scenario.submitter == APPLICANT else scenario.submitter]
    dates: dict[str, Any] = {
        "stopped_at_source_on": stopped_on,
        "enrolled_at_target_on": stopped_on
        + dt.timedelta(days=-scenario.overlap_days if scenario.overlap_days else gap),
    }
    if scenario.kind == CaseKind.MERGE:
        # Active at both ends: enrolled at the source for years, at the target a few months ago.
        dates = {
            "enrolled_at_source_since": submitted_on - dt.timedelta(days=900),
            "enrolled_at_target_on": submitted_on - dt.timedelta(days=lead + 60),
            "main_relationship_confirmed": True,
        }
    try:
        case = case_submit(
            actor=submitter,
            insurance_type=scenario.insurance_type,
            from_agency=scenario.from_agency,
            to_agency=scenario.to_agency,
            channel=scenario.channel,
            applicant=None
            if submitter.role == Role.APPLICANT
            else Applicant(name=person.name, id_number=person.id_number, phone=person.phone),
            target_insurance_type=scenario.target_insurance_type,
            kind=scenario.kind,
            now=_at(submitted_on, 9, scenario.key * 7 % 50),
            **dates,
            **dict(scenario.figures),
        )
    except InvalidInput as exc:
        if exc.code not in ("duplicate_open_case", "ineligible_by_local_rule"):
            raise
        result.cases_blocked += 1
        return None

    elapsed = 0
    for number, step in enumerate(scenario.steps, start=1):
        elapsed += step.after
        if step.action == Action.MOVE_BALANCE and case.state == CaseState.BALANCE_MOVED:
            continue  # the transfer-in agency merges accounts: the case completed on confirmation
        if step.by == APPLICANT:
            actor = users[person.username] if person.username else users[_caseworker(scenario)]
        else:
            code = scenario.from_agency if step.by == FROM else scenario.to_agency
            actor = users[CASEWORKERS[code]]
        at = _at(_workdays_back(today, total - elapsed), 10 + number, scenario.key * 11 % 60)
        if step.action == Action.RESUBMIT_MATERIALS:
            for index, label in enumerate(scenario.attachments):
                attachment_add(
                    case=case,
                    actor=actor,
                    upload=io.BytesIO(_demo_file(index)),
                    label=label,
                    now=at - dt.timedelta(minutes=10 - index),
                )
        case = case_transition(
            case=case,
            action=step.action,
            actor=actor,
            payload=_payload(scenario, step, case),
            now=at,
        )
    result.cases_created += 1
    return case


def _demo_file(index: int) -> bytes:
    """A scanned page (PDF) for even indexes, a photo (PNG) for odd ones: plain pages, no text."""
    page = Image.new("RGB", (420, 594) if index % 2 == 0 else (640, 480), (250, 250, 245))
    for y in range(60, page.height - 60, 40):
        page.paste((180, 180, 190), (40, y, page.width - 40, y + 6))
    out = io.BytesIO()
    page.save(out, format="PDF" if index % 2 == 0 else "PNG")
    return out.getvalue()


def _caseworker(scenario: _Scenario) -> str:
    """Materials brought to a window on the applicant's behalf: the transfer-out side's desk."""
    code = scenario.from_agency if scenario.from_agency in CASEWORKERS else scenario.to_agency
    return CASEWORKERS[code]


def demo_load(*, now: dt.datetime | None = None) -> DemoResult:
    """Load agencies, the calendar, the demo accounts and the demo cases, in one transaction.

    Idempotent. Raises ``DemoConflict`` (and writes nothing) when a demo username belongs to
    another account.
    """
    now = now or timezone.now()
    today = local_date(now)
    with transaction.atomic():
        result = DemoResult(agencies=agencies_load(), calendar_days=calendar_sync())
        if not AgencyRule.objects.filter(agency_id=DEMO_RULE["agency_id"]).exists():
            agency_rule_save(rule=AgencyRule(**DEMO_RULE), actor=None, now=now, seed=True)
        users = {spec.username: _ensure_account(spec, result) for spec in ACCOUNTS}
        scenarios = demo_scenarios()
        for scenario in scenarios:
            person = scenario.person
            if person.username and person.username not in users:
                spec = DemoAccount(
                    person.username,
                    Role.APPLICANT,
                    name=person.name,
                    id_number=person.id_number,
                    phone=person.phone,
                    can_sign_in=False,
                )
                users[person.username] = _ensure_account(spec, result)
        cases = {s.key: _build_case(s, users, today, result) for s in scenarios}

        result.statements = len(settlement_statements_draw_due(now=now))
    for label, key in (
        ("merge", 911),
        ("merge_done", 913),
        ("instant", 921),
        ("withdraw", 902),
        ("resubmit", 904),
        ("paid_out", 905),
        ("repeat_materials", 906),
        ("duplicate_enrolment", 907),
        ("documents", 903),
    ):
        if cases[key] is not None:
            result.examples[label] = cases[key].reference
    result.states = dict(Counter(TransferCase.objects.values_list("state", flat=True)))
    open_clocks = StageClock.objects.filter(completed_at__isnull=True, due_at__isnull=False)
    result.open_overdue = open_clocks.filter(due_at__lt=now).count()
    result.open_due_soon = open_clocks.filter(
        due_at__gte=now, due_at__lt=now + dt.timedelta(days=3)
    ).count()
    late = open_clocks.filter(due_at__lt=now).order_by("due_at").select_related("case").first()
    if late is not None:
        result.examples["overdue"] = late.case.reference
    return result
