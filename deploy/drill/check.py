"""The drill's checks that read the database: prints one JSON object.

Arguments: ``ACKNOWLEDGED``, a JSON file mapping each reference the load generator drove to the
actions the API acknowledged for it, in order (``submit`` first); ``COHORT``, a JSON file listing
the overdue cohorts' references (``cohort_refs.py``).

The object printed, which ``deploy/drill/drill.py`` turns into its figures and checks:

- ``lost_transitions``: references whose events do not begin with the acknowledged actions;
- ``unacknowledged_events``: references with more events than the API acknowledged;
- ``event_state_mismatch``: references where an event does not start in the state the previous
  one ended in, or the last does not end in the case's state;
- ``clock_mismatch``: references with an open stage clock while closed, or none (or two) while
  open;
- ``notifications``: the count of notification rows by ``kind/channel/status``;
- ``rows``: every notification as ``[dedup_key, kind, channel, status]``;
- ``cohort_clocks``, ``cohort_unflagged``: the cohorts' ``applied`` clocks, and how many of them
  no scan has flagged overdue;
- ``cohort_reminder_rows``: the cohorts' reminder notifications (due soon, overdue, escalation);
- ``cohort_clocks_without_overdue_reminder``: flagged cohort clocks with no overdue reminder;
- ``cases``, ``events``: the rows in the database.

Run by ``deploy/drill/drill.py`` (``Cluster.run_program("check", ACKNOWLEDGED, COHORT)``) once
everything has drained; ``DJANGO_SETTINGS_MODULE`` set and the project root on ``PYTHONPATH``.
Usage: ``python deploy/drill/check.py ACKNOWLEDGED COHORT``.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path
from typing import Any

import django

# Events that are not a transition of the case's state.
NOT_STATE_EVENTS = ("assign",)
# State events that no API call asked for (the system's own).
SYSTEM_ACTIONS = ("deadline_recomputed", "complete_without_balance")
REMINDER_KINDS = ("overdue", "due_soon", "escalation")


def transitions(acknowledged: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every case's events against its state, its open clocks and the acknowledged actions."""
    from cases.models import CaseEvent, TransferCase
    from cases.states import OPEN_STATES
    from workflow.models import StageClock

    out: dict[str, list[str]] = {
        "lost_transitions": [],
        "unacknowledged_events": [],
        "event_state_mismatch": [],
        "clock_mismatch": [],
    }
    events: collections.defaultdict[int, list[tuple[str, str, str]]] = collections.defaultdict(list)
    for case_id, action, frm, to in CaseEvent.objects.order_by("id").values_list(
        "case_id", "action", "from_state", "to_state"
    ):
        events[case_id].append((action, frm, to))
    open_clocks = collections.Counter(
        StageClock.objects.filter(completed_at__isnull=True).values_list("case_id", flat=True)
    )
    for case in TransferCase.objects.only("id", "reference", "state"):
        state_events = [e for e in events[case.pk] if e[0] not in NOT_STATE_EVENTS]
        prev = ""
        for action, frm, to in state_events:
            if action == "deadline_recomputed":
                continue
            if frm != prev and not (prev == "" and action == "submit"):
                out["event_state_mismatch"].append(case.reference)
            prev = to
        if prev != case.state:
            out["event_state_mismatch"].append(case.reference)
        expected_open = 1 if case.state in OPEN_STATES else 0
        if open_clocks[case.pk] != expected_open:
            out["clock_mismatch"].append(case.reference)
        if case.reference in acknowledged:
            actions = [a for a, _, _ in state_events if a not in SYSTEM_ACTIONS]
            ack = acknowledged[case.reference]
            if actions[: len(ack)] != ack:
                out["lost_transitions"].append(case.reference)
            elif len(actions) > len(ack):
                out["unacknowledged_events"].append(case.reference)
    return out


def notifications(cohort_refs: set[str]) -> dict[str, Any]:
    """The notification rows, and the cohorts' clocks against their reminders."""
    from notifications.models import Notification
    from workflow.models import StageClock

    rows = list(
        Notification.objects.values_list("dedup_key", "kind", "channel", "status", "subject_ref")
    )
    out: dict[str, Any] = {
        "notifications": collections.Counter(f"{k}/{c}/{s}" for _, k, c, s, _ in rows),
        "rows": [[d, k, c, s] for d, k, c, s, _ in rows],
    }
    cohort_clocks = StageClock.objects.filter(case__reference__in=cohort_refs, stage="applied")
    out["cohort_clocks"] = cohort_clocks.count()
    out["cohort_unflagged"] = cohort_clocks.filter(breached_at__isnull=True).count()
    reminder_keys = {d for d, k, _, _, ref in rows if k in REMINDER_KINDS and ref in cohort_refs}
    out["cohort_reminder_rows"] = len(reminder_keys)
    flagged = set(cohort_clocks.filter(breached_at__isnull=False).values_list("id", flat=True))
    # An overdue reminder's dedup key is "overdue:<clock id>:...".
    with_overdue = {int(d.split(":")[1]) for d in reminder_keys if d.startswith("overdue:")}
    out["cohort_clocks_without_overdue_reminder"] = len(flagged - with_overdue)
    return out


def check(acknowledged: dict[str, list[str]], cohort_refs: set[str]) -> dict[str, Any]:
    """Everything the drill reads from the database, as described in the module docstring."""
    from cases.models import CaseEvent, TransferCase

    out: dict[str, Any] = {**transitions(acknowledged), **notifications(cohort_refs)}
    out["cases"] = TransferCase.objects.count()
    out["events"] = CaseEvent.objects.count()
    return out


def main(argv: list[str]) -> int:
    """``argv``: the arguments after the program name, ``[ACKNOWLEDGED, COHORT]``."""
    if len(argv) != 2:
        print("usage: check.py ACKNOWLEDGED COHORT", file=sys.stderr)
        return 2
    acknowledged = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    cohort_refs = set(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
    django.setup()
    print(json.dumps(check(acknowledged, cohort_refs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
