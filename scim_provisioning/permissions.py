"""The staff switch: a team's valid token is refused while SCIM is off for the team."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from .authentication import DISABLED, SCIMClient


class SCIMEnabledForTeam(BasePermission):
    """Allows the request only when the token's team has SCIM enabled (else 403).

    As the one token rule said it (:func:`.reads.token_rule`, ``SCIMClient.team_on``).
    """

    message = DISABLED

    def has_permission(self, request: Any, view: Any) -> bool:
        client = request.user
        return isinstance(client, SCIMClient) and client.team_on
