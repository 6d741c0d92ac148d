"""The token endpoint (RFC 6749 §3.2) and the authorize endpoint (§3.1) with its consent page."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_exempt

from ..adapters import get_adapter
from ..conf import app_settings
from ..models import SCIMOAuthClient
from ..teams import SCIMNotEnabled
from . import grants, pkce
from .clients import active_client, authenticate_client
from .errors import NO_STORE, OAuthError, invalid_client, invalid_request

#: Parameters that carry a secret: refused in a URL, where logs and proxies keep them.
_SECRET_PARAMETERS = ("client_secret", "code", "refresh_token", "code_verifier")
GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token")
#: What the consent page says the IdP may do once allowed.
ABILITIES = (
    "create, update, deactivate and remove the team's members",
    "create, update and remove the team's groups and their members",
    "read the team's members and groups",
)


def _oauth_on() -> None:
    if "oauth" not in app_settings.AUTHENTICATION_SCHEMES:
        raise Http404("OAuth 2.0 is not switched on.")


@csrf_exempt  # a server-to-server endpoint authenticated by the client's own credentials
def token_endpoint(request: HttpRequest) -> HttpResponse:
    """``POST`` a form (§4.4.2, §4.1.3, §6): an access token as JSON, or a §5.2 error."""
    _oauth_on()
    if request.method != "POST":
        response = HttpResponse(status=405, headers=NO_STORE)
        response["Allow"] = "POST"
        return response
    try:
        body = _token(request)
    except OAuthError as error:
        return error.response()
    response = JsonResponse(body)
    for name, value in NO_STORE.items():
        response[name] = value
    return response


def _token(request: HttpRequest) -> dict[str, Any]:
    content_type = request.content_type or ""
    if content_type != "application/x-www-form-urlencoded":
        raise invalid_request("The body must be application/x-www-form-urlencoded (RFC 6749 §3.2).")
    if any(name in request.GET for name in _SECRET_PARAMETERS):
        raise invalid_request("Credentials go in the body, never in the URL.")
    form = request.POST
    repeated = sorted(name for name in form if len(form.getlist(name)) > 1)
    if repeated:
        named = ", ".join(name[:40] for name in repeated[:5])  # names are the client's bytes
        raise invalid_request(f"Parameters sent more than once: {named}.")
    client = _authenticated_client(request)
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise invalid_request("grant_type is required.")
    if grant_type not in GRANT_TYPES:
        raise OAuthError(
            "unsupported_grant_type", "Use client_credentials, authorization_code or refresh_token."
        )
    refusal: OAuthError | None = None
    try:
        with transaction.atomic():
            try:
                body = _grant(client, grant_type, form)
            except OAuthError as error:
                # Committed, not rolled back: a code refused for its verifier or
                # redirect URI stays used, so a verifier cannot be guessed at.
                refusal = error
    except SCIMNotEnabled as exc:
        raise OAuthError(
            "unauthorized_client",
            "SCIM provisioning is not enabled for this team. Contact the site's support.",
        ) from exc
    if refusal is not None:
        raise refusal
    return body


def _grant(client: SCIMOAuthClient, grant_type: str, form: Any) -> dict[str, Any]:
    """Redeem what ``grant_type`` names and issue the tokens it is worth."""
    if grant_type == "authorization_code":
        code = form.get("code", "")
        if not code:
            raise invalid_request("code is required.")
        grants.redeem_code(
            client,
            code,
            redirect_uri=form.get("redirect_uri", ""),
            code_verifier=form.get("code_verifier", ""),
        )
        return grants.access_token_response(client, refresh=True)
    if grant_type == "refresh_token":
        refresh_token = form.get("refresh_token", "")
        if not refresh_token:
            raise invalid_request("refresh_token is required.")
        grants.redeem_refresh_token(client, refresh_token)
        return grants.access_token_response(client, refresh=True)
    return grants.access_token_response(client, refresh=False)


def _authenticated_client(request: HttpRequest) -> SCIMOAuthClient:
    """The client, authenticated by HTTP Basic (§2.3.1) or by ``client_id`` and
    ``client_secret`` in the body; never both at once (§2.3)."""
    form = request.POST
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != "basic":
            raise invalid_client("Authenticate the client with HTTP Basic or in the body.")
        if "client_secret" in form:
            raise invalid_request("Authenticate the client one way: HTTP Basic or the body.")
        client_id, secret = _basic(credentials.strip())
        if form.get("client_id", client_id) != client_id:
            raise invalid_request("client_id in the body differs from the one in HTTP Basic.")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not secret:
            raise invalid_client("client_id and client_secret are required.")
    client = authenticate_client(client_id, secret)
    if client is None:
        raise invalid_client()
    return client


def _basic(credentials: str) -> tuple[str, str]:
    """``client_id`` and secret of HTTP Basic: each form-urlencoded first (§2.3.1)."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise invalid_client("The Basic credentials are not valid base64.") from exc
    user, colon, password = decoded.partition(":")
    if not colon:
        raise invalid_client("The Basic credentials must be client_id:client_secret.")
    return unquote_plus(user), unquote_plus(password)


class _Refusal(Exception):
    """An authorize request that cannot be sent back to the client (§4.1.2.1)."""


@xframe_options_deny  # a consent button must not be clickable through another site's frame
@never_cache
def authorize_endpoint(request: HttpRequest) -> HttpResponse:
    """``GET``: the consent page; ``POST`` (the page's form): the code, or ``access_denied``.

    An unknown client or a redirect URI not registered exactly is shown here and
    never redirected to (§4.1.2.1: that would make us an open redirector). Only a
    signed-in manager of the client's team (the adapter's ``can_manage_scim``)
    may consent.
    """
    _oauth_on()
    if request.method not in ("GET", "POST"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, POST"
        return response
    params = request.POST if request.method == "POST" else request.GET
    try:
        client, redirect_uri = _client_and_redirect(params)
    except _Refusal as refusal:
        return render(
            request, "scim_provisioning/oauth/refused.html", {"reason": str(refusal)}, status=400
        )
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not get_adapter().can_manage_scim(client.team, request.user):
        return render(
            request,
            "scim_provisioning/oauth/refused.html",
            {"reason": f"Only a manager of {client.team} can connect its identity provider."},
            status=403,
        )
    state = params.get("state", "")
    if params.get("response_type") != "code":
        return _back(redirect_uri, state, error="unsupported_response_type")
    challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "plain" if challenge else "")
    if challenge and (method not in pkce.METHODS or not pkce.is_valid_challenge(challenge)):
        return _back(redirect_uri, state, error="invalid_request")
    if method and not challenge:
        return _back(redirect_uri, state, error="invalid_request")
    if request.method == "GET":
        context = {
            "client": client,
            "team": client.team,
            "signed_in_as": request.user,  # not every host has the request context processor
            "abilities": ABILITIES,
            "redirect_host": urlsplit(redirect_uri).hostname,
            "fields": {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": method,
            },
        }
        return render(request, "scim_provisioning/oauth/consent.html", context)
    if "allow" not in request.POST:
        return _back(redirect_uri, state, error="access_denied")
    try:
        code = grants.issue_code(
            client,
            consented_by=request.user,
            redirect_uri=redirect_uri,
            code_challenge=challenge,
            code_challenge_method=method,
        )
    except SCIMNotEnabled:
        return _back(redirect_uri, state, error="unauthorized_client")
    return _back(redirect_uri, state, code=code)


def _client_and_redirect(params: Any) -> tuple[SCIMOAuthClient, str]:
    client = active_client(params.get("client_id", ""))
    if client is None:
        raise _Refusal("This identity provider's client_id is unknown or was revoked.")
    registered = list(client.redirect_uris or [])
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri and len(registered) == 1:
        redirect_uri = registered[0]  # §3.1.2.3: optional when only one is registered
    if redirect_uri not in registered:
        raise _Refusal(
            "The redirect_uri is not one registered for this client (it must match exactly)."
        )
    return client, redirect_uri


def _back(redirect_uri: str, state: str, **answer: str) -> HttpResponseRedirect:
    """Back to the client, ``answer`` and ``state`` added to its URI's own query (§4.1.2)."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += list(answer.items())
    if state:
        query.append(("state", state))
    return HttpResponseRedirect(urlunsplit(parts._replace(query=urlencode(query))))
