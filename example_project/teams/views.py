from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from scim_provisioning.conf import app_settings
from scim_provisioning.connection_check import BaseURLNotConfigured, check_connection
from scim_provisioning.durations import describe
from scim_provisioning.links import scim_base_url as scim_base_url_for
from scim_provisioning.setup_links import link_path
from scim_provisioning.team_api import services
from scim_provisioning.team_api.serializers import (
    IssueSerializer,
    RotateSerializer,
    SetupLinkLifetimeSerializer,
)
from scim_provisioning.tokens import MAX_ROTATION_OVERLAP_HOURS

from .models import Membership, Team


def home(request):
    """Landing page: where SCIM lives, and the signed-in person's own teams.

    Never a list of every team: the team page answers 404, not 403, to
    outsiders so as not to reveal a team, and a public list would undo that.
    """
    teams = Team.objects.none()
    if request.user.is_authenticated:
        teams = Team.objects.filter(
            memberships__user=request.user, memberships__is_active=True
        ).distinct()
    scim_base_url = scim_base_url_for(request)
    return render(request, "teams/home.html", {"teams": teams, "scim_base_url": scim_base_url})


@login_required
def my_team(request):
    """Where "Log in" lands (``LOGIN_REDIRECT_URL``): the SCIM page of the one team the
    person manages, or the home page's list of their teams when they manage none or several.
    """
    managed = list(
        Team.objects.filter(
            memberships__user=request.user,
            memberships__is_active=True,
            memberships__role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
        ).distinct()[:2]
    )
    if len(managed) == 1:
        return redirect("teams:scim", slug=managed[0].slug)
    return redirect("home")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def team_scim(request, slug):
    """The team's SCIM settings, for its owners and admins (404 to non-members, 403 to members).

    Every change is a POST to this URL with an ``action``. A new token is rendered
    in the POST's response only; revocations redirect back here.
    """
    team = services.get_managed_team(request.user, slug)
    issued, error, status, doctor_report = None, None, 200, None
    oauth_issued = None  # (client, secret): the secret shown in this POST's response only
    created_link = None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "issue":
                options = IssueSerializer(data={"expires_in": request.POST.get("expires_in", "")})
                if options.is_valid():
                    issued = services.issue(team, request.user, expires_in=options.lifetime())
                else:
                    error, status = " ".join(options.errors["expires_in"]), 400
            elif action == "rotate":
                options = RotateSerializer(
                    data={
                        "overlap_hours": request.POST.get("overlap_hours") or None,
                        "expires_in": request.POST.get("expires_in", ""),
                    }
                )
                if options.is_valid():
                    hours = options.validated_data.get("overlap_hours")
                    issued = services.rotate(
                        team, request.user, overlap_hours=hours, expires_in=options.lifetime()
                    )
                elif "expires_in" in options.errors:
                    error, status = " ".join(options.errors["expires_in"]), 400
                else:
                    error = f"The overlap must be between 0 and {MAX_ROTATION_OVERLAP_HOURS} hours."
                    status = 400
            elif action == "revoke":
                prefix = request.POST.get("prefix", "")
                if services.revoke(team, prefix):
                    messages.success(request, f"Token {prefix}… revoked.")
                else:
                    messages.error(request, f"No unrevoked token has the prefix {prefix}.")
                return redirect("teams:scim", slug=slug)
            elif action == "create_oauth_client":
                redirect_uris = request.POST.get("redirect_uris", "").split()
                try:
                    created = services.create_oauth_client(
                        team,
                        request.user,
                        name=request.POST.get("name", ""),
                        redirect_uris=redirect_uris,
                    )
                except ValueError as exc:
                    error, status = str(exc), 400
                else:
                    oauth_issued = (created.client, created.secret)
            elif action == "rotate_oauth_secret":
                oauth_issued = services.rotate_oauth_secret(team, request.POST.get("client_id", ""))
            elif action == "revoke_oauth_client":
                client_id = request.POST.get("client_id", "")
                count = services.revoke_oauth_client(team, client_id)
                messages.success(
                    request, f"Client {client_id} revoked, with {count} live access token(s)."
                )
                return redirect("teams:scim", slug=slug)
            elif action == "add_domain":
                try:
                    claim = services.add_domain(team, request.user, request.POST.get("domain", ""))
                except services.InvalidDomain as exc:
                    error, status = str(exc), 400
                else:
                    messages.success(
                        request,
                        f"Publish the TXT record for {claim.domain} shown below, then check it.",
                    )
                    return redirect("teams:scim", slug=slug)
            elif action == "check_domain":
                check = services.check_domain(team, request.user, request.POST.get("domain", ""))
                (messages.success if check.verified else messages.error)(request, check.message)
                return redirect("teams:scim", slug=slug)
            elif action == "remove_domain":
                domain = request.POST.get("domain", "")
                if services.remove_domain(team, domain):
                    messages.success(request, f"{domain} removed.")
                else:
                    messages.error(request, f"This team has not added {domain}.")
                return redirect("teams:scim", slug=slug)
            elif action == "check_connection":
                # Only SCIM_PROVISIONING_BASE_URL: never a URL from the form or the Host.
                try:
                    doctor_report = check_connection(
                        team, created_by=request.user, with_token=services.is_enabled(team)
                    )
                except BaseURLNotConfigured as exc:
                    error, status = str(exc), 409
            elif action == "create_setup_link":
                options = SetupLinkLifetimeSerializer(
                    data={"expires_in": request.POST.get("expires_in", "")}
                )
                if options.is_valid():
                    created_link = services.create_setup_link(
                        team, request.user, expires_in=options.validated_data.get("expires_in")
                    )
                else:
                    error, status = " ".join(options.errors["expires_in"]), 400
            elif action == "revoke_setup_link":
                link = request.POST.get("link", "")
                # ASCII digits only: "²" is a digit to isdigit() and no number to int().
                if (
                    link.isascii()
                    and link.isdigit()
                    and services.revoke_setup_links(team, pk=int(link))
                ):
                    messages.success(request, f"Setup link #{link} revoked.")
                else:
                    messages.error(request, "The team has no live setup link with this number.")
                return redirect("teams:scim", slug=slug)
            elif action == "revoke_setup_links":
                count = services.revoke_setup_links(team)
                messages.success(request, f"{count} setup link{'s' if count != 1 else ''} revoked.")
                return redirect("teams:scim", slug=slug)
            elif action in ("release_held", "discard_held"):
                held = request.POST.get("held", "")
                # ASCII digits only: "²" is a digit to isdigit() and no number to int().
                ids = [int(held)] if held.isascii() and held.isdigit() and len(held) < 10 else None
                if held and ids is None:
                    messages.error(request, "The team holds no change with this number.")
                    return redirect("teams:scim", slug=slug)
                release = action == "release_held"
                decisions = services.decide_held(team, request.user, release=release, ids=ids)
                refused = [d for d in decisions if d.refused]
                verb = "released" if release else "discarded"
                messages.success(request, f"{len(decisions) - len(refused)} held change(s) {verb}.")
                for decision in refused:
                    messages.error(
                        request, f"{decision.change.user_name}: refused: {decision.refused}"
                    )
                return redirect("teams:scim", slug=slug)
            elif action == "revoke_all":
                count = services.revoke_all(team)
                messages.success(request, f"{count} token{'s' if count != 1 else ''} revoked.")
                return redirect("teams:scim", slug=slug)
            else:
                error, status = "Unknown action.", 400
        except services.SCIMNotEnabled:
            error, status = services.DISABLED_MESSAGE, 409
    context = {
        "team": team,
        "scim": services.get_status(team, request),
        "issued": issued,
        "oauth_issued": oauth_issued,
        "error": error,
        "default_overlap_hours": app_settings.TOKEN_ROTATION_OVERLAP_HOURS,
        "default_lifetime": describe(app_settings.TOKEN_DEFAULT_TTL),
        "max_overlap_hours": MAX_ROTATION_OVERLAP_HOURS,
        "recent_limit": services.RECENT_REQUESTS,
        "doctor_report": doctor_report,
        "created_link": created_link,
        "created_link_path": link_path(created_link.secret) if created_link else None,
        "default_link_lifetime": describe(app_settings.SETUP_LINK_TTL),
        "setup_links": services.setup_link_activity(team),
        "held": services.held_changes(team),
        "timeline": services.timeline(
            team, person=request.GET.get("person", ""), action=request.GET.get("action", "")
        ),
        "timeline_export_url": reverse("scim_team_api:timeline", kwargs={"team_slug": slug}),
    }
    return render(request, "teams/team_scim.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET"])
def team_scim_people(request, slug):
    """The people the team's IdP manages, found by any name they had (its managers only)."""
    team = services.get_managed_team(request.user, slug)
    context = {
        "team": team,
        "people": services.people(
            team, q=request.GET.get("q", ""), page=request.GET.get("page", 1)
        ),
        "export_url": reverse("scim_team_api:people", kwargs={"team_slug": slug}),
        "timeline_url": reverse("teams:scim", kwargs={"slug": slug}),
    }
    return render(request, "teams/team_scim_people.html", context)
