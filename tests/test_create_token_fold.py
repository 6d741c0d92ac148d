"""A create checks a remembered token inside its first read (issue 27).

``POST /Users`` reads, before it writes, the team's verified domains and whether
the address has a refusal to clear. For a token this worker remembers, that
statement also checks the token (:func:`scim_provisioning.reads.token_rule`) and
brings the team's SCIM config the create needs, instead of a full token lookup
before the write. These tests guard that fold: a token revoked or expired
between two creates is refused with a 401, a team switched off (or without a
config) with a 403, and none of them leaves an account, a record, a membership
or a timeline entry behind; the domains the create applies are the current ones;
a token this worker does not remember is looked up in full, as before.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning.adapters import DefaultAdapter
from scim_provisioning.models import (
    SCIMLinkRefusal,
    SCIMLinkRefusalReason,
    SCIMTeamConfig,
    SCIMTeamDomain,
    SCIMUser,
    SCIMUserEvent,
    TimelineAction,
)
from scim_provisioning.token_cache import cache as token_cache
from scim_provisioning.tokens import issue_token, revoke_tokens

from .conftest import IdPClient, assert_scim_error
from .token_helpers import TOKEN_TABLE, expire, revoke, token_reads

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def issued(team):
    return issue_token(team)


@pytest.fixture
def client(issued) -> IdPClient:
    return IdPClient(issued.plaintext)


@pytest.fixture
def first_create(client, provision, issued) -> dict:
    """A first create went through, and the token is remembered by this process."""
    ada = provision("ada@acme.com", client=client)
    assert token_cache.get(issued.token.digest) is not None
    return ada


def _create(client: IdPClient, email: str = "bob@acme.com"):
    return client.post(
        "/Users",
        {
            "userName": email,
            "name": {"givenName": "Bob", "familyName": "Builder"},
            "emails": [{"value": email, "type": "work", "primary": True}],
        },
    )


def _state(team) -> tuple:
    """What a create could leave behind: accounts, records, memberships, the timeline
    (a failed write's own entry apart: the timeline tells the team's managers of a 403)."""
    return (
        list(User.objects.order_by("pk").values_list("pk", "email")),
        list(SCIMUser.objects.values_list("pk", flat=True)),
        list(Membership.objects.order_by("pk").values_list("pk", "is_active")),
        list(
            SCIMUserEvent.objects.filter(team=team)
            .exclude(action=TimelineAction.WRITE_FAILED)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        list(SCIMLinkRefusal.objects.values_list("pk", flat=True)),
    )


@pytest.mark.parametrize("end", [revoke, expire], ids=["revoked", "expired"])
def test_a_token_ended_between_two_creates_is_refused_and_creates_nothing(
    client, first_create, team, issued, end
):
    end(team, issued)
    before = _state(team)

    response = _create(client)

    assert_scim_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _state(team) == before
    assert not User.objects.filter(email="bob@acme.com").exists()
    assert token_cache.get(issued.token.digest) is None


def test_a_team_switched_off_between_two_creates_is_refused_and_creates_nothing(
    client, first_create, team, issued
):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)
    before = _state(team)

    assert_scim_error(_create(client), 403)
    assert _state(team) == before
    assert token_cache.get(issued.token.digest) is None


def test_a_team_without_a_config_any_more_is_refused_and_creates_nothing(
    client, first_create, team
):
    SCIMTeamConfig.objects.filter(team=team).delete()
    before = _state(team)

    assert_scim_error(_create(client), 403)
    assert _state(team) == before


def test_a_refused_address_keeps_its_refusal_when_the_token_is_refused(client, first_create, team):
    """The refusal the first read saw is not cleared by a create that is refused."""
    SCIMLinkRefusal.objects.create(
        team=team, email="bob@acme.com", reason=SCIMLinkRefusalReason.SEAT
    )
    revoke_tokens(team)

    assert_scim_error(_create(client), 401)
    assert SCIMLinkRefusal.objects.filter(team=team, email="bob@acme.com").exists()


def test_a_bad_body_of_an_ended_token_is_a_401(client, first_create, team):
    """A body refused before the first read still answers the token first."""
    revoke_tokens(team)

    assert_scim_error(_create(client, "not an address"), 401)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "orm"])
def test_a_remembered_tokens_create_is_checked_in_its_first_read(
    client, first_create, team, compiled
):
    with override_settings(SCIM_PROVISIONING_COMPILED_QUERIES=compiled):
        with CaptureQueriesContext(connection) as queries:
            response = _create(client)

    assert response.status_code == 201, response.content
    assert token_reads(queries) == []
    reads = [q["sql"] for q in queries if q["sql"].lstrip().startswith("SELECT")]
    assert TOKEN_TABLE in reads[0]  # the token's rule, inside the create's first read


def test_a_token_not_remembered_is_looked_up_in_full_first(client, first_create, issued):
    token_cache.forget(issued.token.digest)

    with CaptureQueriesContext(connection) as queries:
        response = _create(client)

    assert response.status_code == 201, response.content
    assert len(token_reads(queries)) == 1
    assert not any(TOKEN_TABLE in q["sql"] for q in queries[1:])  # not checked twice


def test_a_create_applies_the_teams_current_domains(client, first_create, team):
    """The config comes with the first read: a domain rule set a moment ago holds."""
    SCIMTeamConfig.objects.filter(team=team).update(verified_domains=["acme.com"])

    assert_scim_error(_create(client, "bob@elsewhere.org"), 400, "invalidValue")
    assert not User.objects.filter(email="bob@elsewhere.org").exists()
    assert _create(client, "bob@acme.com").status_code == 201


def test_a_create_applies_the_domains_the_team_proved(client, first_create, team):
    """Proven domains come with the first read too, next to the staff-set ones."""
    SCIMTeamConfig.objects.filter(team=team).update(verified_domains=["acme.com"])
    SCIMTeamDomain.objects.create(team=team, domain="globex.org", verified_at=timezone.now())
    SCIMTeamDomain.objects.create(team=team, domain="initech.org")  # claimed, not proven

    assert _create(client, "bob@globex.org").status_code == 201
    assert_scim_error(_create(client, "eve@initech.org"), 400, "invalidValue")
    assert_scim_error(_create(client, "eve@elsewhere.org"), 400, "invalidValue")


def test_a_remembered_token_losing_the_account_race_runs_again_checked(
    client, first_create, other_idp, monkeypatch
):
    """The second run of a create (:class:`~scim_provisioning.provisioning.common.RunAgain`)
    has its token checked by the first: it links the account another team just created."""
    other_idp.post("/Users", {"userName": "bob@acme.com"})
    looked_up = []
    find_account = DefaultAdapter.find_account

    def before_the_other_team_committed(self, config, email):
        looked_up.append(email)
        return None if len(looked_up) == 1 else find_account(self, config, email)

    monkeypatch.setattr(DefaultAdapter, "find_account", before_the_other_team_committed)

    with CaptureQueriesContext(connection) as queries:
        response = _create(client)

    assert_scim_error(response, 409, "uniqueness")  # another team's SCIM account proves nothing
    assert looked_up == ["bob@acme.com", "bob@acme.com"]
    assert token_reads(queries) == []
    assert User.objects.filter(email__iexact="bob@acme.com").count() == 1
