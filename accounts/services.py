"""Writes to accounts. Every account is created here (the command, the demo, later an admin form)."""

from __future__ import annotations

import logging
from typing import Final

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from accounts.models import AGENCY_ROLES, STAFF_ROLES, Role, User
from agencies.models import Agency, AgencyLevel
from core.errors import InvalidInput
from core.identity import NAME_MAX_LENGTH, id_number_digest, id_number_validate, phone_validate

logger = logging.getLogger(__name__)

USERNAME_MAX_LENGTH: Final = User._meta.get_field("username").max_length
# Roles whose reach may cover a whole province: a provincial supervisor or platform.
PROVINCE_WIDE_ROLES: Final = frozenset({Role.SUPERVISOR, Role.PLATFORM})

MSG_ROLE: Final = gettext_lazy("Choose a role: {choices}.")
MSG_USERNAME_REQUIRED: Final = gettext_lazy("Enter a username.")
MSG_USERNAME_TOO_LONG: Final = gettext_lazy("A username has at most {limit} characters.")
MSG_USERNAME_TAKEN: Final = gettext_lazy("An account called {username} already exists.")
MSG_AGENCY_REQUIRED: Final = gettext_lazy("A {role} account belongs to an agency: give its code.")
MSG_AGENCY_UNKNOWN: Final = gettext_lazy(
    "There is no agency with code {code}; load the agency list first (manage.py load_agencies)."
)
MSG_AGENCY_NOT_ALLOWED: Final = gettext_lazy(
    "Only caseworker, supervisor and platform accounts belong to an agency."
)
MSG_PROVINCE_WIDE_ROLE: Final = gettext_lazy(
    "Only supervisor and platform accounts can be province-wide."
)
MSG_PROVINCE_WIDE_LEVEL: Final = gettext_lazy(
    "A province-wide account belongs to the provincial agency ({province_code}), not {code}."
)
MSG_NAME_REQUIRED: Final = gettext_lazy(
    "An applicant account carries the applicant's verified name."
)
MSG_NAME_TOO_LONG: Final = gettext_lazy("A name has at most {limit} characters.")
MSG_ID_NUMBER_REQUIRED: Final = gettext_lazy(
    "An applicant account carries the applicant's verified ID number."
)
MSG_ID_NUMBER_NOT_ALLOWED: Final = gettext_lazy("Only applicant accounts carry an ID number.")
MSG_ID_NUMBER_TAKEN: Final = gettext_lazy("An account for this ID number already exists.")


MSG_STAFF_NAME_REQUIRED: Final = gettext_lazy(
    "Caseworkers and supervisors need their name: colleagues and the timeline show it."
)


def staff_name_problems(*, role: str, real_name: str) -> list[str]:
    """Why a staff account's name will not do (empty when it will): caseworkers and supervisors
    are shown to colleagues and in timelines by the name people know them by, never an account
    name."""
    if role in STAFF_ROLES and not (real_name or "").strip():
        return [str(MSG_STAFF_NAME_REQUIRED)]
    return []


def province_wide_problems(*, role: str, agency: Agency | None, province_wide: bool) -> list[str]:
    """Why an account may not reach a whole province (empty when it may): only supervisors and
    platforms, and only at their province's own agency. One rule for this service and the admin."""
    if not province_wide:
        return []
    if role not in PROVINCE_WIDE_ROLES:
        return [str(MSG_PROVINCE_WIDE_ROLE)]
    if agency is not None and agency.level != AgencyLevel.PROVINCE:
        # Reach over a whole province is the provincial bureau's, not a city's.
        return [
            str(MSG_PROVINCE_WIDE_LEVEL).format(
                province_code=agency.province_code, code=agency.code
            )
        ]
    return []


def account_create(
    *,
    role: str,
    username: str,
    password: str | None = None,
    agency_code: str | None = None,
    name: str | None = None,
    id_number: str | None = None,
    phone: str = "",
    province_wide: bool = False,
) -> User:
    """Create an account, or raise ``InvalidInput`` naming every bad field and write nothing.

    - caseworker, supervisor, platform: need an existing agency; only supervisors and platforms may
      be ``province_wide``, and then at their province's agency (xx0000).
    - applicant: needs a name and a valid ID number, stored encrypted (with its digest and mask);
      one account per ID number.
    - admin: a Django superuser. Caseworkers and supervisors are ``is_staff`` to use the admin.

    ``password`` is checked against the configured validators; with ``None`` the account gets an
    unusable password (the caller generates one when the person should sign in with a password).
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    username = (username or "").strip()
    name = (name or "").strip()
    phone = (phone or "").strip()
    agency_code = (agency_code or "").strip()

    if role not in Role.values:
        add("role", str(MSG_ROLE).format(choices=", ".join(Role.values)))
    try:
        if not username:
            raise ValidationError(str(MSG_USERNAME_REQUIRED))
        if len(username) > USERNAME_MAX_LENGTH:
            raise ValidationError(str(MSG_USERNAME_TOO_LONG).format(limit=USERNAME_MAX_LENGTH))
        User.username_validator(username)
    except ValidationError as exc:
        errors.setdefault("username", []).extend(exc.messages)
    else:
        # Case-insensitive: "Admin" next to "admin" invites signing in to the wrong account.
        if User.objects.filter(username__iexact=username).exists():
            add("username", str(MSG_USERNAME_TAKEN).format(username=username))

    agency: Agency | None = None
    if role in AGENCY_ROLES:
        if not agency_code:
            add("agency_code", str(MSG_AGENCY_REQUIRED).format(role=role))
        else:
            agency = Agency.objects.filter(code=agency_code).first()
            if agency is None:
                add("agency_code", str(MSG_AGENCY_UNKNOWN).format(code=agency_code))
    elif agency_code:
        add("agency_code", str(MSG_AGENCY_NOT_ALLOWED))
    for message in province_wide_problems(role=role, agency=agency, province_wide=province_wide):
        add("province_wide", message)

    if len(name) > NAME_MAX_LENGTH:
        add("name", str(MSG_NAME_TOO_LONG).format(limit=NAME_MAX_LENGTH))
    clean_id_number = ""
    if role == Role.APPLICANT:
        if not name:
            add("name", str(MSG_NAME_REQUIRED))
        if not id_number:
            add("id_number", str(MSG_ID_NUMBER_REQUIRED))
        else:
            try:
                clean_id_number = id_number_validate(id_number)
            except ValidationError as exc:
                errors.setdefault("id_number", []).extend(exc.messages)
            else:
                if User.objects.filter(id_number_digest=id_number_digest(clean_id_number)).exists():
                    add("id_number", str(MSG_ID_NUMBER_TAKEN))
    elif id_number:
        add("id_number", str(MSG_ID_NUMBER_NOT_ALLOWED))
    try:
        phone = phone_validate(phone)
    except ValidationError as exc:
        errors.setdefault("phone", []).extend(exc.messages)

    user = User(
        username=username,
        role=role,
        real_name=name,
        phone=phone,
        agency=agency,
        province_wide=province_wide,
        is_staff=role in STAFF_ROLES or role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if clean_id_number:
        user.set_id_number(clean_id_number)
    if password is not None:
        # The validators compare the password with the user's attributes, so they see the user.
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors.setdefault("password", []).extend(exc.messages)
    if errors:
        raise InvalidInput(errors)

    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError as exc:
        if "username" not in str(exc):
            raise
        # Lost a race with another creation of the same username.
        raise InvalidInput(
            {"username": [str(MSG_USERNAME_TAKEN).format(username=username)]}
        ) from None
    logger.info("account created id=%s role=%s agency=%s", user.pk, role, agency_code or "-")
    return user
