"""The applicant pages (faces.md "Applicant pages"): views over the same selectors, presenters and
services as the API. No rule, permission or limit is written here a second time: the lookup and
sign-in are throttled by the API's own throttle classes, input rules come from ``cases.inputs``,
who may see or move a case is the selectors' and the state machine's answer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import is_staff_administrator, user_may_use_desk
from cases.downloads import attachment_response
from cases.errors import ActionForbidden, StaleCase, TransitionNotAllowed
from cases.inputs import MSG_NO_STATUS_MATCH
from cases.models import TransferCase
from cases.presenters import case_view, next_step, status_view
from cases.selectors import case_document_get_for, case_events, case_list_for, case_status_lookup
from cases.services import case_transition
from cases.services.attachments import (
    attachment_add,
    attachment_get,
    max_megabytes,
)
from cases.states import Action
from core.errors import DomainError, InvalidInput
from core.throttling import (
    MSG_THROTTLED,
    DocumentVerificationThrottle,
    LoginThrottle,
    StatusLookupThrottle,
    UploadThrottle,
)
from documents.downloads import document_response
from documents.pki import DocumentsUnavailable
from documents.services import (
    MSG_NO_SUCH_NUMBER,
    DocumentNotAvailable,
    document_issue,
    document_verify,
    documents_list,
)
from portal.context import LARGE_TEXT_COOKIE
from portal.forms import AttachmentForm, ConfirmForm, StatusLookupForm
from portal.progress import StepDone, progress_steps

LARGE_TEXT_MAX_AGE = 365 * 24 * 3600

MSG_CASE_MOVED = gettext_lazy(
    "The case has changed since you opened this page. Here is where it stands now."
)
MSG_NOT_POSSIBLE = gettext_lazy("This is not possible at the case's present stage.")
MSG_WITHDRAWN = gettext_lazy("Your application was withdrawn.")
MSG_RESUBMITTED = gettext_lazy(
    "Your materials were sent: the transfer-out agency is reviewing the application again."
)
MSG_UPLOADED = gettext_lazy("The file “{label}” was added.")
MSG_STAFF_ELSEWHERE = gettext_lazy(
    "These pages are for applicants. Agency staff work in the staff pages."
)


def _throttled(request: HttpRequest, throttle: Any) -> HttpResponse | None:
    """The API's throttle, counted in the same place: a page answer when it is exceeded."""
    if throttle.allow_request(request, None):
        return None
    wait = max(1, int(throttle.wait() or 1))
    message = str(MSG_THROTTLED).format(seconds=wait)
    response = render(request, "portal/throttled.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"form": StatusLookupForm()})


@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    """The lookup's answer. A wrong reference and a wrong suffix get the same answer."""
    if request.method == "GET":
        return redirect("portal:home")
    limited = _throttled(request, StatusLookupThrottle())
    if limited is not None:
        return limited
    form = StatusLookupForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/home.html", {"form": form}, status=400)
    case = case_status_lookup(**form.cleaned_data)
    if case is None:
        form.add_error(None, str(MSG_NO_STATUS_MATCH))
        return render(request, "portal/home.html", {"form": form}, status=404)
    # One query for every stage clock: the open one is the view's, and the closed ones say when
    # each step was done (closed_by is the action that completed it), so the page costs what the
    # API's answer does.
    clocks = list(case.clocks.order_by("started_at", "id"))
    case.open_clocks = [clock for clock in clocks if clock.completed_at is None]
    view = status_view(case)
    done = [StepDone(c.closed_by, c.completed_at) for c in clocks if c.completed_at and c.closed_by]
    return render(
        request, "portal/status.html", {"view": view, "steps": progress_steps(view, done)}
    )


class SignInView(auth_views.LoginView):
    """Username and password for now (docs/ARCHITECTURE.md says where the national platform's
    identity provider plugs in); sign-in is throttled per address like the API's token endpoint,
    and django-axes locks out repeated failures."""

    template_name = "portal/signin.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limited = _throttled(request, LoginThrottle())
        if limited is not None:
            return limited
        return super().post(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        """Where each person works: applicants their cases, agency staff the workbench's queue
        (the most urgent case first), administrators the admin."""
        return _home_of(self.request.user)


signout = auth_views.LogoutView.as_view(next_page="portal:home")


def _home_of(user: Any) -> str:
    if getattr(user, "role", None) == Role.APPLICANT:
        return reverse("portal:me")
    if user_may_use_desk(user) and not is_staff_administrator(user):
        return reverse("desk:queue")
    return reverse("admin:index")


def _applicant_only(request: HttpRequest) -> HttpResponse | None:
    if request.user.role != Role.APPLICANT:
        messages.info(request, str(MSG_STAFF_ELSEWHERE))
        return redirect(_home_of(request.user))
    return None


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    elsewhere = _applicant_only(request)
    if elsewhere is not None:
        return elsewhere
    now = timezone.now()
    cases = case_list_for(user=request.user, filters={}, now=now).order_by("-created_at", "-id")
    views = [case_view(case, user=request.user, now=now) for case in cases[:100]]
    rows = [(view, progress_steps(view)) for view in views]
    return render(request, "portal/me.html", {"rows": rows})


def _my_case(request: HttpRequest, reference: str) -> TransferCase:
    case = case_document_get_for(user=request.user, reference=reference)
    if case is None:
        raise Http404
    return case


def _back(reference: str) -> HttpResponseRedirect:
    return redirect("portal:case", reference=reference)


def _refused(request: HttpRequest, exc: DomainError) -> None:
    """A refused write, said in words on the next page (nothing changed)."""
    if isinstance(exc, StaleCase):
        messages.warning(request, str(MSG_CASE_MOVED))
    elif isinstance(exc, (TransitionNotAllowed, ActionForbidden)):
        messages.warning(request, str(MSG_NOT_POSSIBLE))
    elif isinstance(exc, InvalidInput):
        for field_messages in exc.errors.values():
            for message in field_messages:
                messages.error(request, message)
    else:
        messages.error(request, exc.message)


@login_required
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    elsewhere = _applicant_only(request)
    if elsewhere is not None:
        return elsewhere
    case = _my_case(request, reference)
    view = case_view(case, user=request.user)
    events = list(case_events(case=case, user=request.user).select_related("actor"))
    return render(
        request,
        "portal/case.html",
        {
            "view": view,
            "next_step": next_step(case),
            "steps": progress_steps(view, events),
            "events": events,
            "attachments": list(case.attachments.all()),
            "documents": documents_list(case),
            "upload_form": AttachmentForm(),
            "max_megabytes": max_megabytes(),
            "can_withdraw": Action.WITHDRAW in view.next_actions,
            "can_resubmit": Action.RESUBMIT_MATERIALS in view.next_actions,
        },
    )


@login_required
@require_POST
def case_upload(request: HttpRequest, reference: str) -> HttpResponse:
    elsewhere = _applicant_only(request)
    if elsewhere is not None:
        return elsewhere
    # A body declared too large never gets here (config.errors.UploadSizeMiddleware).
    case = _my_case(request, reference)
    limited = _throttled(request, UploadThrottle())
    if limited is not None:
        return limited
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for field_messages in form.errors.values():
            for message in field_messages:
                messages.error(request, message)
        return _back(case.reference)
    try:
        attachment = attachment_add(
            case=case,
            actor=request.user,
            upload=form.cleaned_data["file"],
            label=form.cleaned_data["label"],
            now=timezone.now(),
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, str(MSG_UPLOADED).format(label=attachment.label))
    return _back(case.reference)


def _act(request: HttpRequest, case: TransferCase, action: str, done: str) -> HttpResponse:
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.warning(request, str(MSG_CASE_MOVED))
        return _back(case.reference)
    try:
        case_transition(
            case=case,
            action=action,
            actor=request.user,
            expected_version=form.cleaned_data["version"],
        )
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, done)
    return _back(case.reference)


@login_required
@require_http_methods(["GET", "POST"])
def case_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    """Withdrawing asks once more (a page that says what it means), then acts."""
    elsewhere = _applicant_only(request)
    if elsewhere is not None:
        return elsewhere
    case = _my_case(request, reference)
    if request.method == "POST":
        return _act(request, case, Action.WITHDRAW, str(MSG_WITHDRAWN))
    view = case_view(case, user=request.user)
    if Action.WITHDRAW not in view.next_actions:
        messages.warning(request, str(MSG_NOT_POSSIBLE))
        return _back(case.reference)
    return render(request, "portal/withdraw.html", {"view": view})


@login_required
@require_POST
def case_resubmit(request: HttpRequest, reference: str) -> HttpResponse:
    elsewhere = _applicant_only(request)
    if elsewhere is not None:
        return elsewhere
    case = _my_case(request, reference)
    return _act(request, case, Action.RESUBMIT_MATERIALS, str(MSG_RESUBMITTED))


@login_required
def case_attachment(request: HttpRequest, reference: str, attachment_id: int) -> HttpResponse:
    elsewhere = _applicant_only(request)
    if elsewhere is not None:
        return elsewhere
    attachment = attachment_get(case=_my_case(request, reference), attachment_id=attachment_id)
    if attachment is None:
        raise Http404
    return attachment_response(attachment)


@login_required
def case_document(request: HttpRequest, reference: str, kind: str) -> HttpResponse:
    """The signed PDF, from the same service as the API's; a refusal is a page, not JSON."""
    elsewhere = _applicant_only(request)
    if elsewhere is not None:
        return elsewhere
    case = _my_case(request, reference)
    try:
        issued = document_issue(case=case, kind=kind, now=timezone.now())
    except DocumentNotAvailable:
        raise Http404 from None
    except DocumentsUnavailable as exc:
        messages.error(request, exc.message)
        return _back(case.reference)
    return document_response(issued)


@require_POST
def text_size(request: HttpRequest) -> HttpResponse:
    """The large-text mode, kept in a cookie for a year (no account needed)."""
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if request.POST.get("size") == "large":
        response.set_cookie(
            LARGE_TEXT_COOKIE, "large", max_age=LARGE_TEXT_MAX_AGE, samesite="Lax", httponly=True
        )
    else:
        response.delete_cookie(LARGE_TEXT_COOKIE, samesite="Lax")
    return response


def verify(request: HttpRequest, number: str) -> HttpResponse:
    """Anyone holding a document (its QR code leads here): who issued it, when, for which case,
    its SHA-256, valid or superseded. Throttled like the API's verification."""
    limited = _throttled(request, DocumentVerificationThrottle())
    if limited is not None:
        return limited
    verification = document_verify(number)
    if verification is None:
        return render(
            request,
            "portal/verify.html",
            {"number": number, "missing": MSG_NO_SUCH_NUMBER},
            status=404,
        )
    return render(request, "portal/verify.html", {"number": number, "v": verification})


MSG_BAD_REQUEST = gettext_lazy("The request could not be understood. Go back and try again.")
MSG_FORBIDDEN = gettext_lazy("You may not open this page.")
MSG_CSRF = gettext_lazy(
    "The form had expired or your browser did not send its cookie. Go back, reload the page and "
    "send it again (cookies must be allowed for this site)."
)


def error_page(
    request: HttpRequest, *, status: int, csrf: bool = False, message: str = ""
) -> HttpResponse:
    if not message:
        message = MSG_CSRF if csrf else (MSG_FORBIDDEN if status == 403 else MSG_BAD_REQUEST)
    return render(request, "portal/error.html", {"message": message}, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "portal/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors' database reads: the database may be what failed.
    from django.template import loader

    return HttpResponse(loader.get_template("portal/500.html").render({}), status=500)
