"""What a case service refuses, with a stable machine-readable code and a clear message.

The generic errors (``DomainError``, ``InvalidInput``) are ``core.errors``; these are about cases.
The API maps each class to one HTTP status and a problem-details body; the admin shows the message.
Messages are module constants so tests can reuse them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cases.states import Action, CaseState, choice_label
from core.errors import DomainError

MSG_TRANSITION_NOT_ALLOWED = _("The case is {state}; {action} is not possible now.")
MSG_ACTION_FORBIDDEN = _("You may not {action} this case.")
MSG_STALE_CASE = _("The case was changed by someone else; reload it and try again.")
MSG_UNKNOWN_ACTION = _("There is no action called {action}.")
MSG_DUPLICATE_OPEN_CASE = _(
    "This person already has an open transfer case for this insurance type ({reference})."
)
# The same refusal to a caller who may not see that case: it exists, nothing more (quality.md R15).
MSG_DUPLICATE_OPEN_CASE_UNSEEN = _(
    "This person already has an open transfer case for this insurance type."
)
MSG_NOT_ALLOWED_TO_SUBMIT = _("Your account may not submit transfer applications.")


class TransitionNotAllowed(DomainError):
    code = "transition_not_allowed"

    def __init__(self, *, state: str, action: str, allowed_actions: list[str]) -> None:
        super().__init__(
            str(MSG_TRANSITION_NOT_ALLOWED).format(
                state=choice_label(CaseState, state), action=choice_label(Action, action).lower()
            )
        )
        self.state = state
        self.action = action
        self.allowed_actions = allowed_actions


class UnknownAction(DomainError):
    code = "unknown_action"

    def __init__(self, action: str) -> None:
        super().__init__(str(MSG_UNKNOWN_ACTION).format(action=action))
        self.action = action


class ActionForbidden(DomainError):
    """The user may see the case but may never take this action on it."""

    code = "action_forbidden"

    def __init__(self, action: str, message: str = "") -> None:
        super().__init__(
            message or str(MSG_ACTION_FORBIDDEN).format(action=choice_label(Action, action).lower())
        )
        self.action = action


class StaleCase(DomainError):
    """A concurrent change got there first, or the caller's ``If-Match`` is out of date."""

    code = "stale_case"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or str(MSG_STALE_CASE))
