"""The applicant's step indicator (申请 -> 转出 -> 转入 -> 划转): what each step is, whether it is
done (and when), running (and when it is due) or still to come. Built from the case document's read
model (cases.presenters) and the timeline; it decides nothing about the case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from django.utils.translation import gettext_lazy as _

from cases.models import CaseEvent
from cases.presenters import CaseView, StatusView
from cases.states import Action, CaseState

DONE: Final = "done"
CURRENT: Final = "current"
TODO: Final = "todo"
STOPPED: Final = "stopped"

# Each step and the actions that complete it.
_STEPS: Final = (
    ("apply", _("Apply"), (Action.SUBMIT,)),
    ("out", _("Transfer out"), (Action.APPROVE_TRANSFER_OUT,)),
    ("in", _("Transfer in"), (Action.CONFIRM_TRANSFER_IN,)),
    (
        "balance",
        _("Balance"),
        (Action.MOVE_BALANCE, Action.PAY_OUT_BALANCE, Action.COMPLETE_WITHOUT_BALANCE),
    ),
)
# A merge's words for the same steps (cancel where a transfer says out, keep where it says in).
_MERGE_LABELS: Final = {"out": _("Cancel the other"), "in": _("Keep this one")}
# The step whose clock runs in each open state.
_CURRENT: Final = {
    CaseState.APPLIED: "out",
    CaseState.MATERIALS_REQUESTED: "out",
    CaseState.TRANSFER_OUT_APPROVED: "in",
    CaseState.TRANSFER_IN_CONFIRMED: "balance",
}
STATUS_WORDS: Final = {
    DONE: _("done"),
    CURRENT: _("in progress"),
    TODO: _("to come"),
    STOPPED: _("stopped"),
}


@dataclass(frozen=True, slots=True)
class StepDone:
    """An action and when it happened: a timeline event, or a stage clock closed by it."""

    action: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    label: str
    status: str
    done_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    provisional: bool = False

    @property
    def status_words(self) -> str:
        return str(STATUS_WORDS[self.status])


def progress_steps(
    view: CaseView | StatusView, events: Iterable[CaseEvent | StepDone] = ()
) -> list[Step]:
    """The four steps of ``view``'s case; ``events`` (the timeline) give the dates done. The
    anonymous status page passes none: it shows which step, not when each happened."""
    case = view.case
    done_at: dict[str, dt.datetime] = {}
    for event in events:
        for key, _label, actions in _STEPS:
            if event.action in actions and key not in done_at:
                done_at[key] = event.at
    if "apply" not in done_at:
        done_at["apply"] = case.created_at
    # A merge into the target's account, or a move with no balance, completes on confirmation.
    if case.state == CaseState.BALANCE_MOVED and "balance" not in done_at:
        done_at["balance"] = case.closed_at or case.updated_at
    current = _CURRENT.get(CaseState(case.state))
    stopped = case.state in (CaseState.REJECTED, CaseState.WITHDRAWN)
    keys = [key for key, _label, _actions in _STEPS]
    # Steps before the running one are done, whether or not the timeline was passed in.
    done = set(keys[: keys.index(current)]) if current else set(done_at)
    if case.state == CaseState.BALANCE_MOVED:
        done = set(keys)
    steps: list[Step] = []
    for key, label, _actions in _STEPS:
        if case.kind == "merge":
            label = _MERGE_LABELS.get(key, label)
        if key == current:
            stage = view.stage
            steps.append(
                Step(
                    key,
                    str(label),
                    CURRENT,
                    due_at=stage.due_at if stage else None,
                    provisional=bool(stage and stage.provisional),
                )
            )
        elif key in done:
            steps.append(Step(key, str(label), DONE, done_at=done_at.get(key)))
        else:
            steps.append(Step(key, str(label), STOPPED if stopped else TODO))
    return steps
