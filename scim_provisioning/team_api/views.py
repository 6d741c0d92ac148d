"""The team SCIM API: session authentication with CSRF, plain JSON, DRF's own errors."""

from __future__ import annotations

from typing import Any

from django.middleware.csrf import get_token
from django.utils.cache import add_never_cache_headers
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import exports
from ..links import oauth_endpoint_url
from ..models import SCIMOAuthClient
from ..parsers import BoundedJSONParser
from ..people import describe, team_people
from ..setup_links import link_path
from ..storable_text import refuse_unstorable, refuse_unstorable_url
from ..teams import SCIMNotEnabled
from ..tokens import IssuedToken
from . import services
from .permissions import CanManageTeamSCIM
from .serializers import (
    AddDomainSerializer,
    CreatedSetupLinkSerializer,
    CreateOAuthClientSerializer,
    DomainSerializer,
    HeldChangeSerializer,
    HeldDecisionSerializer,
    IssuedTokenSerializer,
    IssueSerializer,
    OAuthClientSerializer,
    PersonSerializer,
    RotateOAuthSecretSerializer,
    RotateSerializer,
    SetupLinkLifetimeSerializer,
    SetupLinkSerializer,
    SetupLinkUseSerializer,
    StatusSerializer,
    TimelineEntrySerializer,
)


class TeamSCIMView(APIView):
    """Base view; ``self.team`` is set by the permission check."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [CanManageTeamSCIM]
    renderer_classes = [JSONRenderer]
    # The SCIM endpoints' JSON parser: the same depth bound and storable-text rule.
    parser_classes = [BoundedJSONParser, FormParser, MultiPartParser]
    throttle_classes: list[Any] = []

    team: Any = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Issue 21: a NUL in a prefix, a domain or ?person= reached PostgreSQL (a 500).
        # Form bodies are checked here; JSON ones by the parser already.
        refuse_unstorable_url(request)
        refuse_unstorable(request.data)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, SCIMNotEnabled):
            return Response({"detail": services.DISABLED_MESSAGE}, status=status.HTTP_409_CONFLICT)
        return super().handle_exception(exc)

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)  # private to the team's managers; issues carry secrets
        return response


def _issued(issued: IssuedToken) -> Response:
    data = IssuedTokenSerializer(issued.token, context={"plaintext": issued.plaintext}).data
    return Response(data, status=status.HTTP_201_CREATED)


class StatusView(TeamSCIMView):
    """``GET``: switch, base URL, tokens and the last 50 requests. Sets the CSRF cookie."""

    def get(self, request: Request, team_slug: str) -> Response:
        get_token(request)  # front ends read the csrftoken cookie for their POSTs
        return Response(StatusSerializer(services.get_status(self.team, request)).data)


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv`` through DRF's negotiation; the views stream the CSV themselves.

    What it renders is an error's body (a 404, a 400) as a one-column CSV.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        detail = data.get("detail", "") if isinstance(data, dict) else ""
        return f"detail\r\n{exports.safe_cell(detail)}\r\n".encode()


def _wants_csv(request: Request) -> bool:
    return getattr(request.accepted_renderer, "format", None) == "csv"


class TimelineView(TeamSCIMView):
    """``GET ?person=&action=[&format=csv]``: the newest changes SCIM made to the team's people.

    ``person``: a substring of any userName, email, name or externalId the person
    ever had, or a SCIM user id; ``action``: a timeline action (``user.deactivated``,
    ``user.write_failed``, …). At most 100 entries, newest first; as CSV, at most
    :data:`~scim_provisioning.exports.MAX_ROWS`.
    """

    renderer_classes = [JSONRenderer, CSVRenderer]

    def get(self, request: Request, team_slug: str) -> Any:
        person = request.query_params.get("person", "")
        action = request.query_params.get("action", "")
        if _wants_csv(request):
            entries = services.timeline_export(
                self.team, person=person, action=action, limit=exports.MAX_ROWS
            )
            return exports.csv_response("scim-timeline.csv", TIMELINE_COLUMNS, map(_row, entries))
        page = services.timeline(self.team, person=person, action=action)
        entries = TimelineEntrySerializer(page.entries, many=True).data
        return Response({"person": page.person, "action": page.action, "entries": entries})


TIMELINE_COLUMNS = [
    "created",
    "user_name",
    "action",
    "what",
    "changes",
    "status",
    "scimType",
    "detail",
    "hint",
    "summary",
    "group_name",
    "role",
    "token_prefix",
    "request_id",
    "scim_user_id",
]


def _row(entry: Any) -> list[Any]:
    outcome = entry.outcome or {}
    changes = "; ".join(f"{path}: {old} -> {new}" for path, old, new in entry.change_list)
    return [
        entry.created,
        entry.user_name,
        entry.action,
        entry.get_action_display(),
        changes,
        outcome.get("status"),
        outcome.get("scimType"),
        outcome.get("detail"),
        outcome.get("hint"),
        entry.outcome_text,
        entry.group_name,
        entry.role,
        entry.token_prefix,
        entry.request_id,
        entry.scim_user_id,
    ]


PEOPLE_COLUMNS = [
    "user_name",
    "display_name",
    "email",
    "external_id",
    "active",
    "groups",
    "roles",
    "login",
    "last_modified",
    "id",
]


class PeopleView(TeamSCIMView):
    """``GET ?q=&page=[&format=csv]``: the people the team's IdP manages, 50 a page.

    ``q``: a substring (any case) of any userName, email, name or externalId a
    person ever had. Each person's current state: active, groups, roles, the
    account's real login, the last change.
    """

    renderer_classes = [JSONRenderer, CSVRenderer]

    def get(self, request: Request, team_slug: str) -> Any:
        q = request.query_params.get("q", "")
        if _wants_csv(request):
            records = team_people(self.team, q=q[:255])[: exports.MAX_ROWS]
            rows = (
                [
                    p.user_name,
                    p.display_name,
                    p.email,
                    p.external_id,
                    p.active,
                    ", ".join(p.groups),
                    ", ".join(p.roles),
                    p.login,
                    p.last_modified,
                    p.id,
                ]
                for p in map(describe, records.iterator(chunk_size=500))
            )
            return exports.csv_response("scim-people.csv", PEOPLE_COLUMNS, rows)
        page = services.people(self.team, q=q, page=request.query_params.get("page", 1))
        return Response(
            {
                "q": page.q,
                "count": page.count,
                "page": page.page,
                "pages": page.pages,
                "people": PersonSerializer(page.people, many=True).data,
            }
        )


class IssueTokenView(TeamSCIMView):
    """``POST {"expires_in": "90d"}``: a new token; the only response with its plaintext.

    ``expires_in``: ``90d``, ``12h``, ``never``; absent: the site's default lifetime.
    """

    def post(self, request: Request, team_slug: str) -> Response:
        options = IssueSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        return _issued(services.issue(self.team, request.user, expires_in=options.lifetime()))


class RotateTokenView(TeamSCIMView):
    """``POST {"overlap_hours": 24, "expires_in": "90d"}``: a new token; the others end
    after the overlap."""

    def post(self, request: Request, team_slug: str) -> Response:
        options = RotateSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        hours = options.validated_data.get("overlap_hours")
        return _issued(
            services.rotate(
                self.team, request.user, overlap_hours=hours, expires_in=options.lifetime()
            )
        )


class RevokeTokenView(TeamSCIMView):
    """``POST``: revoke the token with this prefix (404 when no unrevoked one has it)."""

    def post(self, request: Request, team_slug: str, prefix: str) -> Response:
        revoked = services.revoke(self.team, prefix)
        if not revoked:
            raise NotFound("No unrevoked token has this prefix.")
        return Response({"revoked": revoked})


class RevokeAllTokensView(TeamSCIMView):
    """``POST``: revoke every token of the team."""

    def post(self, request: Request, team_slug: str) -> Response:
        return Response({"revoked": services.revoke_all(self.team)})


def _credentials(request: Request, client: SCIMOAuthClient, secret: str) -> Response:
    """The one response with a client secret: what the IdP admin pastes, and the client."""
    data = {
        "token_url": oauth_endpoint_url("token", request),
        "authorize_url": oauth_endpoint_url("authorize", request),
        "client_id": client.client_id,
        "client_secret": secret,
        "client": OAuthClientSerializer(client).data,
    }
    return Response(data, status=status.HTTP_201_CREATED)


class CreateOAuthClientView(TeamSCIMView):
    """``POST {"name", "redirect_uris", "expires_in", "access_token_lifetime"}``: a new OAuth
    2.0 client; the only response with its secret (``token_url``, ``client_id``,
    ``client_secret``, as Entra ID's fields want them)."""

    def post(self, request: Request, team_slug: str) -> Response:
        options = CreateOAuthClientSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        data = options.validated_data
        try:
            issued = services.create_oauth_client(
                self.team,
                request.user,
                name=data["name"],
                redirect_uris=data["redirect_uris"],
                secret_expires_in=data.get("expires_in"),
                access_token_lifetime=data.get("access_token_lifetime"),
            )
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return _credentials(request, issued.client, issued.secret)


class RotateOAuthSecretView(TeamSCIMView):
    """``POST {"overlap_hours": 24, "expires_in": "90d"}``: a new secret for the client; its
    other secrets end after the overlap (404 for a client not the team's)."""

    def post(self, request: Request, team_slug: str, client_id: str) -> Response:
        options = RotateOAuthSecretSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        try:
            client, secret = services.rotate_oauth_secret(
                self.team,
                client_id,
                overlap_hours=options.validated_data.get("overlap_hours"),
                expires_in=options.validated_data.get("expires_in"),
            )
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return _credentials(request, client, secret)


class RevokeOAuthClientView(TeamSCIMView):
    """``POST``: revoke the client; its access tokens are refused from the next request."""

    def post(self, request: Request, team_slug: str, client_id: str) -> Response:
        return Response(
            {"revoked_access_tokens": services.revoke_oauth_client(self.team, client_id)}
        )


class AddDomainView(TeamSCIMView):
    """``POST {"domain": "acme.com"}``: claim a domain; the answer has the TXT record to publish."""

    def post(self, request: Request, team_slug: str) -> Response:
        options = AddDomainSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        try:
            claim = services.add_domain(self.team, request.user, options.validated_data["domain"])
        except services.InvalidDomain as exc:
            raise ValidationError({"domain": [str(exc)]}) from exc
        return Response(DomainSerializer(claim).data, status=status.HTTP_201_CREATED)


class CheckDomainView(TeamSCIMView):
    """``POST``: look for the domain's TXT record now; ``verified`` and a ``message`` say what."""

    def post(self, request: Request, team_slug: str, domain: str) -> Response:
        check = services.check_domain(self.team, request.user, domain)
        return Response(
            {
                "verified": check.verified,
                "message": check.message,
                "domain": DomainSerializer(check.domain).data,
            }
        )


class RemoveDomainView(TeamSCIMView):
    """``POST``: withdraw the team's claim on the domain (404 when it has none)."""

    def post(self, request: Request, team_slug: str, domain: str) -> Response:
        removed = services.remove_domain(self.team, domain)
        if not removed:
            raise NotFound("This team has not added that domain.")
        return Response({"removed": removed})


class SetupLinksView(TeamSCIMView):
    """``GET``: the team's setup links and their latest uses. ``POST {"expires_in": "7d"}``:
    a new link; the answer is the only one that carries it (``url``; ``path`` alone when
    ``SCIM_PROVISIONING_BASE_URL`` is not set, since a URL is never built from ``Host``)."""

    def get(self, request: Request, team_slug: str) -> Response:
        activity = services.setup_link_activity(self.team)
        return Response(
            {
                "links": SetupLinkSerializer(activity.links, many=True).data,
                "uses": SetupLinkUseSerializer(activity.uses, many=True).data,
            }
        )

    def post(self, request: Request, team_slug: str) -> Response:
        options = SetupLinkLifetimeSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        created = services.create_setup_link(
            self.team, request.user, expires_in=options.validated_data.get("expires_in")
        )
        context = {"url": created.url, "path": link_path(created.secret)}
        body = CreatedSetupLinkSerializer(created.link, context=context).data
        return Response(body, status=status.HTTP_201_CREATED)


class RevokeSetupLinkView(TeamSCIMView):
    """``POST``: revoke this live link of the team (404 when it has none with this id)."""

    def post(self, request: Request, team_slug: str, pk: int) -> Response:
        revoked = services.revoke_setup_links(self.team, pk=pk)
        if not revoked:
            raise NotFound("The team has no live setup link with this id.")
        return Response({"revoked": revoked})


class RevokeAllSetupLinksView(TeamSCIMView):
    """``POST``: revoke every live setup link of the team."""

    def post(self, request: Request, team_slug: str) -> Response:
        return Response({"revoked": services.revoke_setup_links(self.team)})


class HeldChangesView(TeamSCIMView):
    """``GET``: the deprovisionings the guard holds for the team (docs/deprovision-guard.md)."""

    def get(self, request: Request, team_slug: str) -> Response:
        changes = services.held_changes(self.team)
        return Response({"held": HeldChangeSerializer(changes, many=True).data})


class _DecideHeldView(TeamSCIMView):
    release = True

    def post(self, request: Request, team_slug: str) -> Response:
        options = HeldDecisionSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        decisions = services.decide_held(
            self.team, request.user, release=self.release, ids=options.validated_data.get("ids")
        )
        data = HeldChangeSerializer([d.change for d in decisions], many=True).data
        return Response({"decided": data, "refused": sum(1 for d in decisions if d.refused)})


class ReleaseHeldView(_DecideHeldView):
    """``POST {"ids": [...]}`` (or ``{}``: all): apply the held changes; a refusal is in
    ``detail`` of its entry (``outcome`` ``refused``) and recorded for the team."""

    release = True


class DiscardHeldView(_DecideHeldView):
    """``POST {"ids": [...]}`` (or ``{}``: all): keep the memberships, recorded as yours."""

    release = False
