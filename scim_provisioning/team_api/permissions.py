"""Access to a team's SCIM settings: its managers only (the adapter's ``can_manage_scim``)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from . import services


class CanManageTeamSCIM(BasePermission):
    """Logged in, and a manager of the team named by the URL's ``team_slug``.

    Anonymous: 403 (session authentication). Not a member of the team, or no
    such team: 404. A member without a manager role: 403. On success the team
    is ``view.team``.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        view.team = services.get_managed_team(user, view.kwargs["team_slug"])
        return True
