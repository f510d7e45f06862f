"""OpenAPI documentation shared by the views: problem responses, headers, examples."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from api import serializers as s
from core.problems import PROBLEM_CONTENT_TYPE


def problem(description: str, *examples: OpenApiExample) -> OpenApiResponse:
    return OpenApiResponse(s.ProblemSerializer, description=description, examples=list(examples))


P400 = problem("Invalid input: `errors` maps fields to messages (code `invalid` or a specific one)")
P401 = problem("Not signed in, or the token is not valid")
P403 = problem("Signed in but not allowed")
P404 = problem("No such resource, or one you may not see")
P405 = problem("Method not allowed")
P409_IDEMPOTENCY = problem("Idempotency-Key reused with another body (`idempotency_key_reused`)")
P412 = problem("`If-Match` is stale (code `stale_case`)")
P413 = problem("Body larger than the limit (code `request_too_large`)")
P415 = problem("Not JSON (code `unsupported_media_type`)")
P429 = problem("Throttled or locked out (codes `throttled`, `login_locked_out`)")
P503 = problem("Database unavailable (code `service_unavailable`)")

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
        "reference": "YB2026112300000042",
        "state": "applied",
        "state_label": "已申请（转出地审核中）",
        "version": 1,
        "kind": "transfer",
        "mode": "standard",
        "main_basis": "",
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
        "expected_completion_provisional": False,
        "continuity": {
            "gap_months": 0,
            "overlap_months": 0,
            "waiting_months": 0,
            "advice_code": "continuous",
            "advice": "参保连续：没有需要补缴的中断期。",
        },
        "findings": [],
        "stopped_at_source_on": "2026-10-31",
        "enrolled_at_target_on": "2026-11-01",
        "personal_account_balance": None,
        "contribution_months": None,
        "target_insurance_type": "employee",
        "information_form": None,
        "balance_outcome": None,
        "missing_materials": [],
        "materials_requests": {"count": 0, "repeat": False},
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
MERGE_SUBMIT_EXAMPLE = OpenApiExample(
    "A merge: keep the relationship at Changsha, cancel the one at Shenzhen",
    value={
        "kind": "merge",
        "insurance_type": "employee",
        "from_agency": "440300",
        "to_agency": "430100",
        "channel": "window",
        "applicant": {"name": "张三", "id_number": "11010519491231002X", "phone": "13812345678"},
        "enrolled_at_source_since": "2019-03-01",
        "enrolled_at_target_on": "2026-09-01",
        "main_relationship_confirmed": True,
    },
    request_only=True,
)
INSTANT_SUBMIT_EXAMPLE = OpenApiExample(
    "Instant mode (Hunan): the provincial system's figures, completed at once",
    value={
        "insurance_type": "employee",
        "from_agency": "430200",
        "to_agency": "430100",
        "channel": "auto",
        "applicant": {"name": "张三", "id_number": "11010519491231002X"},
        "stopped_at_source_on": "2026-10-31",
        "enrolled_at_target_on": "2026-11-01",
        "contribution_months": 96,
        "personal_account_balance": "3210.50",
        "interest": "12.30",
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


def doc(responses: dict[Any, Any]) -> dict[Any, Any]:
    """Error responses are documented as ``application/problem+json``; a key that is already a
    (status, media type) pair is kept as it is."""
    return {
        (code, PROBLEM_CONTENT_TYPE) if isinstance(code, int) and code >= 400 else code: response
        for code, response in responses.items()
    }
