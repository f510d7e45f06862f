"""The admin for accounts: only administrators manage users, and nobody sees an ID number.

Access in this admin goes by ``User.role``, not by Django's per-model permission rows: agency staff
(caseworkers, supervisors) are ``is_staff`` and see the case screens, administrators (role ``admin``
or a superuser) manage accounts and agencies. Who is which is accounts/permissions.py.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import AGENCY_ROLES, Role, User
from accounts.permissions import is_staff_administrator
from accounts.services import province_wide_problems, staff_name_problems

MSG_AGENCY_REQUIRED = _("Caseworkers, supervisors and platform accounts belong to an agency.")
MSG_APPLICANT_NEEDS_ID = _(
    "An applicant account carries a verified ID number: applicants register themselves, or an "
    "operator creates them with the create_account command. Create staff accounts here."
)


class _RoleChecksMixin(forms.ModelForm):
    """The database refuses these combinations; say why in the form instead of a server error."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        role = cleaned.get("role")
        if role in AGENCY_ROLES and not cleaned.get("agency"):
            self.add_error("agency", MSG_AGENCY_REQUIRED)
        if role == Role.APPLICANT and not self.instance.id_number_digest:
            self.add_error("role", MSG_APPLICANT_NEEDS_ID)
        for message in staff_name_problems(role=role or "", real_name=cleaned.get("real_name", "")):
            self.add_error("real_name" if "real_name" in self.fields else None, message)
        for message in province_wide_problems(
            role=role or "",
            agency=cleaned.get("agency"),
            province_wide=bool(cleaned.get("province_wide")),
        ):
            self.add_error("province_wide" if "province_wide" in self.fields else None, message)
        return cleaned


class UserCreateForm(_RoleChecksMixin, AdminUserCreationForm):
    pass


class UserEditForm(_RoleChecksMixin, UserChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "password" in self.fields:
            # Django's summary of the stored hash, its machine data marked as such.
            self.fields["password"].widget.template_name = "accounts/read_only_password_hash.html"


# Roles, not groups, say what an account may do: the groups' page (a list of Django's per-model
# permission rows, in English) is not offered.
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Staff and administrator accounts. ID numbers appear masked and read-only, never otherwise."""

    form = UserEditForm
    add_form = UserCreateForm
    list_display = (
        "username",
        "real_name",
        "role",
        "agency",
        "province_wide",
        "id_number_masked",
        "is_staff",
        "is_active",
    )
    list_filter = ("role", "is_staff", "is_active", "province_wide")
    list_select_related = ("agency",)
    search_fields = ("username", "real_name", "email", "=agency__code")
    ordering = ("username",)
    readonly_fields = ("id_number_masked", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Personal info"),
            {
                "fields": (
                    "real_name",
                    "first_name",
                    "last_name",
                    "email",
                    "phone",
                    "id_number_masked",
                )
            },
        ),
        (_("Role and agency"), {"fields": ("role", "agency", "province_wide")}),
        # What an account may do is its role's (accounts.permissions), not Django's per-model
        # permission rows or groups: those are not offered.
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "usable_password",
                    "password1",
                    "password2",
                    "real_name",
                    "role",
                    "agency",
                    "province_wide",
                    "is_staff",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # An administrator role manages accounts but cannot mint superusers or grant rows.
            fields += ("is_superuser",)
        return fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff_administrator(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_staff_administrator(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_staff_administrator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not is_staff_administrator(request.user):
            return False
        # Changing a superuser (their password included) takes a superuser.
        return obj is None or not obj.is_superuser or request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)
