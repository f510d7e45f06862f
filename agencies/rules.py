"""Agencies' own eligibility rules: which one is in force, what it says of an application, and
every change audited (domain.md "Eligibility rules per agency").

The one home of these rules: the intake check (cases.services.submit), the balance decision
(cases.models), the published rules (``GET /api/v1/agencies/{code}/rules/``) and the admin all call
these functions.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Final

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies.models import AgeLimitScope, Agency, AgencyRule, AgencyRuleChange, ProvinceMode
from agencies.policies import IntraProvinceMode
from core.errors import InvalidInput
from core.identity import id_number_birth_date, id_number_is_male
from core.statements import FrozenQuery

# The fields a change records, before and after.
RULE_FIELDS: Final = (
    "effective_from",
    "max_age_male",
    "max_age_female",
    "age_limit_scope",
    "accepts_employee",
    "accepts_resident",
    "accepts_balance",
    "catch_up_max_gap_months",
    "employee_waiting_months",
    "resident_fixed_waiting_months",
    "resident_repair_floor_months",
    "resident_keeps_personal_account",
    "transfer_out_days",
    "transfer_in_days",
    "balance_days",
    "basis",
)
MAX_AGE_MALE: Final = "max_age_male"
MAX_AGE_FEMALE: Final = "max_age_female"
INSURANCE_TYPES: Final = "insurance_types"
ACCEPTS_BALANCE: Final = "accepts_balance"


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """A rule an application fails: its name (stable, for clients) and what to tell the person."""

    rule: str
    message: str


def province_code_of(agency_code: str) -> str:
    """The province-level agency's code (GB/T 2260: the first two digits, then 0000)."""
    return agency_code[:2] + "0000"


def agency_rule_in_force(agency_code: str, on: dt.date) -> AgencyRule | None:
    """The rule in force at the agency on ``on``: its own latest taking effect on or before it,
    else its province's (a province sets the numbers for all its agencies that set none)."""
    province = province_code_of(agency_code)
    if province == agency_code:
        rules = _RULES_SINCE_OF_ONE.rows(agency_code, on)
    else:
        rules = _RULES_SINCE_OF_TWO.rows(agency_code, province, on)
    found: dict[str, AgencyRule] = {}
    for rule in rules:
        found.setdefault(rule.agency_id, rule)
        if agency_code in found:
            break
    return found.get(agency_code) or found.get(province)


def _rules_since(codes: list[str], on: dt.date) -> Any:
    return (
        AgencyRule.objects.filter(agency_id__in=codes, effective_from__lte=on)
        .select_related("agency")
        .order_by("-effective_from")
    )


# Read exactly on every submission (intake's rules, the first window) and the balance decision:
# compiled once per process (core.statements), which was most of the read's cost.
_RULES_SINCE_OF_ONE: FrozenQuery[AgencyRule] = FrozenQuery(
    lambda code, on: _rules_since([code], on)
)
_RULES_SINCE_OF_TWO: FrozenQuery[AgencyRule] = FrozenQuery(
    lambda code, province, on: _rules_since([code, province], on)
)


def province_mode_in_force(agency_code: str, on: dt.date) -> ProvinceMode | None:
    """The intra-province mode of the agency's province in force on ``on`` (None: the national
    process)."""
    return (
        ProvinceMode.objects.filter(
            province_id=province_code_of(agency_code), effective_from__lte=on
        )
        .order_by("-effective_from")
        .first()
    )


def case_mode(from_code: str, to_code: str, on: dt.date) -> str:
    """The mode a case between these agencies, submitted on ``on``, runs by: its province's for a
    move within one province; the national process for any move between provinces, whatever either
    province's mode (domain.md)."""
    if from_code[:2] != to_code[:2]:
        return IntraProvinceMode.STANDARD
    found = province_mode_in_force(from_code, on)
    return found.mode if found is not None else IntraProvinceMode.STANDARD


@dataclass(frozen=True, slots=True)
class AgencyRules:
    """What ``GET /api/v1/agencies/{code}/rules/`` publishes."""

    agency: Agency
    in_force: AgencyRule | None
    scheduled: list[AgencyRule]
    mode_in_force: ProvinceMode | None
    modes_scheduled: list[ProvinceMode]

    @property
    def intra_province_mode(self) -> str:
        """The mode of the moves within the province today (``standard`` when none is set)."""
        return self.mode_in_force.mode if self.mode_in_force else IntraProvinceMode.STANDARD


def agency_rules_view(agency: Agency, *, today: dt.date | None = None) -> AgencyRules:
    """The rule in force at ``agency`` today and the ones set to take effect after it."""
    today = today or timezone.localdate()
    return AgencyRules(
        agency=agency,
        in_force=agency_rule_in_force(agency.code, today),
        scheduled=list(
            AgencyRule.objects.filter(agency=agency, effective_from__gt=today).order_by(
                "effective_from"
            )
        ),
        mode_in_force=province_mode_in_force(agency.code, today),
        modes_scheduled=list(
            ProvinceMode.objects.filter(
                province_id=province_code_of(agency.code), effective_from__gt=today
            ).order_by("effective_from")
        ),
    )


# Reads on the hot path (every case document shows its continuity advice) are served from a
# per-process memo for at most this long; intake and the balance decision read the table itself.
_MEMO_SECONDS: Final = 60.0
_memo: dict[tuple[str, dt.date], tuple[float, AgencyRule | None]] = {}


def agency_rule_in_force_memo(agency_code: str, on: dt.date) -> AgencyRule | None:
    """``agency_rule_in_force``, remembered for up to a minute per (agency, day)."""
    key = (agency_code, on)
    now = time.monotonic()
    hit = _memo.get(key)
    if hit is not None and now - hit[0] < _MEMO_SECONDS:
        return hit[1]
    if len(_memo) > 10_000:
        _memo.clear()
    rule = agency_rule_in_force(agency_code, on)
    _memo[key] = (now, rule)
    return rule


def age_on(birth: dt.date, day: dt.date) -> int:
    """Full years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def rule_problems(
    rule: AgencyRule | None,
    *,
    agency_name: str,
    target_insurance_type: str,
    id_number: str,
    inter_province: bool,
    on: dt.date,
) -> list[RuleProblem]:
    """What in ``rule`` an application to that agency fails, each with what the person can do."""
    if rule is None:
        return []
    problems: list[RuleProblem] = []
    if target_insurance_type not in rule.insurance_types_accepted:
        problems.append(
            RuleProblem(
                INSURANCE_TYPES,
                _(
                    "{agency} does not take transfers into this insurance type (its rule in force "
                    "from {since}). Ask it which insurance you can join there, or choose the other "
                    "type at the target."
                ).format(agency=agency_name, since=rule.effective_from.isoformat()),
            )
        )
    if rule.age_limit_scope == AgeLimitScope.ALL or inter_province:
        male = id_number_is_male(id_number)
        limit = rule.max_age_male if male else rule.max_age_female
        age = age_on(id_number_birth_date(id_number), on)
        # 未满 N 周岁: under N at application, so N itself is over the limit.
        if limit is not None and age >= limit:
            problems.append(
                RuleProblem(
                    MAX_AGE_MALE if male else MAX_AGE_FEMALE,
                    _(
                        "{agency} takes these transfers in only from applicants under {limit} at "
                        "application (its rule in force from {since}); the applicant is {age}. "
                        "Ask it about other ways to enrol there, or keep the insurance where it "
                        "is."
                    ).format(
                        agency=agency_name,
                        limit=limit,
                        since=rule.effective_from.isoformat(),
                        age=age,
                    ),
                )
            )
    return problems


def rule_snapshot(rule: AgencyRule) -> dict[str, Any]:
    values = model_to_dict(rule, fields=RULE_FIELDS)
    values["effective_from"] = rule.effective_from.isoformat()
    return values


def _change(
    *, rule: AgencyRule | None, agency_code: str, actor: Any, now: dt.datetime, before: Any
) -> None:
    AgencyRuleChange.objects.create(
        rule=rule,
        agency_code=agency_code,
        changed_by=actor if getattr(actor, "pk", None) else None,
        changed_by_name=getattr(actor, "username", "") or "system",
        changed_at=now,
        before=before,
        after=rule_snapshot(rule) if rule is not None else None,
    )


MSG_RULE_IN_THE_PAST: Final = gettext_lazy(
    "A rule takes effect tomorrow at the earliest: cases already submitted keep the rules they "
    "were submitted under."
)
MSG_RULE_IN_FORCE: Final = gettext_lazy(
    "This rule is already in force and cases were judged by it: add a new rule from a later "
    "date instead of changing or deleting it."
)


def rule_change_problem(
    *, stored: AgencyRule | None, effective_from: dt.date | None, today: dt.date
) -> str:
    """Why this save or delete would change what cases already submitted were judged by; ""
    when it would not. A rule in force is never changed; a new date is always in the future."""
    if stored is not None and stored.effective_from <= today:
        return str(MSG_RULE_IN_FORCE)
    if effective_from is not None and effective_from <= today:
        return str(MSG_RULE_IN_THE_PAST)
    return ""


def agency_rule_save(
    *, rule: AgencyRule, actor: Any, now: dt.datetime, seed: bool = False
) -> AgencyRule:
    """Create or change a rule and record who changed what, in one transaction. ``seed`` (data
    loads: the demo, an initial import) may write a rule already in force."""
    with transaction.atomic():
        before = None
        stored = None
        if rule.pk is not None:
            stored = AgencyRule.objects.select_for_update().filter(pk=rule.pk).first()
            before = rule_snapshot(stored) if stored is not None else None
        problem = rule_change_problem(
            stored=stored, effective_from=rule.effective_from, today=timezone.localdate(now)
        )
        if problem and not seed:
            raise InvalidInput({"effective_from": [problem]})
        rule.full_clean()
        rule.save()
        _memo.clear()
        _change(rule=rule, agency_code=rule.agency_id, actor=actor, now=now, before=before)
    return rule


def agency_rule_delete(*, rule: AgencyRule, actor: Any, now: dt.datetime) -> None:
    problem = rule_change_problem(stored=rule, effective_from=None, today=timezone.localdate(now))
    if problem:
        raise InvalidInput({"effective_from": [problem]})
    with transaction.atomic():
        before = rule_snapshot(rule)
        agency_code = rule.agency_id
        _change(rule=None, agency_code=agency_code, actor=actor, now=now, before=before)
        rule.delete()
        _memo.clear()
