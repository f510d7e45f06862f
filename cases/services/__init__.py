"""Every write to a case goes through here, one module per topic.

Each service is one transaction that writes the state, the stage clocks, the audit event and the
notification rows together, or nothing. Views, admin actions, commands and tasks call these
functions; none of them writes a case directly. The names below are the package's public surface.
"""

from cases.services.assignment import AssignmentRefused, case_assign, cases_assign
from cases.services.deadlines import case_deadlines_recompute
from cases.services.events import SYSTEM_ROLE
from cases.services.housekeeping import idempotency_records_purge
from cases.services.submit import Applicant, case_submit
from cases.services.transitions import case_allowed_actions, case_transition

__all__ = [
    "SYSTEM_ROLE",
    "Applicant",
    "AssignmentRefused",
    "case_allowed_actions",
    "case_assign",
    "case_deadlines_recompute",
    "case_submit",
    "case_transition",
    "cases_assign",
    "idempotency_records_purge",
]
