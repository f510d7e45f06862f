"""The staff workbench (faces.md "Staff workbench"): the queue, a case, the supervisor dashboard.

Views over the selectors, presenters and services the API uses: which cases a user sees is
``case_list_for`` / ``case_document_get_for``, what they may do is ``case_allowed_actions`` and
the services' own checks, every field's rule is ``cases.inputs``' through ``cases.forms``. A case
outside the user's reach and one that does not exist are the same 404 page.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import (
    assignees_within,
    user_may_assign,
    user_may_see_sla_stats,
    user_may_settle,
    user_may_take_from,
    user_may_use_desk,
)
from cases.downloads import attachment_response
from cases.forms import (
    MSG_ID_LOOKUP_NONE,
    MSG_ID_LOOKUP_THROTTLED,
    AssignForm,
    IdNumberLookupForm,
    TransitionForm,
    action_refusal,
    assigned_text,
    refusal_text,
    transition_done_text,
    transition_form_for,
)
from cases.models import SettlementItem, TransferCase
from cases.presenters import case_rows, case_view
from cases.selectors import (
    case_document_get_for,
    case_events,
    case_find_by_id_number,
    case_list_for,
    settlement_statement_for,
    settlements_for,
)
from cases.services import AssignmentRefused, case_assign, case_transition, cases_assign
from cases.services.attachments import attachment_get
from cases.services.settlement import settlement_statement_settle
from cases.states import USER_ACTIONS, action_label
from core.errors import DomainError, InvalidInput
from core.throttling import IdLookupThrottle
from desk import exports
from desk.dashboard import dashboard_data
from desk.forms import BULK_MAX, BulkAssignForm, QueueFilterForm, RangeForm, SettlementFilterForm
from documents.downloads import document_response
from documents.pki import DocumentsUnavailable
from documents.services import DocumentNotAvailable, document_issue, documents_list
from workflow.calendar import local_date
from workflow.models import StageClock

logger = logging.getLogger("cases.desk")  # the lookups' audit trail (case_find_by_id_number)

PAGE_SIZE = BULK_MAX  # a bulk assignment takes at most one page

MSG_NOT_FOR_YOU = gettext_lazy(
    "The workbench is for the staff of an agency. Applicants follow their cases under “My "
    "applications”."
)
MSG_BULK_DONE = gettext_lazy("{count} case(s) assigned: {who}.")
MSG_BULK_CLEARED = gettext_lazy("{count} case(s) no longer assigned to anyone.")
MSG_BULK_REFUSED = gettext_lazy("Nothing was assigned: case {reference} was refused ({reason}).")
MSG_FILTERS_INVALID = gettext_lazy("Some filters are not valid; the list ignores them.")


def staff_only(view: Any) -> Any:
    """Signed in, and staff of an agency (or an administrator); anyone else gets the 403 page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_may_use_desk(request.user):
            raise PermissionDenied(MSG_NOT_FOR_YOU)
        return view(request, *args, **kwargs)

    return wrapped


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], *, nav: str, status: int = 200
) -> HttpResponse:
    """A workbench page: the menu says where the user is and shows the dashboard to those who
    may open it."""
    context = {**context, "nav": nav, "perms_dashboard": user_may_see_sla_stats(request.user)}
    return render(request, template, context, status=status)


def _case(request: HttpRequest, reference: str) -> TransferCase:
    case = case_document_get_for(user=request.user, reference=reference)
    if case is None:
        raise Http404
    return case


def _case_link(case: TransferCase) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("desk:case", args=[case.reference]), case.reference
    )


# --- the queue ------------------------------------------------------------------------------------


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 6 and int(raw) else 1


@require_GET
@staff_only
def queue(request: HttpRequest) -> HttpResponse:
    """The cases of my agency, most urgent first (overdue, then due soonest; no deadline last)."""
    now = timezone.now()
    form = QueueFilterForm(request.GET)
    # A filter that is not valid is said and left out; the valid ones still apply.
    filters_invalid = not form.is_valid()
    filters = form.filters()
    digest = request.GET.get("person", "")
    if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
        # A person's cases, by the keyed digest the ID number lookup put here (never the number).
        filters["id_number_digest"] = digest
    page = _page_number(request)
    cases = list(
        case_list_for(user=request.user, filters=filters, now=now).order_by("urgency", "id")[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1
        ]
    )
    more = len(cases) > PAGE_SIZE
    rows = case_rows(cases[:PAGE_SIZE], now=now)
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    bulk_form = BulkAssignForm(people=assignees_within(request.user))
    context = {
        "form": form,
        "rows": rows,
        # The cases' addresses, joined with each reference in the template: reversing two URLs
        # for each of 50 rows costs a tenth of the page.
        "cases_url": reverse("desk:case", args=["_"]).removesuffix("_/"),
        "page": page,
        "next_url": f"?{urlencode({**query, 'page': page + 1})}" if more else "",
        "prev_url": f"?{urlencode({**query, 'page': page - 1})}" if page > 1 else "",
        "may_take": {
            row.case.reference
            for row in rows
            if row.case.assignee_id != request.user.pk
            and user_may_take_from(
                request.user, row.case.responsible_agency_code(), row.case.assignee
            )
        },
        # Only for those who may hand cases to someone (a supervisor has colleagues to pick).
        "bulk_form": bulk_form if bulk_form.people else None,
        "lookup_form": IdNumberLookupForm(),
        "by_person": "id_number_digest" in filters,
        "filters_invalid": MSG_FILTERS_INVALID if filters_invalid else "",
    }
    template = "desk/_queue.html" if request.htmx else "desk/queue.html"
    return _page(request, template, context, nav="queue")


@require_POST
@staff_only
def find_person(request: HttpRequest) -> HttpResponse:
    """A person's cases by full ID number: a POST (the number never enters a URL or a log line),
    throttled per account like the admin's lookup, every lookup logged by digest."""
    back = reverse("desk:queue")
    throttle = IdLookupThrottle()
    if not throttle.allow_request(request, None):
        logger.warning("desk id lookup throttled user=%s", request.user.pk)
        messages.error(request, str(MSG_ID_LOOKUP_THROTTLED))
        return redirect(back)
    form = IdNumberLookupForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("id_number", []):
            messages.error(request, error)
        return redirect(back)
    digest, found = case_find_by_id_number(
        user=request.user, id_number=form.cleaned_data["id_number"], face="desk"
    )
    if not found:
        messages.warning(request, str(MSG_ID_LOOKUP_NONE))
        return redirect(back)
    if len(found) == 1:
        reference = TransferCase.objects.values_list("reference", flat=True).get(pk=found[0])
        return redirect("desk:case", reference=reference)
    return HttpResponseRedirect(f"{back}?{urlencode({'show': 'all', 'person': digest})}")


@require_POST
@staff_only
def bulk_assign(request: HttpRequest) -> HttpResponse:
    """A supervisor hands the ticked cases to one person (or to nobody): all of them, or none."""
    back = request.POST.get("back", "")
    back = back if back.startswith("?") else ""
    target = reverse("desk:queue") + back
    people = assignees_within(request.user)
    form = BulkAssignForm(request.POST, people=people)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(target)
    refs = form.cleaned_data["references"]
    visible = {
        c.reference: c
        for c in case_list_for(user=request.user, filters={}, now=timezone.now()).filter(
            reference__in=refs
        )
    }
    if len(visible) != len(refs):
        # Not visible and not there look the same: a reference the user cannot see is refused.
        raise Http404
    assignee = form.cleaned_data["assignee"]
    try:
        changed = cases_assign(
            cases=[visible[r] for r in refs], assignee=assignee, actor=request.user
        )
    except AssignmentRefused as exc:
        reason = _refusal_words(exc.cause)
        messages.error(
            request, str(MSG_BULK_REFUSED).format(reference=exc.reference, reason=reason)
        )
    else:
        if assignee is None:
            messages.success(request, str(MSG_BULK_CLEARED).format(count=len(changed)))
        else:
            who = assignee.real_name or assignee.username
            messages.success(request, str(MSG_BULK_DONE).format(count=len(changed), who=who))
    return redirect(target)


def _refusal_words(exc: DomainError) -> str:
    if isinstance(exc, InvalidInput):
        return "；".join(m for msgs in exc.errors.values() for m in msgs)
    return refusal_text(exc)


# --- a case ---------------------------------------------------------------------------------------


def _forms_for(case: TransferCase, actions: list[str]) -> list[tuple[str, str, TransitionForm]]:
    return [
        (
            action,
            action_label(action, case.kind),
            transition_form_for(action, case.kind)(
                initial={"version": case.version}, prefix=action
            ),
        )
        for action in actions
    ]


def _case_page(
    request: HttpRequest,
    case: TransferCase,
    *,
    bound: tuple[str, TransitionForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    view = case_view(case, user=user)
    actions = [a for a in view.next_actions if a in USER_ACTIONS]
    forms = _forms_for(case, actions)
    if bound is not None:
        forms = [(a, label, bound[1] if a == bound[0] else f) for a, label, f in forms]
    agency_code = case.responsible_agency_code()
    assign_form = None
    if user_may_assign(user, agency_code):
        assign_form = AssignForm(
            agency_code=agency_code or "", initial={"assignee": case.assignee_id}
        )
    clocks = list(
        StageClock.objects.filter(case_id=case.pk)
        .select_related("agency")
        .order_by("started_at", "id")
    )
    events = list(case_events(case=case, user=user).select_related("actor__agency"))
    return _page(
        request,
        "desk/case.html",
        {
            "view": view,
            "forms": forms,
            "open_action": bound[0] if bound else (actions[0] if actions else ""),
            "clocks": clocks,
            "events": events,
            "attachments": list(case.attachments.order_by("uploaded_at", "id")),
            "documents": documents_list(case),
            # An instant case's debt between the funds (先划转后清算), where it has one.
            "settlement": SettlementItem.objects.filter(case=case)
            .select_related("statement")
            .first(),
            "may_take": case.assignee_id != user.pk
            and user_may_take_from(user, agency_code, case.assignee),
            "assign_form": assign_form,
            "assignee_name": (case.assignee.real_name or case.assignee.username)
            if case.assignee_id
            else "",
        },
        nav="queue",
        status=status,
    )


@require_GET
@staff_only
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _case_page(request, _case(request, reference))


@require_POST
@staff_only
def case_act(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    """One action, through ``case_transition`` with the version the page showed. Done: back to
    the queue (the next case), saying what was done. Bad fields: the page again with the form's
    errors, nothing changed. Refused or stale: the case as it is now, saying why."""
    case = _case(request, reference)
    if action not in USER_ACTIONS:
        raise Http404
    form = transition_form_for(action, case.kind)(request.POST, prefix=action)
    if form.is_valid():
        try:
            case = case_transition(
                case=case,
                action=action,
                actor=request.user,
                payload=form.payload(),
                expected_version=form.cleaned_data["version"],
            )
        except InvalidInput as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        except DomainError as exc:
            messages.error(request, refusal_text(exc))
            return redirect("desk:case", reference=case.reference)
        else:
            messages.success(
                request, format_html("{} {}", _case_link(case), transition_done_text(action, case))
            )
            return redirect("desk:queue")
    refusal = action_refusal(case=case, user=request.user, action=action)
    if refusal:
        messages.error(request, refusal)
        return redirect("desk:case", reference=case.reference)
    return _case_page(request, case, bound=(action, form), status=400)


@require_POST
@staff_only
def case_take(request: HttpRequest, reference: str) -> HttpResponse:
    """A caseworker takes the case; back to where they clicked (the queue or the case)."""
    case = _case(request, reference)
    _assign(request, case, request.user)
    if request.POST.get("back") == "queue":
        return redirect("desk:queue")
    return redirect("desk:case", reference=case.reference)


@require_POST
@staff_only
def case_reassign(request: HttpRequest, reference: str) -> HttpResponse:
    """A supervisor assigns the case to someone of the agency whose move it is, or to nobody."""
    case = _case(request, reference)
    form = AssignForm(request.POST, agency_code=case.responsible_agency_code() or "")
    if form.is_valid():
        _assign(request, case, form.cleaned_data["assignee"])
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("desk:case", reference=case.reference)


def _assign(request: HttpRequest, case: TransferCase, assignee: Any) -> None:
    try:
        case_assign(case=case, assignee=assignee, actor=request.user)
    except DomainError as exc:
        messages.error(request, _refusal_words(exc))
    else:
        messages.success(request, assigned_text(assignee))


@require_GET
@staff_only
def case_attachment(request: HttpRequest, reference: str, attachment_id: int) -> HttpResponse:
    attachment = attachment_get(case=_case(request, reference), attachment_id=attachment_id)
    if attachment is None:
        raise Http404
    return attachment_response(attachment)


@require_GET
@staff_only
def case_document(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    """The signed PDF, from the same service as the API's and the applicant pages'."""
    case = _case(request, reference)
    try:
        issued = document_issue(case=case, kind=kind, now=timezone.now())
    except DocumentNotAvailable:
        raise Http404 from None
    except DocumentsUnavailable as exc:
        messages.error(request, exc.message)
        return redirect("desk:case", reference=case.reference)
    return document_response(issued)


# --- the supervisor dashboard -------------------------------------------------------------------


def _dashboard_range(request: HttpRequest) -> tuple[RangeForm, dt.date, dt.date, str | None]:
    today = local_date(timezone.now())
    form = RangeForm(request.GET or None, today=today)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        return form, data["date_from"], data["date_to"], data.get("agency") or None
    default = RangeForm({}, today=today)
    default.is_valid()
    return form, default.cleaned_data["date_from"], default.cleaned_data["date_to"], None


def supervisors_only(view: Any) -> Any:
    @staff_only
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_may_see_sla_stats(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@supervisors_only
def dashboard(request: HttpRequest) -> HttpResponse:
    form, date_from, date_to, agency = _dashboard_range(request)
    data = dashboard_data(
        user=request.user, date_from=date_from, date_to=date_to, now=timezone.now(), agency=agency
    )
    # The exports' links carry the same range and agency as the page.
    query = urlencode(
        {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "agency": agency or ""}
    )
    context = {"form": form, "data": data, "query": query, "charts": data.chart_data()}
    template = "desk/_dashboard.html" if request.htmx else "desk/dashboard.html"
    status = 400 if form.is_bound and not form.is_valid() else 200
    return _page(request, template, context, nav="dashboard", status=status)


@require_GET
@supervisors_only
def dashboard_export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    """One table as CSV, or every table as an XLSX workbook (one sheet each)."""
    if (
        fmt not in ("csv", "xlsx")
        or (fmt == "csv" and table not in exports.TABLES)
        or (fmt == "xlsx" and table != "all")
    ):
        raise Http404
    form, date_from, date_to, agency = _dashboard_range(request)
    if form.is_bound and not form.is_valid():
        # The dashboard says what is wrong with the range.
        return HttpResponseRedirect(f"{reverse('desk:dashboard')}?{request.GET.urlencode()}")
    data = dashboard_data(
        user=request.user, date_from=date_from, date_to=date_to, now=timezone.now(), agency=agency
    )
    if fmt == "csv":
        return exports.csv_response(data, table)
    return exports.xlsx_response(data)


# --- settlement between the funds ----------------------------------------------------------------

MSG_SETTLED = gettext_lazy("Statement {number} is marked settled.")


@require_GET
@supervisors_only
def settlements(request: HttpRequest) -> HttpResponse:
    """What the funds of the supervisor's agency (or province) owe and are owed for instant-mode
    cases: the statements drawn up, with a button for the fund owed, and the items."""
    form = SettlementFilterForm(request.GET or None)
    invalid = form.is_bound and not form.is_valid()
    filters = form.filters() if form.is_bound else {"period": None, "agency": None}
    # A choice that is not valid shows nothing rather than everything: the form says why.
    view = None if invalid else settlements_for(user=request.user, **filters)
    rows = [
        (statement, user_may_settle(request.user, statement.payee_id))
        for statement in (view.statements if view else [])
    ]
    context = {"form": form, "view": view, "rows": rows}
    status = 400 if invalid else 200
    return _page(request, "desk/settlements.html", context, nav="settlements", status=status)


@require_POST
@supervisors_only
def settlement_settle(request: HttpRequest, number: str) -> HttpResponse:
    statement = (
        None if "\x00" in number else settlement_statement_for(user=request.user, number=number)
    )
    if statement is None:
        raise Http404
    try:
        statement = settlement_statement_settle(statement=statement, actor=request.user)
    except DomainError as exc:
        # The service's own words: who may settle (refusal_text would name an action).
        messages.error(request, str(exc.message))
    else:
        messages.success(request, str(MSG_SETTLED).format(number=statement.number))
    return redirect("desk:settlements")
