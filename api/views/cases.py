"""The cases: list and submit, the case document, its timeline, transitions and assignment.

One view per endpoint: validate with an input serializer, call one service or selector, render
with the output serializer the schema shows. Every error is raised and becomes problem details in
api/exceptions.py.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from api import serializers as s
from api.idempotency import idempotent
from api.pagination import Cursor
from api.schema import (
    CASE_EXAMPLE,
    COMMON,
    CONFLICT_EXAMPLE,
    ETAG,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    INSTANT_SUBMIT_EXAMPLE,
    MERGE_SUBMIT_EXAMPLE,
    P400,
    P403,
    P404,
    P409_IDEMPOTENCY,
    P412,
    REFERENCE,
    SUBMIT_EXAMPLE,
    WRITE,
    doc,
    problem,
)
from api.serializers import render, render_many
from cases.errors import UnknownAction
from cases.models import TransferCase
from cases.presenters import case_view
from cases.selectors import (
    case_document_get_for,
    case_events,
    case_get_for,
    case_key_for,
    case_list_for,
)
from cases.services import Applicant, case_assign, case_submit, case_transition
from cases.states import USER_ACTIONS

# A case that does not exist and one the user may not see get the same answer.
MSG_NO_SUCH_CASE = gettext_lazy("There is no case with this reference that you may see.")


def etag_for(case: TransferCase) -> str:
    return f'W/"{case.version}"'


def expected_version(request: Request, current: int | None = None) -> int | None:
    """The version an ``If-Match`` asks for; None without one (or ``*``); -1 when it is unusable,
    which can never match. With several tags any one may match: the one equal to ``current``
    (the version just read) when listed, else the first."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions = []
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag.isdigit():
            versions.append(int(tag))
    if not versions:
        return -1
    return current if current in versions else versions[0]


def _visible_case(request: Request, reference: str) -> TransferCase:
    case = case_get_for(user=request.user, reference=reference)
    if case is None:
        raise NotFound(MSG_NO_SUCH_CASE)
    return case


def _case_response(case: TransferCase, request: Request, status_code: int = 200) -> Response:
    return Response(
        render(s.CaseDocumentSerializer, case_view(case, user=request.user)),
        status=status_code,
        headers={"ETag": etag_for(case)},
    )


class CaseListView(APIView):
    """The cases you may see, most urgent first; or submit an application."""

    pagination_class = Cursor
    cursor_ordering: tuple[str, ...] = ()

    @extend_schema(
        tags=["cases"],
        operation_id="cases_list",
        parameters=[s.CaseListQuerySerializer],
        responses=doc({200: s.CaseDocumentSerializer(many=True), 400: P400, **COMMON}),
        examples=[CASE_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        query = s.CaseListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        self.cursor_ordering = {
            "due_at": ("urgency", "id"),
            "-due_at": ("-urgency", "-id"),
            "created_at": ("created_at", "id"),
            "-created_at": ("-created_at", "-id"),
        }[filters.get("ordering", "due_at")]
        now = timezone.now()
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            case_list_for(user=request.user, filters=filters, now=now), request, view=self
        )
        docs = render_many(
            s.CaseDocumentSerializer,
            (case_view(case, user=request.user, now=now) for case in page or []),
        )
        return paginator.get_paginated_response(docs)

    @extend_schema(
        tags=["cases"],
        request=s.CaseSubmitInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses=doc(
            {
                201: OpenApiResponse(s.CaseDocumentSerializer, description="The new case"),
                403: P403,
                409: P409_IDEMPOTENCY,
                **WRITE,
                **COMMON,
            }
        ),
        examples=[SUBMIT_EXAMPLE, MERGE_SUBMIT_EXAMPLE, INSTANT_SUBMIT_EXAMPLE, CASE_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        """Submit a transfer, or a merge (``kind: merge``: keep the relationship at
        ``to_agency``, cancel the one at ``from_agency``). Within a province in instant mode the
        case completes at once on the information form's figures the submission carries, and a
        settlement item between the funds opens; a platform account may submit with channel
        ``auto`` (免申转)."""
        data = s.CaseSubmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        given = fields.pop("applicant", None)

        def create() -> tuple[int, dict[str, Any], dict[str, str]]:
            case = case_submit(
                actor=request.user,
                applicant=_applicant(given),
                **fields,
            )
            headers = {"ETag": etag_for(case), "Location": f"/api/v1/cases/{case.reference}/"}
            body = render(s.CaseDocumentSerializer, case_view(case, user=request.user))
            return 201, body, headers

        return idempotent(request, create)


def _applicant(given: dict[str, str] | None) -> Applicant | None:
    """Every applicant field is optional in the body; the service says what is missing."""
    if given is None:
        return None
    return Applicant(
        name=given.get("name", ""),
        id_number=given.get("id_number", ""),
        phone=given.get("phone", ""),
    )


class CaseDetailView(APIView):
    @extend_schema(
        tags=["cases"],
        parameters=[REFERENCE, ETAG],
        responses=doc({200: s.CaseDocumentSerializer, 404: P404, **COMMON}),
        examples=[CASE_EXAMPLE],
    )
    def get(self, request: Request, reference: str) -> Response:
        """One case: state, stage with due date and working days left, continuity advice and
        the actions you may take now. A case you may not see is a 404."""
        case = case_document_get_for(user=request.user, reference=reference)
        if case is None:
            raise NotFound(MSG_NO_SUCH_CASE)
        return _case_response(case, request)


class CaseEventsView(APIView):
    pagination_class = Cursor
    cursor_ordering = ("at", "id")

    @extend_schema(
        tags=["cases"],
        parameters=[REFERENCE],
        operation_id="cases_events_list",
        responses=doc({200: s.CaseEventSerializer(many=True), 404: P404, **COMMON}),
    )
    def get(self, request: Request, reference: str) -> Response:
        """The case's audit timeline, oldest first."""
        case = _visible_case(request, reference)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            case_events(case=case, user=request.user), request, view=self
        )
        return paginator.get_paginated_response(render_many(s.CaseEventSerializer, page or []))


class CaseTransitionView(APIView):
    @extend_schema(
        tags=["cases"],
        operation_id="cases_transition",
        parameters=[
            REFERENCE,
            OpenApiParameter(
                "action",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=[str(a.value) for a in USER_ACTIONS],
                description="approve_transfer_out {contribution_months, personal_account_balance, "
                "deemed_months?, interest?, no_arrears?, stopped_at_source_on?}; "
                "request_materials {missing_materials, repeat_reason (on a repeat)}; "
                "resubmit_materials; confirm_transfer_in; move_balance {amount}; "
                "pay_out_balance {amount}; reject {reason_code, note}; withdraw. Every body may "
                "carry a note.",
            ),
            IF_MATCH,
            ETAG,
        ],
        request=s.TransitionInputSerializer,
        responses=doc(
            {
                200: s.CaseDocumentSerializer,
                403: problem("You may never take this action on this case (`action_forbidden`)"),
                404: problem("No such case for you, or no such action (`unknown_action`)"),
                409: problem(
                    "Not possible in the current state (`transition_not_allowed`, with `state` and "
                    "`allowed_actions`), or lost a race (`stale_case`)",
                    CONFLICT_EXAMPLE,
                ),
                412: P412,
                **WRITE,
                **COMMON,
            }
        ),
    )
    def post(self, request: Request, reference: str, action: str) -> Response:
        """Move the case by an action."""
        # Visible or 404, by key and version only: the service reads the case once, locked.
        found = case_key_for(user=request.user, reference=reference)
        if found is None:
            raise NotFound(MSG_NO_SUCH_CASE)
        pk, version = found
        if action not in USER_ACTIONS:
            raise UnknownAction(action)
        body = s.TransitionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = case_transition(
            case=TransferCase(pk=pk),
            action=action,
            actor=request.user,
            payload=body.validated_data,
            expected_version=expected_version(request, current=version),
        )
        return _case_response(case, request)


class CaseAssignmentView(APIView):
    @extend_schema(
        tags=["cases"],
        parameters=[REFERENCE],
        request=s.AssignmentInputSerializer,
        responses=doc(
            {
                200: s.CaseDocumentSerializer,
                403: P403,
                404: P404,
                409: problem("The case is closed or waiting for the applicant"),
                **WRITE,
                **COMMON,
            }
        ),
    )
    def post(self, request: Request, reference: str) -> Response:
        """A caseworker takes a case of their agency (no body); a supervisor assigns it to a
        caseworker of the agency whose move it is (``assignee``), or clears it (null)."""
        case = _visible_case(request, reference)
        body = s.AssignmentInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "assignee" not in body.validated_data:
            assignee: User | None = request.user
        elif body.validated_data["assignee"] is None:
            assignee = None
        else:
            # A username nobody has is refused exactly like one of another agency (after the same
            # state and permission checks): the endpoint must not tell who has an account.
            assignee = User.objects.filter(
                username=body.validated_data["assignee"]
            ).first() or User(username="")
        case = case_assign(case=case, assignee=assignee, actor=request.user)
        return _case_response(case, request)
