"""Bearer token → team: the DRF authentication class every SCIM view uses."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .models import SCIMTeamConfig, SCIMToken
from .tokens import verify_token


class SCIMClient:
    """``request.user`` of a SCIM request: the identity provider acting for one team."""

    is_authenticated = True
    is_anonymous = False
    is_active = True

    def __init__(self, token: SCIMToken) -> None:
        self.token = token
        self.team = token.team
        try:
            self.config: SCIMTeamConfig | None = token.team.scim_config
        except ObjectDoesNotExist:
            self.config = None

    @property
    def team_id(self) -> Any:
        return self.token.team_id

    def __str__(self) -> str:
        return f"SCIM client of {self.team} ({self.token.prefix}…)"


class SCIMTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``; anything else is a 401 with ``WWW-Authenticate``."""

    keyword = "bearer"

    def authenticate(self, request: Any) -> tuple[SCIMClient, SCIMToken]:
        header = get_authorization_header(request).split()
        if not header:
            raise exceptions.AuthenticationFailed("A bearer token is required.")
        if len(header) == 3 and header[1].lower() == self.keyword.encode():
            # "Bearer Bearer <token>": an admin pasted "Bearer <token>" into an
            # IdP field that adds "Bearer " itself.
            header = header[1:]
        if header[0].lower() != self.keyword.encode() or len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <token>'."
            )
        try:
            plaintext = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The bearer token is not valid.") from exc
        token = verify_token(plaintext)
        if token is None:
            raise exceptions.AuthenticationFailed(
                "The bearer token is not valid, has expired or was revoked."
            )
        return SCIMClient(token), token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="scim"'
