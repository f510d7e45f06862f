"""Who may act: the one place that answers "may this user see / act for this agency or person".

Every face (the REST API, the admin, the pages to come) and the state machine's permission
functions (``cases.models``) call these; none of them compares roles itself. The functions take
agency codes and ID-number digests, not cases, so this layer knows nothing about cases: the case
selectors turn a ``Reach`` into a query, the FSM passes a case's agency codes.

Rules (domain.md, "Who does what"):
- An **applicant** reaches the cases whose ID number is their own (by keyed digest).
- **Caseworkers and supervisors** act for their agency (a province-wide supervisor: every agency of
  its province); they see a case when an agency they act for is either side of it.
- A **platform** (service) account reaches the cases of its agency (or province) and may only credit
  the balance at the transfer-in side.
- **Administrators** (the ``admin`` role or a superuser) see everything and act on nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import AGENCY_ROLES, STAFF_ROLES, Role, User

# Roles that may submit an application: the applicant for themselves, the others on their behalf.
ON_BEHALF_ROLES = frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.PLATFORM})
SUBMIT_ROLES = ON_BEHALF_ROLES | {Role.APPLICANT}


def _role(user: Any) -> str | None:
    return getattr(user, "role", None)


def _signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_administrator(user: Any) -> bool:
    """May manage accounts and agencies (and read every case): a superuser or an ``admin``."""
    return _signed_in(user) and (bool(user.is_superuser) or _role(user) == Role.ADMIN)


def is_staff_administrator(user: Any) -> bool:
    """An administrator who may use the admin site (``is_staff``)."""
    return is_administrator(user) and user.is_staff


def is_case_staff(user: Any) -> bool:
    """May use the case screens of the admin: agency staff and administrators."""
    return is_staff_administrator(user) or (
        _signed_in(user) and user.is_staff and _role(user) in STAFF_ROLES
    )


def user_may_use_desk(user: Any) -> bool:
    """May work in the staff workbench: a caseworker or supervisor of an agency, or an
    administrator (the admin site's ``is_staff`` flag is not needed: the workbench is not it)."""
    return is_administrator(user) or (
        _signed_in(user) and _role(user) in STAFF_ROLES and bool(getattr(user, "agency_id", None))
    )


def user_covers_agency(user: Any, agency_code: str | None) -> bool:
    """Whether this staff or platform account acts for the agency with ``agency_code``."""
    if not agency_code or _role(user) not in AGENCY_ROLES or not getattr(user, "agency_id", None):
        return False
    if user.agency_id == agency_code:
        return True
    return bool(user.province_wide) and user.agency_id[:2] == agency_code[:2]


def user_acts_for(user: Any, agency_code: str | None) -> bool:
    """A caseworker or supervisor of the agency (or of its province, when province-wide)."""
    return _role(user) in STAFF_ROLES and user_covers_agency(user, agency_code)


def user_owns(user: Any, id_number_digest: str) -> bool:
    """An applicant whose own ID number has this digest."""
    return bool(
        _role(user) == Role.APPLICANT
        and getattr(user, "id_number_digest", "")
        and user.id_number_digest == id_number_digest
    )


def user_may_credit_balance(user: Any, to_agency_code: str) -> bool:
    """The transfer-in caseworker, or the fund system's service account (a platform account)
    bound to the transfer-in agency: the only move domain.md gives a service account."""
    return user_acts_for(user, to_agency_code) or (
        _role(user) == Role.PLATFORM and user_covers_agency(user, to_agency_code)
    )


def user_is_applicant(user: Any) -> bool:
    return _role(user) == Role.APPLICANT


def user_may_submit(user: Any) -> bool:
    return _role(user) in SUBMIT_ROLES


def user_submits_on_behalf(user: Any) -> bool:
    """Staff and platform accounts apply for someone else; an applicant only for themselves."""
    return _role(user) in ON_BEHALF_ROLES


def user_may_submit_at(user: Any, agency_codes: list[str]) -> bool:
    """On someone's behalf only at a window of one of the user's own agencies."""
    return any(user_covers_agency(user, code) for code in agency_codes if code)


def user_may_submit_automatically(user: Any) -> bool:
    """免申转: only the provincial platform's account starts a transfer on the person's behalf
    (channel ``auto``); a person or a window never does."""
    return _role(user) == Role.PLATFORM


def user_may_supply_figures(user: Any) -> bool:
    """Brings the information form's figures with an instant-mode submission (from the provincial
    system): a platform account or an agency's staff, never the applicant."""
    return _role(user) in ON_BEHALF_ROLES


# --- assignment ----------------------------------------------------------------------------------


def user_may_take(user: Any, agency_code: str | None) -> bool:
    """A caseworker of the agency whose move it is may take the case for themselves."""
    return _role(user) == Role.CASEWORKER and bool(agency_code) and user.agency_id == agency_code


def user_may_take_from(user: Any, agency_code: str | None, holder: Any) -> bool:
    """A caseworker may take a case nobody (or nobody who may still hold it) holds: a case a
    colleague of the agency holds is handed on by a supervisor, not taken."""
    if not user_may_take(user, agency_code):
        return False
    if holder is None or holder.pk == user.pk:
        return True
    return not assignee_eligible(holder, agency_code)


def user_may_assign(user: Any, agency_code: str | None) -> bool:
    """A supervisor over the agency whose move it is assigns its cases to anyone of it."""
    return _role(user) == Role.SUPERVISOR and user_covers_agency(user, agency_code)


def assignee_eligible(assignee: Any, agency_code: str | None) -> bool:
    """Who may hold a case: an active caseworker or supervisor of the agency whose move it is."""
    return bool(
        assignee is not None
        and assignee.is_active
        and _role(assignee) in STAFF_ROLES
        and agency_code
        and assignee.agency_id == agency_code
    )


def assignees_for(agency_code: str) -> QuerySet[User]:
    """Everyone ``assignee_eligible`` for the agency's cases, as a query (the assign form)."""
    return User.objects.filter(is_active=True, role__in=STAFF_ROLES, agency_id=agency_code)


def assignees_within(user: Any) -> QuerySet[User]:
    """Everyone a supervisor may hand cases to: the staff of their agency (of their province,
    province-wide). Each assignment is still checked by ``assignee_eligible`` for its case."""
    reach = _agency_reach(user) if _role(user) == Role.SUPERVISOR else None
    if reach is None:
        return User.objects.none()
    staff = User.objects.filter(is_active=True, role__in=STAFF_ROLES)
    if reach.province:
        return staff.filter(agency_id__startswith=reach.province)
    return staff.filter(agency_id=reach.agency_code)


def user_may_edit_windows(user: Any, agency_code: str) -> bool:
    """A supervisor may shorten their own agency's windows and edit its eligibility rules
    (``agencies.models.AgencyRule``); administrators edit every agency's."""
    return is_staff_administrator(user) or (
        _role(user) == Role.SUPERVISOR and getattr(user, "agency_id", None) == agency_code
    )


# --- reach: what a user may see, as data the selectors turn into queries -------------------------


@dataclass(frozen=True, slots=True)
class Reach:
    """The cases a user may see. Exactly one of: ``everything``; the person with
    ``id_number_digest``; the agency ``agency_code``; every agency of ``province``."""

    everything: bool = False
    id_number_digest: str = ""
    agency_code: str = ""
    province: str = ""


def user_reach(user: Any) -> Reach | None:
    """What ``user`` may see, or None for nothing at all."""
    if not _signed_in(user):
        return None
    if is_administrator(user):
        return Reach(everything=True)
    if _role(user) == Role.APPLICANT:
        digest = getattr(user, "id_number_digest", "")
        return Reach(id_number_digest=digest) if digest else None
    if _role(user) in AGENCY_ROLES:
        return _agency_reach(user)
    return None


def _agency_reach(user: Any) -> Reach | None:
    """The agency a staff or platform account belongs to, or its whole province when it is
    province-wide; None without an agency."""
    if not getattr(user, "agency_id", None):
        return None
    if user.province_wide:
        return Reach(province=user.agency_id[:2])
    return Reach(agency_code=user.agency_id)


def user_side_reach(user: Any) -> Reach | None:
    """For "my agency's side" filters: the agency (or province) a staff or platform account acts
    for; None for anybody else."""
    return _agency_reach(user) if _role(user) in AGENCY_ROLES else None


def user_supervises(user: Any) -> Reach | None:
    """The agencies whose SLA figures ``user`` may read: a supervisor's agency (or province);
    administrators every one; None for anybody else."""
    if not _signed_in(user):
        return None
    if is_administrator(user):
        return Reach(everything=True)
    return _agency_reach(user) if _role(user) == Role.SUPERVISOR else None


def user_settlement_reach(user: Any) -> Reach | None:
    """The agencies whose funds' settlement items ``user`` may read: a supervisor's or a platform
    account's agency (or province); administrators every one; None for anybody else."""
    if not _signed_in(user):
        return None
    if is_administrator(user):
        return Reach(everything=True)
    return _agency_reach(user) if _role(user) in (Role.SUPERVISOR, Role.PLATFORM) else None


def user_may_settle(user: Any, payee_code: str) -> bool:
    """Marks a statement settled: a supervisor or the platform account of the fund that is owed
    (it confirms the money arrived), or of its province's own bureau (which runs the settlement
    between the province's funds); an administrator. Never the paying fund's own people, even
    province-wide ones."""
    if is_administrator(user):
        return True
    if _role(user) not in (Role.SUPERVISOR, Role.PLATFORM) or not payee_code:
        return False
    agency = getattr(user, "agency_id", None) or ""
    return agency == payee_code or (bool(user.province_wide) and agency == payee_code[:2] + "0000")


def user_may_see_sla_stats(user: Any) -> bool:
    return user_supervises(user) is not None


# --- who is told: the staff an agency's alerts go to ----------------------------------------------


def caseworkers_of(agency_codes: set[str]) -> QuerySet[User]:
    """Active caseworkers of these agencies (the queue's people: due-soon, overdue, digest)."""
    return User.objects.filter(is_active=True, role=Role.CASEWORKER, agency_id__in=agency_codes)


def supervisors_over(*, agency_codes: set[str], provinces: set[str]) -> QuerySet[User]:
    """Active supervisors of these agencies, and the province-wide ones of these provinces (which
    of the agencies each one is over: ``user_covers_agency``)."""
    return User.objects.filter(is_active=True, role=Role.SUPERVISOR).filter(
        Q(agency_id__in=agency_codes) | Q(province_wide=True, agency__province_code__in=provinces)
    )


def assignee_counts(*, assignee_agency_id: str | None, active: bool, agency_code: str) -> bool:
    """An assignee is told (instead of the whole agency) only while they are an active member of
    the agency whose stage it is: one left over from the other side's stage cannot act."""
    return bool(active and assignee_agency_id == agency_code)
