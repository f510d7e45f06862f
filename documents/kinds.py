"""What each document says and who issues it (domain.md "The information form and the other
documents"): the facts of a case as a document prints them, in Chinese (the documents are
Chinese official forms). The facts hold no ID number; the renderer adds it (in full on the
information form, which goes to the other agency; masked on the others)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from agencies.models import Agency
from cases.continuity import case_continuity
from cases.models import TransferCase
from cases.states import Action, CaseState, InsuranceType
from core.identity import id_number_decrypt, id_number_is_male
from documents.models import DocumentKind
from workflow.calendar import local_date

INSURANCE_ZH: Final = {
    InsuranceType.EMPLOYEE: "职工基本医疗保险",
    InsuranceType.RESIDENT: "城乡居民基本医疗保险",
}


def _day(value: dt.date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "—"


def _yuan(value: Decimal | None) -> str:
    return f"¥{value:,.2f}" if value is not None else "—"


def _approval(case: TransferCase) -> tuple[str, str]:
    """Who approved the transfer out, and when (the caseworker and date on the form)."""
    event = (
        case.events.filter(action=Action.APPROVE_TRANSFER_OUT)
        .select_related("actor")
        .order_by("-at")
        .first()
    )
    if event is None:
        return "—", "—"
    # The caseworker's name as the agency recorded it; an account name is no name for a form.
    name = getattr(event.actor, "real_name", "") if event.actor else ""
    return name or "—", _day(local_date(event.at))


def _common(case: TransferCase) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "name": case.applicant_name,
        "sex": "男" if id_number_is_male(id_number_decrypt(case.id_number_encrypted)) else "女",
        "insurance_type": INSURANCE_ZH[InsuranceType(case.insurance_type)],
        "target_insurance_type": INSURANCE_ZH[InsuranceType(case.target_insurance_type)],
        "from_agency": f"{case.from_agency.name}（{case.from_agency.code}）",
        "to_agency": f"{case.to_agency.name}（{case.to_agency.code}）",
        "stopped_at_source_on": _day(case.stopped_at_source_on),
    }


def _months(case: TransferCase) -> dict[str, Any]:
    """The enrolment at source and its months, as both of the source agency's documents say."""
    return {
        "enrolled_at_source_since": _day(case.enrolled_at_source_since),
        "contribution_months": str(case.contribution_months),
        "deemed_months": str(case.deemed_months or 0),
        "cumulative_months": str(case.cumulative_months),
    }


def information_form_facts(case: TransferCase) -> dict[str, Any]:
    continuity = case_continuity(case)
    caseworker, approved_on = _approval(case)
    return {
        **_common(case),
        **_months(case),
        "overlap_months": str(continuity.overlap_months),
        "gap_months": "—" if continuity.gap_months is None else str(continuity.gap_months),
        "personal_account_balance": _yuan(case.personal_account_balance),
        "interest": _yuan(case.interest or Decimal("0.00")),
        "balance_due": _yuan(case.balance_due),
        "no_arrears": "无欠费" if case.no_arrears is not False else "有欠费",
        "caseworker": caseworker,
        "approved_on": approved_on,
    }


def insurance_certificate_facts(case: TransferCase) -> dict[str, Any]:
    return {
        **_common(case),
        **_months(case),
    }


def contact_letter_facts(case: TransferCase) -> dict[str, Any]:
    return {
        **_common(case),
        "enrolled_at_target_on": _day(case.enrolled_at_target_on),
        "submitted_on": _day(local_date(case.created_at)),
        "contact": f"{case.to_agency.name}",
    }


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: str
    title: str
    prefix: str  # of the document number
    issuer: Callable[[TransferCase], Agency]
    available: Callable[[TransferCase], bool]
    facts: Callable[[TransferCase], dict[str, Any]]
    # (label, fact key) in print order; "id_number" is the renderer's.
    rows: tuple[tuple[str, str], ...]
    full_id_number: bool
    closing: str


def _approved(case: TransferCase) -> bool:
    return case.contribution_months is not None and case.personal_account_balance is not None


def _alive(case: TransferCase) -> bool:
    return case.state not in (CaseState.REJECTED, CaseState.WITHDRAWN)


# The rows every document opens with, and the months both agency statements carry.
_PERSON_ROWS: Final = (
    ("业务编号", "reference"),
    ("姓名", "name"),
    ("性别", "sex"),
    ("身份证号码", "id_number"),
)
_MONTH_ROWS: Final = (
    ("实际缴费月数", "contribution_months"),
    ("视同缴费月数", "deemed_months"),
    ("累计缴费月数", "cumulative_months"),
)

SPECS: Final[dict[str, KindSpec]] = {
    DocumentKind.INFORMATION_FORM: KindSpec(
        kind=DocumentKind.INFORMATION_FORM,
        title="参保人员基本医疗保险信息表",
        prefix="XXB",
        issuer=lambda case: case.from_agency,
        available=_approved,
        facts=information_form_facts,
        rows=(
            *_PERSON_ROWS,
            ("险种", "insurance_type"),
            ("转出地经办机构", "from_agency"),
            ("转出地参保起始日期", "enrolled_at_source_since"),
            ("转出地停保日期", "stopped_at_source_on"),
            *_MONTH_ROWS,
            ("重复参保月数", "overlap_months"),
            ("中断月数", "gap_months"),
            ("个人账户余额", "personal_account_balance"),
            ("其中利息", "interest"),
            ("应划转金额", "balance_due"),
            ("欠费情况", "no_arrears"),
            ("转入地经办机构", "to_agency"),
            ("转入地险种", "target_insurance_type"),
            ("经办人", "caseworker"),
            ("审核日期", "approved_on"),
        ),
        full_id_number=True,
        closing="转出地经办机构已审核以上信息，请转入地经办机构据此办理转入手续。",
    ),
    DocumentKind.INSURANCE_CERTIFICATE: KindSpec(
        kind=DocumentKind.INSURANCE_CERTIFICATE,
        title="参保凭证",
        prefix="CBP",
        issuer=lambda case: case.from_agency,
        available=_approved,
        facts=insurance_certificate_facts,
        rows=(
            *_PERSON_ROWS,
            ("险种", "insurance_type"),
            ("参保地经办机构", "from_agency"),
            ("参保起始日期", "enrolled_at_source_since"),
            ("停保日期", "stopped_at_source_on"),
            *_MONTH_ROWS,
        ),
        full_id_number=False,
        closing="兹证明上述人员在本统筹地区参加基本医疗保险，情况如上。",
    ),
    DocumentKind.CONTACT_LETTER: KindSpec(
        kind=DocumentKind.CONTACT_LETTER,
        title="基本医疗保险关系转移接续联系函",
        prefix="LXH",
        issuer=lambda case: case.to_agency,
        available=_alive,
        facts=contact_letter_facts,
        rows=(
            *_PERSON_ROWS,
            ("转出地经办机构", "from_agency"),
            ("转出地停保日期", "stopped_at_source_on"),
            ("转入地经办机构", "to_agency"),
            ("转入地参保日期", "enrolled_at_target_on"),
            ("申请日期", "submitted_on"),
            ("联系单位", "contact"),
        ),
        full_id_number=False,
        closing="上述人员申请将基本医疗保险关系转入我地，请协助办理转出手续并出具参保人员基本医疗保险信息表。",
    ),
}
