"""django-axes (sign-in lock-outs) as administrators read it in the admin.

The package calls itself "Axes" (a word no translation reaches), titles its rows in English
("Access Log for ... @ ...") and shows the browsers' own identification strings and paths as if
they were labels. INSTALLED_APPS names this class instead of "axes": the app gets a name people
read, its rows a title in the page's language, and the machine data is marked as such.
"""

from __future__ import annotations

from typing import Any

from axes.apps import AppConfig as AxesAppConfig
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


def _code(value: Any) -> str:
    """Machine data (a browser's identification, a path) as the literal text it is."""
    return format_html('<code lang="en" translate="no">{}</code>', value or "")


def _title(obj: Any) -> str:
    when = timezone.localtime(obj.attempt_time).strftime("%Y-%m-%d %H:%M")
    return f"{obj.username or _('unknown account')} {when}"


class AxesConfig(AxesAppConfig):
    verbose_name = _("Login protection")

    def ready(self) -> None:
        super().ready()
        from axes import admin as axes_admin
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog
        from django.contrib import admin

        for model, base in (
            (AccessAttempt, axes_admin.AccessAttemptAdmin),
            (AccessLog, axes_admin.AccessLogAdmin),
            (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
        ):
            model.__str__ = _title  # type: ignore[method-assign]
            if not admin.site.is_registered(model):
                continue
            admin.site.unregister(model)
            admin.site.register(model, _marked(base))


def _marked(base: type) -> type:
    """``base`` with the user agent and the path shown as machine data."""

    def swap(names: Any) -> list[str]:
        codes = {
            "user_agent": "user_agent_code",
            "path_info": "path_code",
            "http_accept": "accept_code",
        }
        return [codes.get(n, n) for n in names]

    class Marked(base):  # type: ignore[misc, valid-type]
        list_display = swap(base.list_display)
        # Paths are code, not choices a person reads.
        list_filter = [f for f in base.list_filter if f != "path_info"]
        readonly_fields = [
            *swap(base.readonly_fields),
            "user_agent_code",
            "path_code",
            "accept_code",
        ]
        fieldsets = tuple(
            (title, {**opts, "fields": tuple(swap(opts["fields"]))})
            for title, opts in base.fieldsets
        )

        @staticmethod
        def user_agent_code(obj: Any) -> str:
            return _code(obj.user_agent)

        @staticmethod
        def path_code(obj: Any) -> str:
            return _code(obj.path_info)

        @staticmethod
        def accept_code(obj: Any) -> str:
            return _code(obj.http_accept)

    Marked.user_agent_code.short_description = _("User Agent")  # type: ignore[attr-defined]
    Marked.path_code.short_description = _("Path")  # type: ignore[attr-defined]
    Marked.accept_code.short_description = _("HTTP Accept")  # type: ignore[attr-defined]
    Marked.__name__ = base.__name__
    return Marked
