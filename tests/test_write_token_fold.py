"""A write of a record by id checks a remembered token inside its locked read (issue 27).

PUT, PATCH and DELETE of ``/Users/{id}`` and ``/Groups/{id}`` lock their record
with ``SELECT … FOR UPDATE``; for a token this worker remembers, that statement
also checks the token (:func:`scim_provisioning.reads.token_rule`) and brings
the team's SCIM config the write needs, instead of a full token lookup before
the write. These tests guard that fold: a token revoked or expired between two
writes is refused with a 401, a team switched off with a 403, and neither
changes anything; a missing record still says 401/403 before 404; the config
the write applies is the current one.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from example_project.teams.models import Membership
from scim_provisioning.models import (
    SCIMGroup,
    SCIMGroupMembership,
    SCIMTeamConfig,
    SCIMUser,
    SCIMUserEvent,
    TimelineAction,
)
from scim_provisioning.token_cache import cache as token_cache
from scim_provisioning.tokens import issue_token, revoke_tokens

from .conftest import IdPClient, assert_scim_error, patch_op
from .token_helpers import TOKEN_TABLE, expire, revoke, token_reads

pytestmark = pytest.mark.django_db

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def issued(team):
    return issue_token(team)


@pytest.fixture
def client(issued) -> IdPClient:
    return IdPClient(issued.plaintext)


@pytest.fixture
def ada(client, provision) -> dict:
    return provision("ada@acme.com", client=client)


@pytest.fixture
def first_write(client, ada, issued):
    """A first write went through, and the token is remembered by this process."""
    body = patch_op({"op": "replace", "path": "title", "value": "Engineer"})
    assert client.patch(f"/Users/{ada['id']}", body).status_code == 200
    assert token_cache.get(issued.token.digest) is not None


#: The second write, as an IdP sends it to a user.
WRITES = {
    "put": lambda c, pk: c.put(f"/Users/{pk}", {"userName": "ada@acme.com", "title": "Boss"}),
    "patch": lambda c, pk: c.patch(
        f"/Users/{pk}", patch_op({"op": "replace", "path": "active", "value": False})
    ),
    "delete": lambda c, pk: c.delete(f"/Users/{pk}"),
}


def _state(team) -> tuple:
    """What a write could change: the records, their values, the memberships and the timeline
    (a failed write's own entry apart: the timeline tells the team's managers of a 403)."""
    return (
        list(SCIMUser.objects.filter(team=team).values()),
        list(Membership.objects.filter(team=team).order_by("pk").values()),
        list(
            SCIMUserEvent.objects.filter(team=team)
            .exclude(action=TimelineAction.WRITE_FAILED)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        list(SCIMGroupMembership.objects.filter(group__team=team).values()),
    )


@pytest.mark.parametrize("end", [revoke, expire], ids=["revoked", "expired"])
@pytest.mark.parametrize("write", list(WRITES))
def test_a_token_ended_between_two_writes_is_refused_and_changes_nothing(
    client, ada, first_write, team, issued, write, end
):
    end(team, issued)
    before = _state(team)

    response = WRITES[write](client, ada["id"])

    assert_scim_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _state(team) == before
    assert token_cache.get(issued.token.digest) is None


@pytest.mark.parametrize("write", list(WRITES))
def test_a_team_switched_off_between_two_writes_is_refused_and_changes_nothing(
    client, ada, first_write, team, issued, write
):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)
    before = _state(team)

    response = WRITES[write](client, ada["id"])

    assert_scim_error(response, 403)
    assert _state(team) == before
    assert token_cache.get(issued.token.digest) is None


@pytest.mark.parametrize("write", list(WRITES))
def test_a_team_without_a_config_any_more_is_refused_and_changes_nothing(
    client, ada, first_write, team, write
):
    SCIMTeamConfig.objects.filter(team=team).delete()
    before = _state(team)

    assert_scim_error(WRITES[write](client, ada["id"]), 403)
    assert _state(team) == before


@pytest.mark.parametrize("write", list(WRITES))
def test_a_missing_record_says_401_before_404(client, ada, first_write, team, write):
    """No row vouches for the token: the full check runs, and refuses it."""
    revoke_tokens(team)

    assert_scim_error(WRITES[write](client, UNKNOWN), 401)


@pytest.mark.parametrize("write", list(WRITES))
def test_a_missing_record_is_a_404_for_a_valid_token(client, ada, first_write, write):
    with CaptureQueriesContext(connection) as queries:
        response = WRITES[write](client, UNKNOWN)

    assert_scim_error(response, 404)
    assert len(token_reads(queries)) == 1  # the full check: a missing row vouches for nothing


@pytest.mark.parametrize("write", list(WRITES))
def test_a_remembered_tokens_write_is_checked_in_its_locked_read(
    client, ada, first_write, team, write
):
    with CaptureQueriesContext(connection) as queries:
        response = WRITES[write](client, ada["id"])

    assert response.status_code in (200, 204), response.content
    assert token_reads(queries) == []
    locked = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"] or TOKEN_TABLE in q["sql"]]
    assert TOKEN_TABLE in locked[0]  # the token's rule, inside the first (locked) read


def test_a_write_applies_the_teams_current_policy(client, ada, first_write, team):
    """The config comes with the locked record: a domain rule set a moment ago holds."""
    SCIMTeamConfig.objects.filter(team=team).update(verified_domains=["acme.com"])
    body = {"userName": "ada@elsewhere.org", "emails": [{"value": "ada@elsewhere.org"}]}

    response = client.put(f"/Users/{ada['id']}", body)

    assert_scim_error(response, 400, "invalidValue")
    assert SCIMUser.objects.get(pk=ada["id"]).user_name == "ada@acme.com"


@pytest.fixture
def engineering(client, ada, team) -> SCIMGroup:
    body = {"displayName": "Engineering", "members": [{"value": ada["id"]}]}
    response = client.post("/Groups", body)
    assert response.status_code == 201, response.content
    return SCIMGroup.objects.get(pk=response.json()["id"])


GROUP_WRITES = {
    "put": lambda c, pk: c.put(f"/Groups/{pk}", {"displayName": "Renamed", "members": []}),
    "patch": lambda c, pk: c.patch(
        f"/Groups/{pk}", patch_op({"op": "replace", "path": "displayName", "value": "Renamed"})
    ),
    "delete": lambda c, pk: c.delete(f"/Groups/{pk}"),
}


@pytest.mark.parametrize("refusal", [401, 403])
@pytest.mark.parametrize("write", list(GROUP_WRITES))
def test_a_group_write_of_an_ended_token_or_team_changes_nothing(
    client, engineering, first_write, team, write, refusal
):
    if refusal == 401:
        revoke_tokens(team)
    else:
        SCIMTeamConfig.objects.filter(team=team).update(enabled=False)
    before = _state(team)

    assert_scim_error(GROUP_WRITES[write](client, engineering.pk), refusal)
    assert _state(team) == before
    assert SCIMGroup.objects.get(pk=engineering.pk).display_name == "Engineering"
