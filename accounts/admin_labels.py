"""Third-party admin pages in the page's language: simplejwt's token blacklist labels its token
field with the bare field name ("Token"), a word no translation reaches."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


def third_party_admins_relabel() -> None:
    from rest_framework_simplejwt.token_blacklist.admin import BlacklistedTokenAdmin
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    if not admin.site.is_registered(BlacklistedToken):
        return

    class LabelledBlacklistedTokenAdmin(BlacklistedTokenAdmin):
        def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
            field = super().formfield_for_dbfield(db_field, request, **kwargs)
            if field is not None and db_field.name == "token":
                field.label = _("token")
            return field

    admin.site.unregister(BlacklistedToken)
    admin.site.register(BlacklistedToken, LabelledBlacklistedTokenAdmin)
