"""Reads of transfer cases. Who may see what is decided here, once."""

from __future__ import annotations

import copy
import datetime as dt
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final, cast

from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.permissions import (
    Reach,
    user_is_applicant,
    user_reach,
    user_settlement_reach,
    user_side_reach,
    user_supervises,
)
from agencies.models import Agency
from agencies.policies import Stage
from cases.models import (
    CaseEvent,
    RepeatRequestTally,
    SettlementItem,
    SettlementStatement,
    TransferCase,
)
from core.identity import id_number_decrypt, id_number_digest, id_number_encrypt
from core.statements import FrozenQuery
from workflow.calendar import SHANGHAI, end_of_day, get_calendar, local_date
from workflow.models import StageClock, StageTally


def reach_filter(reach: Reach | None) -> Q | None:
    """A ``Reach`` (accounts.permissions decides it) as a filter on cases; None for none."""
    if reach is None:
        return None
    if reach.everything:
        return Q()
    if reach.id_number_digest:
        return Q(id_number_digest=reach.id_number_digest)
    if reach.province:
        return Q(from_province=reach.province) | Q(to_province=reach.province)
    return Q(from_agency_id=reach.agency_code) | Q(to_agency_id=reach.agency_code)


def case_visibility_filter(user: Any) -> Q | None:
    """The cases ``user`` may see as a filter, or None for none at all (``user_reach``)."""
    return reach_filter(user_reach(user))


def case_queryset_for(user: Any) -> QuerySet[TransferCase]:
    visible = case_visibility_filter(user)
    if visible is None:
        return TransferCase.objects.none()
    return TransferCase.objects.filter(visible)


def case_get_for(*, user: Any, reference: str) -> TransferCase | None:
    """One case by reference if ``user`` may see it, else None (callers answer 404 either way)."""
    if "\x00" in reference:  # no reference holds one, and PostgreSQL refuses to compare it
        return None
    return (
        case_queryset_for(user)
        .select_related("from_agency", "to_agency", "assignee")
        .filter(reference=reference)
        .first()
    )


def case_key_for(*, user: Any, reference: str) -> tuple[int, int] | None:
    """The key and version of the case with ``reference`` if ``user`` may see it, else None: the
    visibility check of a write, which then reads the case itself under its row lock."""
    if "\x00" in reference:
        return None
    reach = user_reach(user)
    if reach is None:
        return None
    if reach.everything:
        return _CASE_KEY_ANYWHERE.get(reference)
    field = next(name for name in _REACH_FIELDS if getattr(reach, name))
    return _CASE_KEY_WITHIN[field].get(getattr(reach, field), reference)


# The visibility check of a transition through the API (which then reads the case under its lock),
# compiled once per process for each kind of reach (core.statements): building it was about half
# its cost.
_REACH_FIELDS = ("id_number_digest", "agency_code", "province")


def _case_key_query(reach: Reach, reference: str) -> QuerySet[TransferCase, tuple[int, int]]:
    return (
        TransferCase.objects.filter(cast(Q, reach_filter(reach)))
        .filter(reference=reference)
        .order_by()
        .values_list("pk", "version")
    )


_CASE_KEY_ANYWHERE: FrozenQuery[tuple[int, int]] = FrozenQuery(
    lambda reference: _case_key_query(Reach(everything=True), reference)
)
_CASE_KEY_WITHIN: dict[str, FrozenQuery[tuple[int, int]]] = {
    field: FrozenQuery(
        lambda value, reference, field=field: _case_key_query(Reach(**{field: value}), reference)
    )
    for field in _REACH_FIELDS
}


# The open clock's columns the case document reads, fetched with the case in one query.
_OPEN_CLOCK_FIELDS = (
    "id",
    "stage",
    "responsible",
    "agency_id",
    "window_days",
    "started_at",
    "due_at",
    "breached_at",
    "provisional",
)


def case_document_get_for(*, user: Any, reference: str) -> TransferCase | None:
    """``case_get_for`` for reading the case document, in one query (the API's hottest path).

    The agencies are joined, the assignee's username and the open stage clock come along through
    a LEFT JOIN (at most one open clock per case: ``one_open_clock``), and neither the encrypted
    ID number nor the agencies' webhook secrets are read. The clock is attached as
    ``case.open_clocks`` (what ``cases.presenters.case_open_clock`` looks for), the username as
    ``case.assignee_username``.
    """
    if "\x00" in reference:  # no reference holds one, and PostgreSQL refuses to compare it
        return None
    rows = list(
        case_queryset_for(user)
        .filter(reference=reference)
        .select_related("from_agency", "to_agency")
        .defer(
            "id_number_encrypted",
            "from_agency__webhook_url",
            "from_agency__webhook_secret",
            "to_agency__webhook_url",
            "to_agency__webhook_secret",
        )
        .annotate(
            open_clock=FilteredRelation("clocks", condition=Q(clocks__completed_at__isnull=True))
        )
        .annotate(
            assignee_username=F("assignee__username"),
            **{f"open_clock_{f}": F(f"open_clock__{f}") for f in _OPEN_CLOCK_FIELDS},
        )
        .order_by()[:1]
    )
    if not rows:
        return None
    case = rows[0]
    clock = None
    if case.open_clock_id is not None:
        clock = StageClock(
            case_id=case.pk,
            completed_at=None,
            **{f: getattr(case, f"open_clock_{f}") for f in _OPEN_CLOCK_FIELDS},
        )
    case.open_clocks = [clock] if clock else []
    return case


# Timeline entries about the agencies' internal work: which staff account holds the case.
STAFF_ONLY_ACTIONS = ("assign",)


def case_events(*, case: TransferCase, user: Any = None) -> QuerySet[CaseEvent]:
    """The timeline, oldest first; an applicant does not see the agencies' internal entries."""
    events = case.events.order_by("at", "id")
    if user_is_applicant(user):
        events = events.exclude(action__in=STAFF_ONLY_ACTIONS)
    return events


# --- lists ----------------------------------------------------------------------------------------

# Cases with no running deadline (closed, or waiting for the applicant) sort after every dated one.
NO_DEADLINE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


def case_side_filter(user: Any, side: str) -> Q | None:
    """``out``: an agency the user acts for is the transfer-out side; ``in``: the transfer-in."""
    reach = user_side_reach(user)
    if reach is None:
        return None
    prefix = "from" if side == "out" else "to"
    if reach.province:
        return Q(**{f"{prefix}_province": reach.province})
    return Q(**{f"{prefix}_agency_id": reach.agency_code})


def case_list_for(
    *, user: Any, filters: Mapping[str, Any], now: dt.datetime
) -> QuerySet[TransferCase]:
    """The cases ``user`` may see, filtered, annotated with ``urgency`` (the open stage's due
    instant, ``NO_DEADLINE`` when none) and with the open clock prefetched as ``open_clocks``.

    Filters (all optional): state, side (out/in), overdue (bool), due_before (date, Asia/Shanghai),
    due_within (working days: due by the end of the Nth working day after today), insurance_type,
    scope, kind, from_agency, to_agency, reference, id_number_digest, assignee ("me" or "nobody"), turn ("mine": the open
    stage is the user's agency's to act on).
    """
    open_due = StageClock.objects.filter(case=OuterRef("pk"), completed_at__isnull=True).values(
        "due_at"
    )[:1]
    qs = (
        case_queryset_for(user)
        .select_related("from_agency", "to_agency", "assignee")
        .annotate(urgency=Coalesce(Subquery(open_due), Value(NO_DEADLINE)))
        .prefetch_related(
            Prefetch(
                "clocks",
                queryset=StageClock.objects.filter(completed_at__isnull=True),
                to_attr="open_clocks",
            )
        )
    )
    for field in ("state", "insurance_type", "scope", "kind", "reference", "id_number_digest"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    for field in ("from_agency", "to_agency"):
        if filters.get(field):
            qs = qs.filter(**{f"{field}_id": filters[field]})
    if filters.get("side"):
        side = case_side_filter(user, filters["side"])
        qs = qs.filter(side) if side is not None else qs.none()
    if filters.get("overdue") is not None:
        late = Q(urgency__lt=now)
        qs = qs.filter(late) if filters["overdue"] else qs.exclude(late)
    if filters.get("due_before"):
        day: dt.date = filters["due_before"]
        qs = qs.filter(urgency__lt=dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI))
    if filters.get("due_within"):
        last_day, _provisional = get_calendar().add_working_days(
            local_date(now), filters["due_within"]
        )
        qs = qs.filter(urgency__lte=end_of_day(last_day))
    if filters.get("assignee") == "me":
        qs = qs.filter(assignee_id=getattr(user, "pk", None))
    elif filters.get("assignee") == "nobody":
        qs = qs.filter(assignee__isnull=True)
    if filters.get("turn") == "mine":
        qs = qs.filter(case_turn_filter(user))
    return qs


def case_turn_filter(user: Any) -> Q | Exists:
    """Cases whose open stage is for the agency (or, province-wide, an agency of the province)
    the user acts for: the work waiting on them. Nothing for anybody else."""
    reach = user_side_reach(user)
    if reach is None:
        return Q(pk__in=[])
    clocks = StageClock.objects.filter(case=OuterRef("pk"), completed_at__isnull=True)
    if reach.province:
        clocks = clocks.filter(agency_id__startswith=reach.province)
    else:
        clocks = clocks.filter(agency_id=reach.agency_code)
    return Exists(clocks)


def case_find_by_id_number(*, user: Any, id_number: str, face: str) -> tuple[str, list[int]]:
    """A person's cases that ``user`` may see, by their full (validated) ID number: the number's
    keyed digest and up to two case ids (one: open it; two: list them by the digest).

    Every lookup is logged, the audit trail of who looked whom up: the digest's head identifies
    the person to an operator holding the key; the number itself never reaches a log.
    """
    digest = id_number_digest(id_number)
    audit = logging.getLogger(f"cases.{face}")  # each face's audit trail under its own name
    found = list(
        case_queryset_for(user).filter(id_number_digest=digest).values_list("pk", flat=True)[:2]
    )
    audit.info("%s id lookup user=%s digest=%s found=%d", face, user.pk, digest[:12], len(found))
    return digest, found


# --- anonymous status lookup ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _decoy_token() -> str:
    # Decrypted when the reference does not exist, so a miss costs what a hit costs.
    return id_number_encrypt("000000000000000000")


def case_status_lookup(*, reference: str, id_number_suffix: str) -> TransferCase | None:
    """The case with ``reference`` if its ID number ends with ``id_number_suffix``, else None.

    A wrong reference and a wrong suffix are indistinguishable to the caller, in answer and (as
    far as one decryption and a constant-time comparison go) in time.
    """
    case = (
        TransferCase.objects.select_related("from_agency", "to_agency")
        .filter(reference=reference)
        .first()
    )
    number = id_number_decrypt(case.id_number_encrypted if case else _decoy_token())
    matches = hmac.compare_digest(number[-6:].upper().encode(), id_number_suffix.upper().encode())
    return case if case is not None and matches else None


# --- what a user may ever do ----------------------------------------------------------------------


def case_action_ever_permitted(*, case: TransferCase, user: Any, action: str) -> bool:
    """Whether ``user`` may take ``action`` on ``case`` in some state (not necessarily now).

    Tells "you may never do this" (403) from "not in this state" (409): each transition of that
    name is asked for its permission as if the case were in the transition's source state.
    """
    for transition in case.get_all_state_transitions():
        if transition.name != action:
            continue
        probe = copy.copy(case)
        if transition.source not in ("*", "+"):
            probe.__dict__["state"] = transition.source
        if transition.has_perm(probe, user):
            return True
    return False


# --- SLA statistics -------------------------------------------------------------------------------


def supervised_scope(user: Any, field: str) -> Q | None:
    """Rows whose agency (reached through ``field``) is one ``user`` supervises
    (``user_supervises``); None when they supervise none."""
    reach = user_supervises(user)
    if reach is None:
        return None
    if reach.everything:
        return Q()
    if reach.province:
        return Q(**{f"{field}__code__startswith": reach.province})
    return Q(**{f"{field}_id": reach.agency_code})


def sla_stats(
    *, user: Any, date_from: dt.date, date_to: dt.date, now: dt.datetime
) -> dict[str, Any]:
    """On-time rate of the stages completed in [date_from, date_to] (Asia/Shanghai dates) and the
    open and overdue counts now, per stage and agency, for the agencies ``user`` oversees.

    On time: completed at or before the stage's due instant. Stages with no agency window (the
    applicant's turn) are not counted; nor is a clock stopped by a request for materials (counting
    it, on time as it usually is, would let each request improve the agency's on-time rate).

    Completed and repeat counts come from the daily roll-ups kept with each transition
    (``workflow.models.StageTally``, ``cases.models.RepeatRequestTally``): a few rows per day and
    agency, whatever the history (quality.md P9). Open and overdue are counted on the open clocks
    (the ``clock_open_agency_stage`` partial index), which is what is open, not what ever was.
    """
    scope = supervised_scope(user, "agency")
    days = Q(day__gte=date_from, day__lte=date_to)
    if scope is None:
        tallies = StageTally.objects.none()
        repeat_tallies = RepeatRequestTally.objects.none()
        clocks = StageClock.objects.none()
    else:
        tallies = StageTally.objects.filter(scope, days)
        repeat_tallies = RepeatRequestTally.objects.filter(scope, days)
        clocks = StageClock.objects.filter(scope, agency__isnull=False, due_at__isnull=False)
    completed = (
        tallies.values("stage", "agency_id")
        .annotate(completed=Sum("completed"), on_time=Sum("on_time"))
        .order_by()
    )
    open_now = (
        clocks.filter(completed_at__isnull=True)
        .values("stage", "agency_id")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    )
    # 一次性告知: every materials request after a case's first is a repeat, counted against the
    # transfer-out agency whose stage it is (the only stage that asks for materials).
    repeats = repeat_tallies.values("agency_id").annotate(repeats=Sum("repeats")).order_by()
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def row(stage: str, agency_id: str) -> dict[str, Any]:
        return rows.setdefault(
            (stage, agency_id),
            {
                "stage": stage,
                "agency": agency_id,
                "completed": 0,
                "on_time": 0,
                "open": 0,
                "overdue": 0,
                "repeat_materials_requests": 0,
            },
        )

    for r in completed:
        row(r["stage"], r["agency_id"]).update(completed=r["completed"], on_time=r["on_time"])
    for r in open_now:
        row(r["stage"], r["agency_id"]).update(open=r["open"], overdue=r["overdue"])
    for r in repeats:
        row(Stage.APPLIED, r["agency_id"])["repeat_materials_requests"] = r["repeats"]
    names = dict(Agency.objects.filter(code__in={a for _s, a in rows}).values_list("code", "name"))
    result = []
    for (_stage, agency_id), r in sorted(rows.items()):
        r["agency"] = {"code": agency_id, "name": names.get(agency_id, "")}
        r["on_time_rate"] = round(r["on_time"] / r["completed"], 4) if r["completed"] else None
        result.append(r)
    totals = {
        k: sum(r[k] for r in result)
        for k in ("completed", "on_time", "open", "overdue", "repeat_materials_requests")
    }
    totals["on_time_rate"] = (
        round(totals["on_time"] / totals["completed"], 4) if totals["completed"] else None
    )
    return {"date_from": date_from, "date_to": date_to, "totals": totals, "rows": result}


def sla_series(
    *, user: Any, date_from: dt.date, date_to: dt.date, agency: str | None = None
) -> list[dict[str, Any]]:
    """Stages completed per Asia/Shanghai day and stage in [date_from, date_to], summed over the
    agencies ``user`` oversees (scoped as ``sla_stats``), or of one of them (``agency``), with how
    many on time: one row per day and stage that had a completion, by day then stage. Read from
    ``StageTally`` alone."""
    scope = supervised_scope(user, "agency")
    if scope is None:
        return []
    tallies = StageTally.objects.filter(scope, day__gte=date_from, day__lte=date_to)
    if agency:
        tallies = tallies.filter(agency_id=agency)
    rows = (
        tallies.values("day", "stage")
        .annotate(completed=Sum("completed"), on_time=Sum("on_time"))
        .order_by("day", "stage")
    )
    return [
        {
            "day": r["day"],
            "stage": r["stage"],
            "completed": r["completed"],
            "on_time": r["on_time"],
            "on_time_rate": round(r["on_time"] / r["completed"], 4) if r["completed"] else None,
        }
        for r in rows
    ]


# --- settlement ------------------------------------------------------------------------------------


def settlement_fund_filter(reach: Reach) -> Q:
    """Rows whose payer or payee is a fund the reach covers."""
    if reach.everything:
        return Q()
    if reach.province:
        return Q(payer__code__startswith=reach.province) | Q(payee__code__startswith=reach.province)
    return Q(payer_id=reach.agency_code) | Q(payee_id=reach.agency_code)


@dataclass(frozen=True, slots=True)
class SettlementView:
    """``GET /api/v1/settlements/``: the statements and items one may see, with their totals.
    ``totals`` count every item of the selection, ``items`` lists at most
    ``SETTLEMENT_ITEMS_MAX`` of them, the newest (``items_truncated`` says when there are more)."""

    agency: str | None
    period: str | None
    statements: list[SettlementStatement]
    items: list[SettlementItem]
    totals: dict[str, Any]

    @property
    def items_truncated(self) -> bool:
        return self.totals["items"] > len(self.items)


SETTLEMENT_ITEMS_MAX: Final = 1000


def settlements_for(
    *, user: Any, agency: str | None, period: dt.date | None
) -> SettlementView | None:
    """What ``user`` may see of the settlement between funds (``user_settlement_reach``), for one
    fund (paying or owed) and one month (any day of it) when given; None when they may see none
    (an agency they do not cover lists nothing, as if it had no items)."""
    reach = user_settlement_reach(user)
    if reach is None:
        return None
    scope = settlement_fund_filter(reach)
    statements = SettlementStatement.objects.filter(scope).select_related(
        "payer", "payee", "settled_by"
    )
    items = SettlementItem.objects.filter(scope)
    if agency:
        mine = Q(payer_id=agency) | Q(payee_id=agency)
        statements, items = statements.filter(mine), items.filter(mine)
    if period:
        start = period.replace(day=1)
        statements = statements.filter(period_start=start)
        last = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        items = items.filter(day__gte=start, day__lte=last)
    zero = Decimal("0.00")
    # In the database, over the whole selection: the list below is cut, the totals never are.
    found = items.aggregate(
        n=Count("id"),
        owed=Coalesce(Sum("amount"), zero),
        open=Coalesce(Sum("amount", filter=Q(settled_at__isnull=True)), zero),
    )
    return SettlementView(
        agency=agency,
        period=period.strftime("%Y-%m") if period else None,
        statements=list(statements.order_by("-period_start", "payer_id", "payee_id")),
        items=list(
            items.select_related("case", "payer", "payee", "statement").order_by("-day", "-id")[
                :SETTLEMENT_ITEMS_MAX
            ]
        ),
        totals={
            "items": found["n"],
            "amount": found["owed"],
            "unsettled": found["open"],
        },
    )


def settlement_statement_for(*, user: Any, number: str) -> SettlementStatement | None:
    reach = user_settlement_reach(user)
    if reach is None:
        return None
    return (
        SettlementStatement.objects.filter(settlement_fund_filter(reach), number=number)
        .select_related("payer", "payee", "settled_by")
        .first()
    )
