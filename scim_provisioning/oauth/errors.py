"""Token endpoint errors as RFC 6749 §5.2 says: JSON ``{"error", "error_description"}``."""

from __future__ import annotations

from django.http import JsonResponse

#: Responses with tokens or their errors are never cached (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    """A refusal at the token endpoint: ``error`` is one of RFC 6749 §5.2's codes."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JsonResponse:
        response = JsonResponse(
            {"error": self.error, "error_description": self.description}, status=self.status
        )
        for name, value in NO_STORE.items():
            response[name] = value
        if self.status == 401:
            # §5.2: a client that authenticated with the Authorization header MUST
            # be told the scheme; one that used the body may be, and no client minds.
            response["WWW-Authenticate"] = 'Basic realm="scim-oauth"'
        return response


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_client(description: str = "Client authentication failed.") -> OAuthError:
    return OAuthError("invalid_client", description, status=401)


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)
