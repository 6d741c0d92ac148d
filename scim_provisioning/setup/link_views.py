"""The guided setup opened by a setup link (:mod:`scim_provisioning.setup_links`).

Three views, mounted by ``setup.link_urls``: the link itself (checks the secret,
remembers the link in the session, redirects to the page without the secret), the
page, and its status. Whoever holds the link reaches this team's setup and nothing
else: no account is signed in, and every other page of the site still asks for one.
A wrong, expired or revoked link, and a session without a link, get one and the same
404 that names no team.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ..conf import app_settings
from ..connection_check import check_connection
from ..doctor import DoctorReport
from ..models import SCIMSetupLinkAction
from ..setup_links import (
    URL_NAMESPACE,
    LinkSpent,
    find_link,
    issue_through,
    link_of_session,
    open_in_session,
    record_use,
    retry_after,
)
from ..tokens import IssuedToken
from .guides import get_idp
from .status import connection_status
from .views import ActionRefused, render_setup

#: The whole body of every "no such link" answer: the same whatever the reason.
NOT_FOUND = (
    "This setup link is not valid: it is wrong, has expired or was revoked. "
    "Ask the team's managers for a new one."
)
SPENT = (
    "This setup link has issued its token already. "
    "For another token, ask the team's managers for a new link."
)
TOO_MANY_CHECKS = "Too many connection checks from this address. Try again in a minute."
NO_BASE_URL = (
    "The connection check needs the site's SCIM_PROVISIONING_BASE_URL; ask the site's staff. "
    "It never calls an address taken from the request."
)


def _not_found() -> HttpResponse:
    return HttpResponseNotFound(NOT_FOUND, content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def open_link(request: HttpRequest, secret: str) -> HttpResponse:
    """``GET /<secret>/``: open the link in this browser's session and go to the page."""
    wait = retry_after(request, "open")
    if wait is not None:
        response = HttpResponse(
            "Too many setup links were opened from this address. Try again later.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(wait)
        return response
    link = find_link(secret)
    if link is None:
        return _not_found()
    # A new session key, as a login makes one: a session planted in the browser
    # beforehand (a cookie set by a sibling subdomain) must not receive the link.
    request.session.cycle_key()
    open_in_session(request, link)
    target = reverse(f"{URL_NAMESPACE}:page")
    idp = get_idp(request.GET.get("idp", ""))
    return redirect(f"{target}?idp={idp.slug}" if idp else target)


@never_cache
@require_http_methods(["GET", "POST"])
def link_page(request: HttpRequest) -> HttpResponse:
    """The team's guided setup, for the session that opened a live link."""
    link = link_of_session(request)
    if link is None:
        return _not_found()
    team = link.team

    def issue() -> IssuedToken:
        try:
            return issue_through(link, request)
        except LinkSpent:
            raise ActionRefused(SPENT, 409) from None

    def check(enabled: bool) -> DoctorReport:
        # The configured base URL only: one built from this request's Host header could
        # point the doctor, and the throwaway token it carries, anywhere.
        if not app_settings.BASE_URL:
            raise ActionRefused(NO_BASE_URL, 409)
        if retry_after(request, "check") is not None:
            raise ActionRefused(TOO_MANY_CHECKS, 429)
        record_use(link, SCIMSetupLinkAction.CONNECTION_CHECKED, request)
        return check_connection(team, created_by=None, with_token=enabled)

    context: dict[str, Any] = {"via_link": True, "link_spent": link.token_issued_at is not None}
    return render_setup(
        request,
        team,
        issue=issue,
        check_connection=check,
        status_url=reverse(f"{URL_NAMESPACE}:status"),
        context=context,
    )


@never_cache
@require_GET
def link_status(request: HttpRequest) -> HttpResponse:
    """The live status as JSON, for the page's script (``?idp=okta``)."""
    link = link_of_session(request)
    if link is None:
        return JsonResponse({"detail": NOT_FOUND}, status=404)
    return JsonResponse(connection_status(link.team, get_idp(request.GET.get("idp", ""))).as_json())
