"""The write limit for P4' (quality.md): a hand-written Django view doing a transition's writes.

``POST /bench/limit/<reference>/approve_transfer_out/`` does what
``POST /api/v1/cases/<reference>/transitions/approve_transfer_out/`` does to the database, with
raw SQL in one transaction, behind the same middleware and the same JWT authentication (the API's
``api.authentication.JWTAuthentication``, which loads the user): lock the case (with what the notifications need:
the applicant's account, the agencies' webhooks and the transfer-in window), update its state and
version, close the open clock and open the next one (deadline from the same cached working-day
calendar), add to the day's stage tally, append the event, insert the notification rows, and send
their delivery tasks to the broker on commit (``notifications.services.notification_dispatch``,
the one function every writer uses). It answers with the case document's bytes as the API
rendered them once (``BENCH_BARE_BODY``), so neither side pays for more bytes than the other; it
builds no document and checks nothing the bench does not send (no If-Match, no payload rules but
the two fields' presence).

The shared tally row (every approval at one agency on one day adds to the same row) is written
last, just before the commit: its row lock is then held for one statement and the commit, the
least any transaction that keeps the roll-up exact can hold it.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

from accounts.permissions import user_acts_for
from agencies.policies import NATIONAL_TRANSFER_IN_DAYS
from api.authentication import JWTAuthentication
from cases.messages import APPLICANT_LANGUAGE, labels_in_languages, template_render
from cases.states import CaseKind, state_label
from notifications.services import notification_dispatch
from workflow.calendar import get_calendar, local_date
from workflow.services import clock_instants

_BODY = Path(os.environ.get("BENCH_BARE_BODY", "/nonexistent"))
_AUTH = JWTAuthentication()
# The state's name in both languages, as the API's notifications say it (read once).
_STATE_LABEL = labels_in_languages(state_label, "transfer_out_approved", CaseKind.TRANSFER)

LOCK_CASE = """
SELECT c.id, c.state, c.from_agency_id, c.to_agency_id, c.phone,
       a.id, a.email, fa.webhook_url, ta.webhook_url, ta.transfer_in_days, ta.escalation_days
FROM cases_transfercase c
JOIN agencies_agency fa ON fa.code = c.from_agency_id
JOIN agencies_agency ta ON ta.code = c.to_agency_id
LEFT JOIN LATERAL (
    SELECT u.id, u.email FROM accounts_user u
    WHERE u.id = c.applicant_id
       OR (c.applicant_id IS NULL AND u.role = 'applicant' AND u.is_active
           AND u.id_number_digest = c.id_number_digest)
    ORDER BY u.id LIMIT 1
) a ON true
WHERE c.reference = %s
FOR UPDATE OF c
"""

UPDATE_CASE = """
UPDATE cases_transfercase SET state = 'transfer_out_approved', version = version + 1,
    contribution_months = %s, deemed_months = 0, personal_account_balance = %s,
    interest = 0, no_arrears = true, assignee_id = NULL, updated_at = %s
WHERE id = %s
"""

CLOSE_CLOCK = """
UPDATE workflow_stageclock SET completed_at = %s, closed_by = 'approve_transfer_out'
WHERE case_id = %s AND completed_at IS NULL RETURNING stage, agency_id, due_at
"""

OPEN_CLOCK = """
INSERT INTO workflow_stageclock (case_id, stage, responsible, agency_id, window_days,
    started_at, due_at, completed_at, closed_by, provisional, warn_at, escalate_at)
VALUES (%s, 'transfer_out_approved', 'to_agency', %s, %s, %s, %s, NULL, '', %s, %s, %s)
"""

APPEND_EVENT = """
INSERT INTO cases_caseevent (case_id, action, from_state, to_state, actor_id, actor_role, at,
    note, reason_code, data)
VALUES (%s, 'approve_transfer_out', 'applied', 'transfer_out_approved', %s, %s, %s, '', '', %s)
RETURNING id
"""

ADD_TALLY = """
INSERT INTO workflow_stagetally (day, stage, agency_id, completed, on_time)
VALUES (%s, 'applied', %s, 1, %s)
ON CONFLICT (day, stage, agency_id) DO UPDATE SET completed = workflow_stagetally.completed + 1,
    on_time = workflow_stagetally.on_time + excluded.on_time
"""


def _forbidden(status: int, code: str) -> JsonResponse:
    return JsonResponse({"code": code}, status=status)


@csrf_exempt
def limit_transition(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    if request.method != "POST" or action != "approve_transfer_out":
        return _forbidden(405, "method_not_allowed")
    try:
        found = _AUTH.authenticate(request)
    except (InvalidToken, AuthenticationFailed):
        found = None
    if found is None:
        return _forbidden(401, "not_authenticated")
    user = found[0]
    body = json.loads(request.body)
    months = int(body["contribution_months"])
    balance = Decimal(body["personal_account_balance"])
    now = timezone.now()
    ids: list[int] = []
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(LOCK_CASE, [reference])
        row = cur.fetchone()
        if row is None:
            return _forbidden(404, "not_found")
        (
            case_id,
            state,
            from_agency,
            to_agency,
            phone,
            applicant_id,
            applicant_email,
            from_hook,
            to_hook,
            in_days,
            escalation_days,
        ) = row
        if not user_acts_for(user, from_agency):
            return _forbidden(403, "action_forbidden")
        if state != "applied":
            return _forbidden(409, "transition_not_allowed")
        cur.execute(UPDATE_CASE, [months, balance, now, case_id])
        cur.execute(CLOSE_CLOCK, [now, case_id])
        closed = cur.fetchone()
        window = min(NATIONAL_TRANSFER_IN_DAYS, in_days or NATIONAL_TRANSFER_IN_DAYS)
        calendar = get_calendar()
        deadline = calendar.deadline(now, window)
        instants = clock_instants(
            calendar=calendar,
            stage="transfer_out_approved",
            started_at=now,
            window=window,
            escalation_days=escalation_days,
        )
        cur.execute(
            OPEN_CLOCK,
            [
                case_id,
                to_agency,
                window,
                now,
                deadline.due_at,
                deadline.provisional,
                instants.warn_at,
                instants.escalate_at,
            ],
        )
        data = {"contribution_months": months, "personal_account_balance": str(balance)}
        cur.execute(
            APPEND_EVENT, [case_id, user.pk, user.role, now, json.dumps(data, ensure_ascii=False)]
        )
        event_id = cur.fetchone()[0]
        subject, text = template_render(
            "status_changed",
            context={"reference": reference, "state": _STATE_LABEL, "detail": ""},
            language=APPLICANT_LANGUAGE,
        )
        payload = {
            "case": reference,
            "event": event_id,
            "action": "approve_transfer_out",
            "from_state": "applied",
            "to_state": "transfer_out_approved",
            "at": now.isoformat(),
        }
        rows: list[tuple[str, str, int | None, str, dict]] = []
        key = f"status:{event_id}"
        if applicant_id is not None:
            rows.append((f"{key}:in_app", "in_app", applicant_id, "", payload))
            if applicant_email:
                rows.append((f"{key}:email", "email", applicant_id, applicant_email, payload))
        if phone:
            rows.append((f"{key}:sms", "sms", None, phone, payload))
        for code, hook in ((from_agency, from_hook), (to_agency, to_hook)):
            if hook:
                rows.append((f"{key}:webhook:{code}", "webhook", None, hook, payload))
        if rows:
            values = ", ".join(
                ["(%s, 'status_changed', %s, %s, %s, %s, %s, %s, %s, 'pending', 0, '', %s)"]
                * len(rows)
            )
            params: list[object] = []
            for dedup, channel, recipient, address, data_ in rows:
                params += [
                    dedup,
                    channel,
                    recipient,
                    address,
                    subject,
                    text,
                    json.dumps(data_, ensure_ascii=False),
                    reference,
                    now,
                ]
            cur.execute(
                "INSERT INTO notifications_notification (dedup_key, kind, channel, recipient_id, "  # noqa: S608 - placeholders only
                "address, subject, body, payload, subject_ref, status, attempts, last_error, "
                f"created_at) VALUES {values} ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                params,
            )
            ids = [r[0] for r in cur.fetchall()]
        if closed is not None and closed[1] is not None and closed[2] is not None:
            cur.execute(ADD_TALLY, [local_date(now), closed[1], int(now <= closed[2])])
        if ids:
            # The project's own dispatch (one delivery task per row), as every writer sends them.
            transaction.on_commit(lambda: notification_dispatch(ids=ids), robust=True)
    return HttpResponse(_BODY.read_bytes(), content_type="application/json")
