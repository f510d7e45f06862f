"""One view per endpoint: validate with an input serializer, call one service or selector, answer
with the document it describes. Every error is raised and becomes problem details in
cases/api/exceptions.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.models import Role, User
from cases.api import serializers as s
from cases.api.exceptions import PROBLEM_CONTENT_TYPE, problem_body
from cases.api.idempotency import idempotent
from cases.api.pagination import Cursor
from cases.api.throttling import LoginThrottle, StatusLookupThrottle
from cases.documents import case_document, status_document
from cases.errors import ActionForbidden, UnknownAction
from cases.models import Agency, TransferCase
from cases.selectors import (
    case_action_ever_permitted,
    case_document_get_for,
    case_events,
    case_get_for,
    case_list_for,
    case_status_lookup,
    sla_stats,
)
from cases.services import Applicant, case_assign, case_submit, case_transition
from cases.states import USER_ACTIONS, Action
from notifications.models import Notification
from notifications.services import notification_mark_read, notifications_for
from workflow.calendar import SHANGHAI, local_date

# --- documentation helpers ------------------------------------------------------------------------


def _problem(description: str, *examples: OpenApiExample) -> OpenApiResponse:
    return OpenApiResponse(s.ProblemSerializer, description=description, examples=list(examples))


P400 = _problem(
    "Invalid input: `errors` maps fields to messages (code `invalid` or a specific one)"
)
P401 = _problem("Not signed in, or the token is not valid")
P403 = _problem("Signed in but not allowed")
P404 = _problem("No such resource, or one you may not see")
P405 = _problem("Method not allowed")
P409 = _problem("Conflict")
P412 = _problem("`If-Match` is stale (code `stale_case`)")
P413 = _problem("Body larger than the limit (code `request_too_large`)")
P415 = _problem("Not JSON (code `unsupported_media_type`)")
P429 = _problem("Throttled or locked out (codes `throttled`, `login_locked_out`)")
P503 = _problem("Database unavailable (code `service_unavailable`)")

COMMON = {401: P401, 405: P405, 429: P429, 503: P503}
WRITE = {400: P400, 413: P413, 415: P415}

ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description='Weak validator from the case version, e.g. W/"3"',
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag you read (W/"3" or "3"); a stale one gets 412 stale_case',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Same key and body within 24 h returns the first response and creates nothing; "
    "the same key with another body is a 409 (idempotency_key_reused).",
)
REFERENCE = OpenApiParameter("reference", OpenApiTypes.STR, OpenApiParameter.PATH)

CASE_EXAMPLE = OpenApiExample(
    "An employee case under transfer-out review",
    value={
        "reference": "YB2026112300042",
        "state": "applied",
        "state_label": "已申请（转出地审核中）",
        "version": 1,
        "insurance_type": "employee",
        "scope": "inter_province",
        "channel": "app",
        "from_agency": {"code": "440300", "name": "深圳市医疗保障局"},
        "to_agency": {"code": "430100", "name": "长沙市医疗保障局"},
        "applicant": {"name": "张*", "id_number": "110105********002X", "phone": "138****5678"},
        "stage": {
            "name": "applied",
            "label": "转出地审核",
            "responsible": "from_agency",
            "started_at": "2026-11-23T09:12:00+08:00",
            "due_at": "2026-12-07T23:59:59+08:00",
            "working_days_allowed": 10,
            "working_days_left": 10,
            "overdue": False,
            "overdue_since": None,
            "provisional": False,
        },
        "expected_completion_on": "2026-12-21",
        "continuity": {
            "gap_months": 0,
            "waiting_months": 0,
            "advice_code": "continuous",
            "advice": "参保连续：没有需要补缴的中断期。",
        },
        "stopped_at_source_on": "2026-10-31",
        "enrolled_at_target_on": "2026-11-01",
        "personal_account_balance": None,
        "contribution_months": None,
        "missing_materials": [],
        "reject_reason": None,
        "assignee": None,
        "next_actions": ["withdraw"],
        "created_at": "2026-11-23T09:12:00+08:00",
        "updated_at": "2026-11-23T09:12:00+08:00",
        "closed_at": None,
    },
    response_only=True,
)
SUBMIT_EXAMPLE = OpenApiExample(
    "A window submits on someone's behalf",
    value={
        "insurance_type": "employee",
        "from_agency": "440300",
        "to_agency": "430100",
        "channel": "window",
        "applicant": {"name": "张三", "id_number": "11010519491231002X", "phone": "13812345678"},
        "stopped_at_source_on": "2026-10-31",
        "enrolled_at_target_on": "2026-11-01",
        "note": "",
    },
    request_only=True,
)
CONFLICT_EXAMPLE = OpenApiExample(
    "transition_not_allowed",
    value={
        "type": "urn:yibao:problem:transition_not_allowed",
        "title": "冲突",
        "status": 409,
        "detail": "案件当前为已撤回；现在不能执行 approve_transfer_out。",
        "code": "transition_not_allowed",
        "state": "withdrawn",
        "state_label": "已撤回",
        "allowed_actions": [],
    },
    response_only=True,
    status_codes=["409"],
)


def doc(responses: dict[int, Any]) -> dict[Any, Any]:
    """Error responses are documented as ``application/problem+json``."""
    return {
        (code, PROBLEM_CONTENT_TYPE) if code >= 400 else code: response
        for code, response in responses.items()
    }


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
        raise NotFound(_("There is no case with this reference that you may see."))
    return case


def _case_response(case: TransferCase, request: Request, status_code: int = 200) -> Response:
    return Response(
        case_document(case, user=request.user),
        status=status_code,
        headers={"ETag": etag_for(case)},
    )


# --- authentication -------------------------------------------------------------------------------


class TokenView(TokenObtainPairView):
    """Sign in with username and password; get an access and a refresh token.

    Five failures for one username from one address lock that pair out for 15 minutes (429
    ``login_locked_out``); the endpoint is also throttled per address.
    """

    throttle_classes = [LoginThrottle]

    @extend_schema(
        tags=["auth"],
        responses=doc(
            {
                200: inline_serializer(
                    "TokenPair",
                    {"access": serializers.CharField(), "refresh": serializers.CharField()},
                ),
                400: P400,
                401: P401,
                415: P415,
                429: P429,
            }
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = _login_username(request.data)
        if username is not None and AxesProxyHandler.is_locked(
            request._request, get_credentials(username=username)
        ):
            return _locked_out()
        return super().post(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if response.status_code == 401:
            username = _login_username(self.request.data)
            if username is not None and AxesProxyHandler.is_locked(
                self.request._request, get_credentials(username=username)
            ):
                return _locked_out()
        return response


def _login_username(data: Any) -> str | None:
    """The username a sign-in names, or None when the body has none the database could hold (not
    an object, not a string, a NUL or a lone surrogate): the serializer then answers 400."""
    if not isinstance(data, dict):
        return None
    username = data.get("username", "")
    if isinstance(username, bool | dict | list) or username is None:
        return None
    username = str(username)  # a number is a username too, as the serializer reads it
    if "\x00" in username:
        return None
    try:
        username.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return username[:150]


def _locked_out() -> Response:
    return Response(
        problem_body(
            status=429,
            code="login_locked_out",
            detail=_(
                "Too many failed sign-ins for this account from your address; try again later."
            ),
        ),
        status=429,
        content_type="application/problem+json",
    )


class RefreshView(TokenRefreshView):
    """Exchange a refresh token for a new access token."""

    throttle_classes = [LoginThrottle]

    @extend_schema(
        tags=["auth"], responses=doc({200: OpenApiTypes.OBJECT, 400: P400, 401: P401, 429: P429})
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


# --- cases ----------------------------------------------------------------------------------------


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
        docs = [case_document(case, user=request.user, now=now) for case in page or []]
        return paginator.get_paginated_response(docs)

    @extend_schema(
        tags=["cases"],
        request=s.CaseSubmitInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses=doc(
            {
                201: OpenApiResponse(s.CaseDocumentSerializer, description="The new case"),
                403: P403,
                409: _problem(
                    "Idempotency-Key reused with another body (`idempotency_key_reused`)"
                ),
                **WRITE,
                **COMMON,
            }
        ),
        examples=[SUBMIT_EXAMPLE, CASE_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
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
            return 201, case_document(case, user=request.user), headers

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
            raise NotFound(_("There is no case with this reference that you may see."))
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
        return paginator.get_paginated_response(
            [
                {
                    "id": e.pk,
                    "action": e.action,
                    "action_label": str(Action(e.action).label)
                    if e.action in Action.values
                    else e.action,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "actor_role": e.actor_role,
                    "at": e.at.astimezone(SHANGHAI).isoformat(),
                    "note": e.note,
                    "reason_code": e.reason_code,
                    "data": e.data,
                }
                for e in page or []
            ]
        )


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
                description="approve_transfer_out {contribution_months, personal_account_balance}; "
                "request_materials {missing_materials}; resubmit_materials; confirm_transfer_in; "
                "move_balance {amount}; reject {reason_code, note}; withdraw. Every body may "
                "carry a note.",
            ),
            IF_MATCH,
            ETAG,
        ],
        request=s.TransitionInputSerializer,
        responses=doc(
            {
                200: s.CaseDocumentSerializer,
                403: _problem("You may never take this action on this case (`action_forbidden`)"),
                404: _problem("No such case for you, or no such action (`unknown_action`)"),
                409: _problem(
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
        case = _visible_case(request, reference)
        if action not in USER_ACTIONS:
            raise UnknownAction(action)
        body = s.TransitionInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if not case_action_ever_permitted(case=case, user=request.user, action=action):
            raise ActionForbidden(action)
        case = case_transition(
            case=case,
            action=action,
            actor=request.user,
            payload=body.validated_data,
            expected_version=expected_version(request, current=case.version),
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
                409: _problem("The case is closed or waiting for the applicant"),
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
            assignee = User.objects.filter(username=body.validated_data["assignee"]).first()
            if assignee is None:
                raise serializers.ValidationError({"assignee": [_("There is no such user.")]})
        case = case_assign(case=case, assignee=assignee, actor=request.user)
        return _case_response(case, request)


# --- anonymous status lookup ----------------------------------------------------------------------


class StatusLookupView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [StatusLookupThrottle]

    @extend_schema(
        tags=["status"],
        auth=[],
        request=s.StatusLookupInputSerializer,
        responses=doc(
            {
                200: s.StatusDocumentSerializer,
                404: _problem("No case matches the reference and the ID number suffix"),
                **WRITE,
                405: P405,
                429: P429,
                503: P503,
            }
        ),
    )
    def post(self, request: Request) -> Response:
        """Anonymous status by reference and the last 6 characters of the ID number: state,
        stage, due date, next step; nothing personal. Throttled per address."""
        body = s.StatusLookupInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = case_status_lookup(**body.validated_data)
        if case is None:
            raise NotFound(_("No case matches this reference and ID number suffix."))
        return Response(status_document(case))


# --- agencies -------------------------------------------------------------------------------------


def _agency_document(agency: Agency) -> dict[str, Any]:
    return {
        "code": agency.code,
        "name": agency.name,
        "province_code": agency.province_code,
        "province_name": agency.province_name,
        "level": agency.level,
        "is_active": agency.is_active,
        "balance_policy": agency.balance_policy,
        "windows": {
            "transfer_out_days": agency.transfer_out_days,
            "transfer_in_days": agency.transfer_in_days,
            "balance_days": agency.balance_days,
        },
    }


class AgencyListView(APIView):
    permission_classes = [AllowAny]
    pagination_class = Cursor
    cursor_ordering = ("code",)

    @extend_schema(
        tags=["agencies"],
        operation_id="agencies_list",
        auth=[],
        parameters=[s.AgencyQuerySerializer],
        responses=doc({200: s.AgencySerializer(many=True), 400: P400, 405: P405, 429: P429}),
    )
    def get(self, request: Request) -> Response:
        """Agencies with the working-day windows in force at each."""
        query = s.AgencyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        agencies = Agency.objects.all()
        if query.validated_data.get("province"):
            agencies = agencies.filter(code__startswith=query.validated_data["province"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(agencies, request, view=self)
        return paginator.get_paginated_response([_agency_document(a) for a in page or []])


class AgencyDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["agencies"],
        auth=[],
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=doc({200: s.AgencySerializer, 404: P404, 405: P405, 429: P429}),
    )
    def get(self, request: Request, code: str) -> Response:
        agency = None if "\x00" in code else Agency.objects.filter(code=code).first()
        if agency is None:
            raise NotFound(_("There is no agency with this code."))
        return Response(_agency_document(agency))


# --- statistics -----------------------------------------------------------------------------------


class SlaStatsView(APIView):
    @extend_schema(
        tags=["stats"],
        parameters=[s.SlaStatsQuerySerializer],
        responses=doc({200: s.SlaStatsSerializer, 400: P400, 403: P403, **COMMON}),
    )
    def get(self, request: Request) -> Response:
        """For supervisors: on-time rate of the stages completed in the range, and open and
        overdue counts now, per stage and agency of their agency (or province)."""
        if not (request.user.role in (Role.SUPERVISOR, Role.ADMIN) or request.user.is_superuser):
            raise PermissionDenied(_("Only supervisors see SLA statistics."))
        query = s.SlaStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        now = timezone.now()
        date_to = query.validated_data.get("date_to") or local_date(now)
        date_from = query.validated_data.get("date_from") or date_to - dt.timedelta(days=30)
        if date_from > date_to:
            raise serializers.ValidationError({"date_from": [_("date_from is after date_to.")]})
        stats = sla_stats(user=request.user, date_from=date_from, date_to=date_to, now=now)
        stats["date_from"] = date_from.isoformat()
        stats["date_to"] = date_to.isoformat()
        return Response(stats, status=status.HTTP_200_OK)


# --- notifications --------------------------------------------------------------------------------


def _notification_document(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "subject": n.subject,
        "body": n.body,
        "subject_ref": n.subject_ref,
        "created_at": n.created_at.astimezone(SHANGHAI).isoformat(),
        "read_at": n.read_at.astimezone(SHANGHAI).isoformat() if n.read_at else None,
    }


class NotificationListView(APIView):
    pagination_class = Cursor
    cursor_ordering = ("-created_at", "-id")

    @extend_schema(
        tags=["notifications"],
        operation_id="notifications_list",
        parameters=[s.NotificationQuerySerializer],
        responses=doc({200: s.NotificationSerializer(many=True), 400: P400, **COMMON}),
    )
    def get(self, request: Request) -> Response:
        """Your in-app notifications, newest first (``unread=true`` for the unread ones)."""
        query = s.NotificationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        inbox = notifications_for(user=request.user)
        if "unread" in query.validated_data:
            inbox = inbox.filter(read_at__isnull=query.validated_data["unread"] == "true")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(inbox, request, view=self)
        return paginator.get_paginated_response([_notification_document(n) for n in page or []])


class NotificationReadView(APIView):
    @extend_schema(
        tags=["notifications"],
        operation_id="notifications_read",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=None,
        responses=doc({200: s.NotificationSerializer, 404: P404, **COMMON}),
    )
    def post(self, request: Request, id: int) -> Response:
        """Mark one of your notifications read (again: no change). Anybody else's is a 404."""
        try:
            notification = notification_mark_read(
                notification=Notification.objects.get(pk=id), user=request.user
            )
        except Notification.DoesNotExist:
            raise NotFound(_("There is no such notification of yours.")) from None
        return Response(_notification_document(notification))
