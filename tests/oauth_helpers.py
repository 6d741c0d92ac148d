"""Talking to the OAuth 2.0 endpoints as Entra ID and Okta do (RFC 6749 §4.1, §4.4)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client

TOKEN_URL = "/scim/v2/oauth/token"
AUTHORIZE_URL = "/scim/v2/oauth/authorize"
FORM = "application/x-www-form-urlencoded"
#: Where Okta's SCIM integrations receive the code (the app's name in the path).
OKTA_CALLBACK = "https://system-admin.okta.com/admin/app/cpc/acme_scim/oauth/callback"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def token_request(form: dict[str, str], *, authorization: str | None = None, **extra: Any) -> Any:
    """``POST`` the token endpoint a form, as RFC 6749 §4.1.3/§4.4.2/§6 write it."""
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    return Client().post(TOKEN_URL, urlencode(form), content_type=FORM, **headers, **extra)


def client_credentials(client_id: str, secret: str, *, in_body: bool = True) -> Any:
    """Entra ID's request: ``grant_type=client_credentials`` with the client's credentials."""
    if in_body:
        return token_request(
            {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        )
    return token_request(
        {"grant_type": "client_credentials"}, authorization=basic(client_id, secret)
    )


def s256(verifier: str) -> str:
    """RFC 7636 §4.2's S256 challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redirect_params(response: Any) -> dict[str, str]:
    """The query of a redirect to the client, each parameter once."""
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def redirect_base(response: Any) -> str:
    location = urlsplit(response["Location"])
    return f"{location.scheme}://{location.netloc}{location.path}"
