"""Domain errors every app raises: a stable machine-readable ``code`` and a clear message.

Each face maps them once: the API to problem details (api/exceptions.py), the admin to a message.
Messages are module constants so tests can reuse them. Errors about cases (a refused transition, a
stale version) live in ``cases.errors`` and derive from ``DomainError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MSG_INVALID_INPUT = _("The request has invalid fields.")

T = TypeVar("T")


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(str(message))
        self.message = message


class InvalidInput(DomainError):
    """Bad input: ``errors`` maps field names (dotted for nested ones) to messages."""

    code = "invalid"

    def __init__(
        self,
        errors: Mapping[str, Iterable[str]],
        *,
        code: str = "invalid",
        message: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message or str(MSG_INVALID_INPUT))
        self.errors = {field: [str(m) for m in msgs] for field, msgs in errors.items()}
        self.code = code
        # More members of the problem body (e.g. the local rules an application fails).
        self.extra = dict(extra or {})


class FieldErrors:
    """Collects field errors so a service reports all of them at once, then raises once.

    ``check(field, rule, value)`` runs one input rule (a function raising Django's
    ``ValidationError``) and returns its cleaned value, or None after recording the messages.
    """

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, []).append(str(message))

    def replace(self, field: str, message: Any) -> None:
        """This message instead of whatever the field had (a more specific reason)."""
        self.errors[field] = [str(message)]

    def check(self, field: str, rule: Callable[..., T], value: Any, **kwargs: Any) -> T | None:
        try:
            return rule(value, **kwargs)
        except ValidationError as exc:
            self.errors.setdefault(field, []).extend(str(m) for m in exc.messages)
            return None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, *, code: str = "invalid", message: str = "") -> None:
        if self.errors:
            raise InvalidInput(self.errors, code=code, message=message)
