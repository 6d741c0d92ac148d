"""The guided-setup page and its status endpoint.

Everything essential works without JavaScript: the IdP is picked with links,
the token is issued by a form and shown in that POST's response only, and the
status is rendered with the page (a link refreshes it). ``static/scim_provisioning/setup.js``
only adds copy buttons and refreshes the status every few seconds from
:func:`setup_status`. No inline script or style: the page works under a strict
Content-Security-Policy (``default-src 'self'``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ..connection_check import BaseURLNotConfigured, check_connection
from ..doctor import DoctorReport
from ..links import scim_base_url
from ..models import SCIMTeamConfig
from ..scope import TeamScope
from ..team_api import services
from ..tokens import IssuedToken
from .guides import (
    FAILURES,
    IDPS,
    IdentityProviderGuide,
    get_idp,
    oauth_urls,
    render_html,
    render_section_html,
)
from .status import connection_status

TEMPLATE = "scim_provisioning/setup/page.html"


def _team_or_login(request: HttpRequest, team_slug: str) -> Any:
    if not request.user.is_authenticated:
        return None
    return services.get_managed_team(request.user, team_slug)


def _links(chosen: IdentityProviderGuide | None) -> Any:
    """Guide links on the page: other guides become ``?idp=``, the README's sections anchors."""

    def rewrite(target: str) -> str:
        name, _, anchor = target.partition("#")
        if name == "README.md":
            return f"#{anchor}"
        idp = get_idp(name.removesuffix(".md"))
        if idp is not None:
            return f"?idp={idp.slug}" + (f"#{anchor}" if anchor else "")
        return target

    return rewrite


def _guide_context(
    team: Any, base_url: str, issued: IssuedToken | None, idp: IdentityProviderGuide
) -> dict[str, Any]:
    config = TeamScope.of(team).filter(SCIMTeamConfig.objects.all()).first()
    token_value = (
        f"`{issued.plaintext}` (your new token), alone"
        if issued
        else "The token you issue in step 2, alone"
    )
    return {
        "page": True,
        "base_url": base_url,
        **oauth_urls(base_url),
        "token_value": token_value,
        "ready_link": "#what-to-have-ready",
        "domains": list(config.verified_domains or []) if config else [],
        "idps": IDPS,
        "failures": FAILURES,
    }


class ActionRefused(Exception):
    """An action of the page that is refused with a message for the person (and a status)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@never_cache
@require_http_methods(["GET", "POST"])
def setup_page(request: HttpRequest, team_slug: str) -> HttpResponse:
    """Pick the IdP, read its steps with this team's values, issue a token, watch the status.

    POST ``action=issue`` issues a token (shown in this response only);
    ``action=check_connection`` runs the connection doctor on ``SCIM_PROVISIONING_BASE_URL``
    (a 409 saying so when it is not set).
    """
    team = _team_or_login(request, team_slug)
    if team is None:
        return redirect_to_login(request.get_full_path())

    def check(enabled: bool) -> DoctorReport:
        # Only the configured base URL, never one from the form or the Host header.
        try:
            return check_connection(team, created_by=request.user, with_token=enabled)
        except BaseURLNotConfigured as exc:
            raise ActionRefused(str(exc), 409) from None

    return render_setup(
        request,
        team,
        issue=lambda: services.issue(team, request.user),
        check_connection=check,
        status_url=reverse("scim_setup:status", kwargs={"team_slug": team_slug}),
        context={"team_slug": team_slug},
    )


def render_setup(
    request: HttpRequest,
    team: Any,
    *,
    issue: Callable[[], IssuedToken],
    check_connection: Callable[[bool], DoctorReport],
    status_url: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The setup page of ``team``, for whoever the caller let in (a manager, a setup link).

    ``issue`` issues the token and ``check_connection(enabled)`` runs the doctor; either
    may raise :class:`ActionRefused`. ``context`` adds to the template's context.
    """
    source = request.POST if request.method == "POST" else request.GET
    idp = get_idp(source.get("idp", ""))
    enabled = services.is_enabled(team)
    issued: IssuedToken | None = None
    report: DoctorReport | None = None
    error = None
    status_code = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "issue":
                issued = issue()
            elif action == "check_connection":
                report = check_connection(enabled)
            else:
                error, status_code = "Unknown action.", 400
        except services.SCIMNotEnabled:
            error, status_code = services.DISABLED_MESSAGE, 409
        except ActionRefused as exc:
            error, status_code = str(exc), exc.status
    base_url = scim_base_url(request)
    context = {
        **context,
        "team": team,
        "enabled": enabled,
        "disabled_message": services.DISABLED_MESSAGE,
        "base_url": base_url,
        "idps": IDPS,
        "idp": idp,
        "issued": issued,
        "error": error,
        "doctor_report": report,
        "failures": FAILURES,
    }
    if idp is not None:
        guide = _guide_context(team, base_url, issued, idp)
        links = _links(idp)
        context["guide_html"] = render_html(idp.slug, guide, links)
        context["site_does_html"] = render_section_html(
            "README", "What the site does, whatever the IdP", guide, links
        )
        context["status"] = connection_status(team, idp)
        context["failures_html"] = render_section_html("README", "Reading failures", guide, links)
        context["status_url"] = f"{status_url}?idp={idp.slug}"
    return TemplateResponse(request, TEMPLATE, context, status=status_code)


@never_cache
@require_GET
def setup_status(request: HttpRequest, team_slug: str) -> HttpResponse:
    """The live status as JSON, for the page's script (``?idp=okta``)."""
    team = _team_or_login(request, team_slug)
    if team is None:
        return JsonResponse({"detail": "Log in first."}, status=403)
    status = connection_status(team, get_idp(request.GET.get("idp", "")))
    return JsonResponse(status.as_json())
