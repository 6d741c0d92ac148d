"""People of the example site's teams, for the team page and API tests."""

from __future__ import annotations

from django.test import Client

from example_project.teams.models import Membership

from .conftest import IdPClient
from .example_factories import MembershipFactory


def member_of(team, role=Membership.Role.MEMBER, **extra):
    """A new user with a membership of ``team`` in ``role``."""
    return MembershipFactory(team=team, role=role, **extra).user


def logged_in(user, **kwargs) -> Client:
    """A browser session of ``user``."""
    client = Client(**kwargs)
    client.force_login(user)
    return client


def scim_works(plaintext: str) -> bool:
    """Whether ``plaintext`` is a token the SCIM API accepts."""
    response = IdPClient(plaintext).get("/Users")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200
