"""Django admin for the staff: the SCIM switch, verified domains, tokens (never their secret).

Each team has a SCIM page (:meth:`SCIMTeamConfigAdmin.scim_view`) at
``<team pk>/scim/`` under the SCIM team configurations, also for a team that
has no configuration yet: the configuration's primary key is the team's.

Permissions on that page (override the ``has_scim_*`` methods for per-team rules):

- see it: ``view_scimtoken`` or ``change_scimtoken``, or ``change_scimteamconfig``;
- issue a token: ``add_scimtoken``;
- rotate: ``add_scimtoken`` and ``change_scimtoken`` (it issues one and ends the others);
- revoke: ``change_scimtoken``;
- switch SCIM on or off: staff with ``change_scimteamconfig`` (and ``add_scimteamconfig``
  for a team that has no configuration yet);
- the latest SCIM requests: ``view_scimrequestlog``;
- the team's email domains (add, check the DNS TXT record, remove, verify directly):
  staff with ``change_scimteamconfig``;
- the refused links (existing accounts the team's IdP could not claim): whoever sees the page;
- create a setup link (:mod:`.setup_links`; it issues one token): ``add_scimtoken``; revoke
  the team's setup links: ``change_scimtoken``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from . import domains
from .admin_dates import MomentsAdminMixin
from .conf import app_settings
from .connection_check import BaseURLNotConfigured, check_connection
from .doctor import DoctorReport
from .durations import describe, parse_lifetime
from .health import team_health
from .links import scim_base_url
from .models import (
    SCIMGroup,
    SCIMHeldChange,
    SCIMLinkRefusal,
    SCIMOAuthClient,
    SCIMRequestLog,
    SCIMSetupLink,
    SCIMSetupLinkUse,
    SCIMTeamConfig,
    SCIMTeamDomain,
    SCIMToken,
    SCIMUser,
    SCIMUserEvent,
)
from .oauth.admin import SCIMOAuthClientAdmin
from .provisioning import held
from .scope import TeamScope
from .setup_links import CreatedLink, create_link, link_path, links_of, recent_uses, revoke_links
from .teams import RECENT_REQUESTS, SCIMNotEnabled, recent_requests, set_enabled
from .timeline import person_timeline
from .tokens import (
    MAX_ROTATION_OVERLAP_HOURS,
    SITE_DEFAULT,
    IssuedToken,
    issue_token,
    revoke_tokens,
    rotate_token,
    team_tokens,
)


class SCIMModelAdmin(MomentsAdminMixin, admin.ModelAdmin):
    """What every SCIM model's admin shares: the app's date format and stylesheet."""

    class Media:
        css = {"all": ("scim_provisioning/admin.css",)}


class LifetimeField(forms.CharField):
    """A token lifetime: ``90d``, ``12h``, ``never``; empty means the site's default."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            label="Expires after",
            help_text="e.g. 90d, 12h or never; empty: the site's default.",
            **kwargs,
        )

    def clean(self, value: Any) -> Any:
        text = super().clean(value).strip()
        if not text:
            return SITE_DEFAULT
        try:
            return parse_lifetime(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class IssueForm(forms.Form):
    """The new token's lifetime."""

    expires_in = LifetimeField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_in"].widget.attrs["placeholder"] = describe(
            app_settings.TOKEN_DEFAULT_TTL
        )


class RotateForm(IssueForm):
    """How long the team's current tokens stay valid once the new one is issued."""

    overlap_hours = forms.FloatField(
        min_value=0,
        max_value=MAX_ROTATION_OVERLAP_HOURS,
        label="Overlap (hours)",
        help_text="The current tokens stay valid this long; 0 ends them at once.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["overlap_hours"].initial = app_settings.TOKEN_ROTATION_OVERLAP_HOURS


class SetupLinkForm(forms.Form):
    """A setup link's lifetime: ``7d``, ``12h``; empty means ``SETUP_LINK_TTL``; never ``never``."""

    expires_in = forms.CharField(
        required=False,
        label="Link expires after",
        help_text="e.g. 7d or 12h; empty: the site's default. A setup link always expires.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires_in"].widget.attrs["placeholder"] = describe(
            app_settings.SETUP_LINK_TTL
        )

    def clean_expires_in(self) -> Any:
        text = self.cleaned_data["expires_in"].strip()
        if not text:
            return None
        try:
            lifetime = parse_lifetime(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        if lifetime is None:
            raise ValidationError("A setup link always expires: give a lifetime (7d).")
        return lifetime


@admin.register(SCIMTeamConfig)
class SCIMTeamConfigAdmin(SCIMModelAdmin):
    """The SCIM switch and policy of each team, and each team's SCIM page."""

    list_display = ("team", "enabled", "verified_domains", "updated", "scim_page")
    list_filter = ("enabled",)
    raw_id_fields = ("team",)
    scim_page_template = "scim_provisioning/admin/scim_page.html"

    # --- links -----------------------------------------------------------

    def scim_page_url(self, team_pk: Any) -> str:
        """The SCIM page of the team with primary key ``team_pk``."""
        opts = self.opts
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_scim",
            args=(quote(team_pk),),
            current_app=self.admin_site.name,
        )

    @admin.display(description="SCIM page")
    def scim_page(self, config: SCIMTeamConfig) -> str:
        if config.pk is None:
            return "-"
        return format_html('<a href="{}">Base URL and tokens</a>', self.scim_page_url(config.pk))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "scim_page") if obj is not None else readonly

    def response_add(
        self, request: HttpRequest, obj: SCIMTeamConfig, post_url_continue: str | None = None
    ) -> HttpResponse:
        """A plain "Save" of a new configuration goes on to the team's SCIM page."""
        if any(key in request.POST for key in ("_continue", "_addanother", "_popup")):
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"Added the SCIM configuration of {obj.team}.")
        return HttpResponseRedirect(self.scim_page_url(obj.pk))

    # --- permissions -----------------------------------------------------

    def _has_token_perm(self, request: HttpRequest, action: str) -> bool:
        opts = SCIMToken._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")

    def has_scim_view_permission(
        self, request: HttpRequest, team: Any, config: SCIMTeamConfig | None
    ) -> bool:
        """May see the team's SCIM page (base URL, tokens without their secret)."""
        return (
            self._has_token_perm(request, "view")
            or self._has_token_perm(request, "change")
            or self.has_change_permission(request, config)
        )

    def has_scim_issue_permission(self, request: HttpRequest, team: Any) -> bool:
        """May issue a token for ``team``."""
        return self._has_token_perm(request, "add")

    def has_scim_rotate_permission(self, request: HttpRequest, team: Any) -> bool:
        """May rotate: issue a token and set an end to the others."""
        return self._has_token_perm(request, "add") and self._has_token_perm(request, "change")

    def has_scim_revoke_permission(self, request: HttpRequest, team: Any) -> bool:
        """May revoke the team's tokens."""
        return self._has_token_perm(request, "change")

    def has_scim_switch_permission(
        self, request: HttpRequest, team: Any, config: SCIMTeamConfig | None
    ) -> bool:
        """May turn SCIM on or off: staff only; a missing configuration is an addition."""
        if not request.user.is_staff:
            return False
        if config is None:
            return self.has_add_permission(request) and self.has_change_permission(request)
        return self.has_change_permission(request, config)

    def has_scim_domain_permission(
        self, request: HttpRequest, team: Any, config: SCIMTeamConfig | None
    ) -> bool:
        """May add, check, remove the team's email domains, or mark one verified directly."""
        return request.user.is_staff and self.has_change_permission(request, config)

    # --- the SCIM page ---------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        return [
            path(
                "<path:object_id>/scim/",
                self.admin_site.admin_view(self.scim_view),
                name=f"{opts.app_label}_{opts.model_name}_scim",
            ),
            *super().get_urls(),
        ]

    def _get_team(self, object_id: str) -> Any:
        team_model: Any = self.opts.get_field("team").related_model
        try:
            pk = team_model._meta.pk.to_python(unquote(object_id))
            return team_model._default_manager.get(pk=pk)
        except (team_model.DoesNotExist, ValidationError, ValueError) as exc:
            raise Http404(f"No team with primary key {object_id!r}.") from exc

    def scim_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The team's base URL, tokens, token actions, SCIM switch and latest requests.

        Actions are POSTs. A new token's plaintext is only ever in the response
        to the POST that issued it; every other action redirects to a GET.
        """
        team = self._get_team(object_id)
        config = self.get_object(request, object_id)
        if not self.has_scim_view_permission(request, team, config):
            raise PermissionDenied
        if request.method != "POST":
            return self._render(request, team, config)
        action = request.POST.get("action", "")
        if action in ("enable", "disable"):
            return self._switch(request, team, config, enabled=action == "enable")
        if action == "issue":
            return self._issue(request, team, config)
        if action == "rotate":
            return self._rotate(request, team, config)
        if action in ("add_domain", "check_domain", "remove_domain", "verify_domain"):
            return self._domain(request, team, config, action)
        if action == "revoke_all":
            return self._revoke(request, team, config, None)
        if action == "check_connection":
            return self._check_connection(request, team, config)
        if action == "create_setup_link":
            return self._create_setup_link(request, team, config)
        if action == "revoke_setup_links":
            return self._revoke_setup_links(request, team, config)
        if action == "revoke":
            prefix = request.POST.get("prefix", "").strip()
            if not prefix:
                return HttpResponseBadRequest("Revoking one token needs its prefix.")
            return self._revoke(request, team, config, prefix)
        return HttpResponseBadRequest("Unknown action.")

    def _render(
        self,
        request: HttpRequest,
        team: Any,
        config: SCIMTeamConfig | None,
        *,
        issued: IssuedToken | None = None,
        rotate_form: RotateForm | None = None,
        issue_form: IssueForm | None = None,
        doctor_report: DoctorReport | None = None,
        new_setup_link: CreatedLink | None = None,
        setup_link_form: SetupLinkForm | None = None,
    ) -> TemplateResponse:
        scope = TeamScope.of(team)
        tokens = team_tokens(scope).select_related("created_by")
        try:
            log_admin = self.admin_site.get_model_admin(SCIMRequestLog)
        except NotRegistered:
            log_admin = None
        can_see_requests = log_admin is not None and log_admin.has_view_permission(request)
        requests_url = ""
        if can_see_requests:
            team_pk_name = team._meta.pk.name
            requests_url = "{}?{}".format(
                reverse(
                    "admin:scim_provisioning_scimrequestlog_changelist",
                    current_app=self.admin_site.name,
                ),
                urlencode({f"team__{team_pk_name}__exact": team.pk}),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"SCIM for {team}",
            "opts": self.opts,
            "has_view_permission": self.has_view_permission(request),
            "team": team,
            "config": config,
            "enabled": bool(config and config.enabled),
            "base_url": scim_base_url(request),
            "tokens": tokens,
            "new_token": issued,
            "rotate_form": rotate_form or RotateForm(),
            "issue_form": issue_form or IssueForm(),
            "can_issue": self.has_scim_issue_permission(request, team),
            "can_rotate": self.has_scim_rotate_permission(request, team),
            "can_revoke": self.has_scim_revoke_permission(request, team),
            "can_switch": self.has_scim_switch_permission(request, team, config),
            "can_see_requests": can_see_requests,
            "recent_requests": recent_requests(scope) if can_see_requests else [],
            "requests_url": requests_url,
            "refused_links": scope.filter(SCIMLinkRefusal.objects.all())[:RECENT_REQUESTS],
            "domains": scope.filter(SCIMTeamDomain.objects.select_related("verified_by")),
            "can_manage_domains": self.has_scim_domain_permission(request, team, config),
            "doctor_report": doctor_report,
            "health": team_health(team),
            "new_setup_link": new_setup_link,
            "new_setup_link_path": link_path(new_setup_link.secret) if new_setup_link else "",
            "setup_link_form": setup_link_form or SetupLinkForm(),
            "setup_links": links_of(scope),
            "setup_link_uses": recent_uses(scope, limit=RECENT_REQUESTS),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.scim_page_template, context)

    def _check_connection(
        self, request: HttpRequest, team: Any, config: SCIMTeamConfig | None
    ) -> HttpResponse:
        """Run the connection doctor against ``SCIM_PROVISIONING_BASE_URL`` and show its results.

        The round trip uses a throwaway token, so it runs only for those who may
        issue one, and only while SCIM is on; the other checks run for anyone
        who sees the page. Without the setting nothing is called (see
        :mod:`.connection_check`).
        """
        with_token = bool(config and config.enabled) and self.has_scim_issue_permission(
            request, team
        )
        try:
            report = check_connection(team, created_by=request.user, with_token=with_token)
        except BaseURLNotConfigured as exc:
            messages.error(request, str(exc))
            report = None
        return self._render(request, team, config, doctor_report=report)

    def _log(self, request: HttpRequest, team: Any, config: Any, message: str) -> None:
        # Revoking stays possible after a configuration was deleted: log it on the team then.
        self.log_change(request, config if config is not None else team, message)

    def _issue(
        self, request: HttpRequest, team: Any, config: SCIMTeamConfig | None
    ) -> HttpResponse:
        if not self.has_scim_issue_permission(request, team):
            raise PermissionDenied
        form = IssueForm(request.POST)
        if not form.is_valid():
            return self._render(request, team, config, issue_form=form)
        return self._new_token(
            request,
            team,
            config,
            "Issued",
            issue_token,
            expires_in=form.cleaned_data["expires_in"],
        )

    def _rotate(
        self, request: HttpRequest, team: Any, config: SCIMTeamConfig | None
    ) -> HttpResponse:
        if not self.has_scim_rotate_permission(request, team):
            raise PermissionDenied
        form = RotateForm(request.POST)
        if not form.is_valid():
            return self._render(request, team, config, rotate_form=form)
        hours = form.cleaned_data["overlap_hours"]
        return self._new_token(
            request,
            team,
            config,
            f"Rotated (previous tokens end in {hours:g} h); issued",
            rotate_token,
            overlap=timedelta(hours=hours),
            expires_in=form.cleaned_data["expires_in"],
        )

    def _new_token(
        self,
        request: HttpRequest,
        team: Any,
        config: SCIMTeamConfig | None,
        verb: str,
        make: Callable[..., IssuedToken],
        **kwargs: Any,
    ) -> HttpResponse:
        """Render the page with the new token: the one response that ever holds it."""
        try:
            with transaction.atomic():
                issued = make(team, created_by=request.user, **kwargs)
                # The prefix only: the plaintext never reaches the log, the session or a message.
                self._log(request, team, config, f"{verb} SCIM token {issued.token.prefix}….")
        except SCIMNotEnabled:
            self.message_user(
                request, "SCIM is not enabled for this team: enable it first.", messages.ERROR
            )
            return HttpResponseRedirect(request.path)
        return self._render(request, team, config, issued=issued)

    def _create_setup_link(
        self, request: HttpRequest, team: Any, config: SCIMTeamConfig | None
    ) -> HttpResponse:
        """Render the page with a new setup link: the one response that ever holds it.

        Whoever may issue the team's token may make a link that issues one.
        """
        if not self.has_scim_issue_permission(request, team):
            raise PermissionDenied
        form = SetupLinkForm(request.POST)
        if not form.is_valid():
            return self._render(request, team, config, setup_link_form=form)
        with transaction.atomic():
            created = create_link(
                team, created_by=request.user, expires_in=form.cleaned_data["expires_in"]
            )
            # The link's number only: its secret never reaches the log, the session or a message.
            self._log(request, team, config, f"Created SCIM setup link #{created.link.pk}.")
        return self._render(request, team, config, new_setup_link=created)

    def _revoke_setup_links(
        self, request: HttpRequest, team: Any, config: SCIMTeamConfig | None
    ) -> HttpResponse:
        if not self.has_scim_revoke_permission(request, team):
            raise PermissionDenied
        count = revoke_links(team)
        self._log(request, team, config, f"Revoked {count} SCIM setup link(s).")
        self.message_user(request, f"Revoked {count} setup link(s) of {team}.")
        return HttpResponseRedirect(request.path)

    def _domain(
        self, request: HttpRequest, team: Any, config: SCIMTeamConfig | None, action: str
    ) -> HttpResponse:
        """Add, check (DNS TXT), remove, or verify directly one of the team's email domains."""
        if not self.has_scim_domain_permission(request, team, config):
            raise PermissionDenied
        text = request.POST.get("domain", "")
        if action == "add_domain":
            try:
                claim = domains.add_domain(team, text, created_by=request.user)
            except domains.InvalidDomain as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(request.path)
            self._log(request, team, config, f"Added email domain {claim.domain}.")
            self.message_user(request, f"Added {claim.domain}: publish its TXT record, then check.")
            return HttpResponseRedirect(request.path)
        if action == "remove_domain":
            if domains.remove_domain(team, text):
                self._log(request, team, config, f"Removed email domain {text}.")
                self.message_user(request, f"Removed {text}.")
            return HttpResponseRedirect(request.path)
        try:
            claims = TeamScope.of(team).filter(SCIMTeamDomain.objects.all())
            claim = claims.get(domain=domains.clean_domain(text))
        except (domains.InvalidDomain, SCIMTeamDomain.DoesNotExist):
            return HttpResponseBadRequest("This team has not added that domain.")
        if action == "verify_domain":
            # Staff may vouch for a domain without DNS, as with verified_domains.
            # The admin site serves staff only: request.user is a signed-in account.
            claim.verified_at, claim.verified_by = timezone.now(), request.user  # type: ignore[assignment]
            claim.last_check_message = "Verified by the site's staff."
            claim.save(update_fields=["verified_at", "verified_by", "last_check_message"])
            self._log(request, team, config, f"Verified email domain {claim.domain} directly.")
            self.message_user(request, f"{claim.domain} is verified.")
            return HttpResponseRedirect(request.path)
        check = domains.check_domain(claim, checked_by=request.user)
        if check.verified:
            self._log(request, team, config, f"Verified email domain {claim.domain} by DNS.")
        self.message_user(
            request, check.message, messages.SUCCESS if check.verified else messages.ERROR
        )
        return HttpResponseRedirect(request.path)

    def _revoke(
        self,
        request: HttpRequest,
        team: Any,
        config: SCIMTeamConfig | None,
        prefix: str | None,
    ) -> HttpResponse:
        if not self.has_scim_revoke_permission(request, team):
            raise PermissionDenied
        with transaction.atomic():
            count = revoke_tokens(team, prefix=prefix)
            if count:
                which = f"SCIM token {prefix}…" if prefix else f"all {count} SCIM token(s)"
                self._log(request, team, config, f"Revoked {which}.")
        if count:
            self.message_user(request, f"Revoked {count} token(s); they stop working at once.")
        else:
            self.message_user(request, "No live token to revoke.", messages.WARNING)
        return HttpResponseRedirect(request.path)

    def _switch(
        self,
        request: HttpRequest,
        team: Any,
        config: SCIMTeamConfig | None,
        *,
        enabled: bool,
    ) -> HttpResponse:
        if not self.has_scim_switch_permission(request, team, config):
            raise PermissionDenied
        message = "Enabled SCIM." if enabled else "Disabled SCIM."
        with transaction.atomic():
            switch = set_enabled(team, enabled)
            if switch.created:
                self.log_addition(request, switch.config, message)
            elif switch.changed:
                self.log_change(request, switch.config, message)
        self.message_user(request, f"SCIM is {'enabled' if enabled else 'disabled'} for {team}.")
        return HttpResponseRedirect(request.path)


@admin.register(SCIMToken)
class SCIMTokenAdmin(SCIMModelAdmin):
    """Tokens are issued on a team's SCIM page or with ``manage.py scim_token``; never here.

    Every field is read-only: revocation and expiry are final (a new token is
    the way back), so no one can revive a revoked or expired token here.
    """

    list_display = (
        "prefix",
        "team",
        "state",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "is_doctor",
    )
    list_filter = ("revoked_at", "is_doctor")
    readonly_fields = (
        "team",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "is_doctor",
    )
    fields = (
        "team",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "is_doctor",
    )

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(SCIMSetupLink)
class SCIMSetupLinkAdmin(SCIMModelAdmin):
    """Setup links are created on a team's SCIM page, the team page, its API or with
    ``manage.py scim_setup_link``; here they are listed and revoked (their secret is not
    stored, so no page can show it again)."""

    list_display = ("pk", "team", "state", "created_at", "created_by", "expires_at", "token")
    list_filter = ("revoked_at",)
    readonly_fields = (
        "team",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "token_issued_at",
        "token",
    )
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected setup links", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        count = queryset.filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).update(
            revoked_at=timezone.now()
        )
        self.message_user(request, f"Revoked {count} setup link(s).")

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        opts = SCIMToken._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")


@admin.register(SCIMHeldChange)
class SCIMHeldChangeAdmin(admin.ModelAdmin):
    """Deprovisionings the guard held: staff release or discard them (recorded as theirs)."""

    list_display = ("user_name", "team", "kind", "held_at", "outcome", "resolved_at", "resolved_by")
    list_filter = ("kind", "outcome")
    search_fields = ("user_name", "email")
    readonly_fields = (
        "team",
        "kind",
        "scim_user_id",
        "user",
        "user_name",
        "email",
        "held_at",
        "outcome",
        "resolved_at",
        "resolved_by",
        "resolved_by_name",
        "detail",
    )
    fields = readonly_fields
    actions = ["release_held", "discard_held"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # a decision stays recorded

    def has_decide_permission(self, request: HttpRequest) -> bool:
        opts = SCIMTeamConfig._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")

    @admin.action(description="Release the selected held changes", permissions=["decide"])
    def release_held(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, held.release, "released")

    @admin.action(description="Discard the selected held changes", permissions=["decide"])
    def discard_held(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, held.discard, "discarded")

    def _decide(self, request: HttpRequest, queryset: Any, decide: Any, verb: str) -> None:
        done = refused = 0
        pending = queryset.filter(resolved_at__isnull=True).order_by("team_id", "held_at", "id")
        for team_id in sorted({change.team_id for change in pending}, key=str):
            config = SCIMTeamConfig.objects.get(team_id=team_id)
            changes = [change for change in pending if change.team_id == team_id]
            decisions = decide(
                config, changes, by=request.user, by_name=request.user.get_username()
            )
            for decision in decisions:
                if decision.refused:
                    refused += 1
                    self.message_user(
                        request,
                        f"{decision.change.user_name}: refused: {decision.refused}",
                        level=messages.WARNING,
                    )
                else:
                    done += 1
        self.message_user(request, f"{done} held change(s) {verb}, {refused} refused.")


@admin.register(SCIMSetupLinkUse)
class SCIMSetupLinkUseAdmin(SCIMModelAdmin):
    """What each setup link was used for: read only."""

    list_display = ("created", "team", "link", "action", "token_prefix", "client_ip")
    list_filter = ("action",)
    readonly_fields = (
        "link",
        "team",
        "action",
        "token_prefix",
        "client_ip",
        "user_agent",
        "created",
    )

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class IdPOwnedAdmin(SCIMModelAdmin):
    """A record the team's IdP owns: staff see it, nobody adds, edits or deletes it here.

    Saving a SCIM user here once changed ``active``, ``userName`` or the
    attributes without the host membership following, without a timeline
    entry and without any rule of the SCIM write path (the last manager,
    verified domains, group roles): a second write path (issue 22). Routing
    such an edit through the write path would still be wrong: the IdP is the
    source of truth and would put its own value back, or never learn of the
    change. A seat is changed in the IdP (which tells SCIM), or in the host's
    own membership admin, where the host's rules run.
    """

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(SCIMUser)
class SCIMUserAdmin(IdPOwnedAdmin):
    list_display = ("user_name", "team", "email", "active", "external_id", "last_modified")
    list_filter = ("active",)
    search_fields = ("user_name", "email", "external_id")
    raw_id_fields = ("team", "user", "manager")
    readonly_fields = ("id", "created", "last_modified", "version", "created_account", "timeline")

    @admin.display(description="provisioning timeline")
    def timeline(self, record: SCIMUser) -> str:
        """What SCIM did to this person, newest first, and a link to filter the whole of it."""
        everything = reverse("admin:scim_provisioning_scimuserevent_changelist")
        table = render_to_string(
            "scim_provisioning/timeline_entries.html",
            {
                "entries": person_timeline(record, limit=TIMELINE_ON_RECORD),
                "request_link": _request_log_link(),
            },
        )
        return format_html(
            '{}<p><a href="{}?{}">All entries of this person, filterable</a></p>',
            table,  # the template escapes every value
            everything,
            urlencode({"scim_user_id": str(record.pk)}),
        )


#: Timeline entries shown on a SCIM user's admin page (newest first).
TIMELINE_ON_RECORD = 50


def _request_log_link() -> str:
    return reverse("admin:scim_provisioning_scimrequestlog_changelist") + "?request_id="


@admin.register(SCIMUserEvent)
class SCIMUserEventAdmin(SCIMModelAdmin):
    """Every person's provisioning timeline; read-only. Filter one person with
    ``?scim_user_id=<id>`` (the link on the SCIM user's page)."""

    list_display = (
        "created",
        "team",
        "user_name",
        "action",
        "group_name",
        "role",
        "token_prefix",
        "request",
    )
    list_filter = ("action", "created", "team")
    search_fields = ("user_name", "group_name", "token_prefix")
    date_hierarchy = "created"
    list_select_related = ("team",)
    readonly_fields = ("created", "request")

    @admin.display(description="request")
    def request(self, entry: SCIMUserEvent) -> str:
        if entry.request_id is None:
            return "–"
        return format_html(
            '<a href="{}{}">{}</a>', _request_log_link(), entry.request_id, entry.request_id
        )

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(SCIMGroup)
class SCIMGroupAdmin(IdPOwnedAdmin):
    list_display = ("display_name", "team", "external_id", "last_modified")
    search_fields = ("display_name", "external_id")
    raw_id_fields = ("team",)
    readonly_fields = ("id", "created", "last_modified", "version")


@admin.register(SCIMLinkRefusal)
class SCIMLinkRefusalAdmin(SCIMModelAdmin):
    """Existing accounts a team's IdP asked to link and was refused; read-only."""

    list_display = ("email", "team", "reason", "attempts", "created", "last_attempt")
    list_filter = ("reason", "team")
    search_fields = ("email",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class StatusClassFilter(admin.SimpleListFilter):
    """2xx / 4xx / 5xx, the first question about an IdP's trouble."""

    title = "status"
    parameter_name = "status_class"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("2", "2xx success"), ("3", "3xx"), ("4", "4xx client error"), ("5", "5xx error")]

    def queryset(self, request: Any, queryset: Any) -> Any:
        value = self.value()
        if value in ("2", "3", "4", "5"):
            low = int(value) * 100
            return queryset.filter(status__gte=low, status__lt=low + 100)
        return queryset


@admin.register(SCIMRequestLog)
class SCIMRequestLogAdmin(SCIMModelAdmin):
    """What the IdPs have been doing; read-only."""

    list_display = (
        "created",
        "team",
        "idp",
        "method",
        "path",
        "status",
        "duration_ms",
        "token_prefix",
    )
    list_filter = (StatusClassFilter, "idp", "method", "created", "team")
    search_fields = ("path", "query", "resource_id", "token_prefix")
    date_hierarchy = "created"
    list_select_related = ("team",)
    readonly_fields = ("created",)  # not editable, so not on the entry's page otherwise

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


admin.site.register(SCIMOAuthClient, SCIMOAuthClientAdmin)
