"""Accounts: applicants, agency staff, platform service accounts and administrators."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.identity import NAME_MAX_LENGTH, id_number_digest, id_number_encrypt, id_number_mask


class Role(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    CASEWORKER = "caseworker", _("Caseworker")
    SUPERVISOR = "supervisor", _("Supervisor")
    PLATFORM = "platform", _("Platform account")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = frozenset({Role.CASEWORKER, Role.SUPERVISOR})
AGENCY_ROLES = frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.PLATFORM})


class AccountManager(UserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        # ``createsuperuser`` knows nothing of roles; a superuser is an administrator.
        extra.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """A person or a service account.

    Applicants carry their verified name and ID number (encrypted; the digest finds their cases).
    Staff and platform accounts carry their agency; ``province_wide`` widens a supervisor's view or a
    provincial platform's reach to every agency of the agency's province.
    """

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.APPLICANT)
    real_name = models.CharField(_("real name"), max_length=NAME_MAX_LENGTH, blank=True)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), blank=True, editable=False)
    id_number_digest = models.CharField(
        _("ID number digest"), max_length=64, blank=True, db_index=True, editable=False
    )
    id_number_masked = models.CharField(
        _("ID number (masked)"), max_length=18, blank=True, editable=False
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("agency"),
    )
    province_wide = models.BooleanField(_("province-wide"), default=False)

    objects = AccountManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="agency_roles_have_agency",
                condition=~Q(role__in=[Role.CASEWORKER, Role.SUPERVISOR, Role.PLATFORM])
                | Q(agency__isnull=False),
            ),
            models.CheckConstraint(
                name="applicants_have_id_number",
                condition=~Q(role=Role.APPLICANT) | ~Q(id_number_digest=""),
            ),
        ]

    def __str__(self) -> str:
        # A person is named by their name where the account has one (pages, the admin's fields).
        return self.real_name or self.username

    def set_id_number(self, number: str) -> None:
        self.id_number_encrypted = id_number_encrypt(number)
        self.id_number_digest = id_number_digest(number)
        self.id_number_masked = id_number_mask(number)
