"""A person's provisioning timeline: what SCIM did to them, step by step, and nothing else.

The IdP's requests are replayed from ``tests/payloads/``; the timeline is read
the way support reads it (newest first, then turned round here to tell the
story in order).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning import request_context, timeline, writes
from scim_provisioning.models import (
    SCIMRequestLog,
    SCIMTeamConfig,
    SCIMToken,
    SCIMUser,
    SCIMUserEvent,
    TimelineAction,
)
from scim_provisioning.redaction import REDACTED
from scim_provisioning.resource_types import USERS
from scim_provisioning.retention import prune_timeline

from .conftest import assert_scim_error, load_payload, patch_op
from .conversations import Conversation
from .example_factories import MembershipFactory
from .factories import UserFactory

pytestmark = pytest.mark.django_db

A = TimelineAction


def story(team, scim_user_id) -> list[SCIMUserEvent]:
    """The person's entries, oldest first."""
    return list(reversed(timeline.team_timeline(team, person=str(scim_user_id))))


def steps(team, scim_user_id) -> list[tuple[str, str]]:
    return [(entry.action, entry.group_name) for entry in story(team, scim_user_id)]


def created(response) -> dict:
    assert response.status_code == 201, response.content
    return response.json()


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


# -- the story the issue asks for --------------------------------------------------------


def test_provisioned_renamed_moved_between_groups_and_deactivated(idp, team):
    convo = Conversation(idp, "okta_oin")
    jane = created(convo.send("post_user"))["id"]
    sam = created(convo.send("post_second_user"))["id"]
    first = created(convo.send("post_group_empty"))["id"]
    ok(convo.send("patch_group_replace_members", group_id=first, user_id=jane, member_id=sam))
    ok(convo.send("put_profile", user_id=jane))
    second = created(convo.send("post_second_group"))["id"]
    # Jane leaves the first group (Sam, named to be added, is in it already) ...
    ok(
        convo.send(
            "patch_group_remove_filter_add_members", group_id=first, member_id=jane, user_id=sam
        )
    )
    # ... and joins the second (Sam, named to be removed, was never in it).
    ok(
        convo.send(
            "patch_group_remove_filter_add_members", group_id=second, member_id=sam, user_id=jane
        )
    )
    ok(convo.send("patch_deactivate_nopath", user_id=jane))

    assert steps(team, jane) == [
        (A.CREATED, ""),
        (A.JOINED_GROUP, "Test SCIMv2"),
        (A.UPDATED, ""),
        (A.LEFT_GROUP, "Test SCIMv2"),
        (A.JOINED_GROUP, "Engineering"),
        (A.DEACTIVATED, ""),
    ]
    entries = story(team, jane)
    assert entries[0].changes == {
        "account.email": [None, "test.user@okta.local"],
        "active": [None, True],
        "displayName": [None, "Test User"],
        "emails": [None, [{"primary": True, "value": "test.user@okta.local", "type": "work"}]],
        "externalId": [None, "00ujl29u0le5T6Aj10h7"],
        "locale": [None, "en-US"],
        "name.familyName": [None, "User"],
        "name.givenName": [None, "Test"],
        "userName": [None, "test.user@okta.local"],
    }
    assert entries[2].changes == {
        "name.givenName": ["Test", "Another"],
        "name.middleName": [None, "Excited"],
    }
    assert [entry.group_id for entry in entries[1:5] if entry.group_id] == [
        _uuid(first),
        _uuid(first),
        _uuid(second),
    ]
    # Sam's own timeline holds his steps, not Jane's.
    assert steps(team, sam) == [(A.CREATED, ""), (A.JOINED_GROUP, "Test SCIMv2")]


def test_no_secret_reaches_the_timeline(idp, team):
    body = load_payload("okta/create_user.json")  # carries "password": "1mz050nq"
    jane = created(idp.post("/Users", body))["id"]
    ok(
        idp.patch(
            f"/Users/{jane}", patch_op({"op": "replace", "path": "password", "value": "s3cret-2"})
        )
    )

    stored = json.dumps(list(SCIMUserEvent.objects.values("changes", "user_name", "token_prefix")))

    assert "1mz050nq" not in stored and "s3cret-2" not in stored
    assert "password" not in stored.lower()
    assert steps(team, jane) == [(A.CREATED, "")]  # a password change changes nothing here


def test_a_path_named_like_a_secret_keeps_only_that_it_changed():
    changes = timeline.field_changes(
        {"enterprise.apiToken": "old-value", "title": "Engineer"},
        {"enterprise.apiToken": "new-value", "title": "Manager"},
    )

    assert changes == {
        "enterprise.apiToken": [REDACTED, REDACTED],
        "title": ["Engineer", "Manager"],
    }


def test_each_entry_names_its_token_and_its_request(idp, team):
    jane = created(idp.post("/Users", load_payload("okta/create_user.json")))["id"]
    ok(idp.patch(f"/Users/{jane}", load_payload("okta/patch_deactivate.json")))

    token = SCIMToken.objects.get(team=team)
    for entry in story(team, jane):
        assert (entry.token_id, entry.token_prefix) == (token.pk, token.prefix)
        request = SCIMRequestLog.objects.get(request_id=entry.request_id)
        assert request.team_id == team.pk
        assert request.method == {A.CREATED: "POST", A.DEACTIVATED: "PATCH"}[entry.action]


def test_the_operations_of_a_bulk_request_carry_its_request_id(idp, team):
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "ada",
                "data": {"userName": "ada@acme.com", "emails": [{"value": "ada@acme.com"}]},
            },
            {
                "method": "POST",
                "path": "/Groups",
                "bulkId": "eng",
                "data": {"displayName": "Engineering", "members": [{"value": "bulkId:ada"}]},
            },
        ],
    }

    ok(idp.post("/Bulk", body))

    request = SCIMRequestLog.objects.get(path="/scim/v2/Bulk")
    entries = list(SCIMUserEvent.objects.filter(team=team).order_by("id"))
    assert [(e.action, e.group_name) for e in entries] == [
        (A.CREATED, ""),
        (A.JOINED_GROUP, "Engineering"),
    ]
    assert {e.request_id for e in entries} == {request.request_id}


# -- each kind of step -------------------------------------------------------------------


def test_linking_an_existing_member_of_the_team(idp, team):
    account = MembershipFactory(team=team, user=UserFactory(email="ada@acme.com")).user

    ada = created(
        idp.post("/Users", {"userName": "ada@acme.com", "emails": [{"value": "ada@acme.com"}]})
    )

    (entry,) = story(team, ada["id"])
    assert entry.action == A.LINKED
    assert entry.account_id == account.pk
    assert entry.changes["userName"] == [None, "ada@acme.com"]


def test_deactivated_then_reactivated(idp, team):
    jane = created(idp.post("/Users", load_payload("okta/create_user.json")))["id"]

    ok(idp.patch(f"/Users/{jane}", load_payload("okta/patch_deactivate.json")))
    ok(idp.patch(f"/Users/{jane}", load_payload("okta/patch_reactivate.json")))

    assert steps(team, jane) == [(A.CREATED, ""), (A.DEACTIVATED, ""), (A.REACTIVATED, "")]


def test_an_update_that_changes_nothing_records_nothing(idp, team):
    jane = created(idp.post("/Users", load_payload("okta/create_user.json")))["id"]

    ok(idp.patch(f"/Users/{jane}", patch_op({"op": "replace", "path": "locale", "value": "en-US"})))

    assert steps(team, jane) == [(A.CREATED, "")]


def test_removal_outlives_the_record(idp, team):
    jane = created(idp.post("/Users", load_payload("okta/create_user.json")))["id"]
    account_id = SCIMUser.objects.get(pk=jane).user_id

    assert idp.delete(f"/Users/{jane}").status_code == 204

    assert not SCIMUser.objects.filter(pk=jane).exists()
    assert steps(team, jane) == [(A.CREATED, ""), (A.REMOVED, "")]
    removed = story(team, jane)[-1]
    assert (removed.user_name, removed.account_id) == ("test.user@okta.local", account_id)
    # Support finds her by the userName she had, though her record is gone.
    assert [e.action for e in timeline.team_timeline(team, person="TEST.USER@okta.local")] == [
        A.REMOVED,
        A.CREATED,
    ]


def test_a_group_deleted_is_left_by_its_members(idp, team, provision):
    ada = provision("ada@acme.com")
    group = created(idp.post("/Groups", {"displayName": "Eng", "members": [{"value": ada["id"]}]}))

    assert idp.delete(f"/Groups/{group['id']}").status_code == 204

    assert steps(team, ada["id"]) == [
        (A.CREATED, ""),
        (A.JOINED_GROUP, "Eng"),
        (A.LEFT_GROUP, "Eng"),
    ]


def test_a_role_granted_by_a_group(idp, team, provision):
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    MembershipFactory(team=team, role=Membership.Role.OWNER)
    ada = provision("ada@acme.com")

    group = created(
        idp.post("/Groups", {"displayName": "Acme Admins", "members": [{"value": ada["id"]}]})
    )
    ok(idp.patch(f"/Groups/{group['id']}", patch_op({"op": "remove", "path": "members"})))

    entries = story(team, ada["id"])
    assert [(e.action, e.role, e.changes.get("role")) for e in entries[1:]] == [
        (A.JOINED_GROUP, "", None),
        (A.ROLE_GRANTED, "admin", ["member", "admin"]),
        (A.LEFT_GROUP, "", None),
        (A.ROLE_GRANTED, "member", ["admin", "member"]),
    ]
    # The person's account too: the site's page of that person lists their role changes.
    account_id = SCIMUser.objects.get(pk=ada["id"]).user_id
    assert {e.account_id for e in entries if e.action == A.ROLE_GRANTED} == {account_id}


def test_a_role_granted_by_the_users_roles(idp, team, provision):
    SCIMTeamConfig.objects.filter(team=team).update(user_roles={"Admin": "admin"})
    MembershipFactory(team=team, role=Membership.Role.OWNER)
    ada = provision("ada@acme.com", roles=[{"value": "Admin"}])

    ok(idp.patch(f"/Users/{ada['id']}", patch_op({"op": "remove", "path": "roles"})))

    entries = story(team, ada["id"])
    assert [(e.action, e.role) for e in entries if e.action == A.ROLE_GRANTED] == [
        (A.ROLE_GRANTED, "admin"),
        (A.ROLE_GRANTED, "member"),
    ]


def test_a_refused_change_leaves_no_entry(idp, team, provision):
    """The entry is written in the change's transaction: a change rolled back leaves none."""
    SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Acme Admins": "admin"})
    ada = provision("ada@acme.com")
    group = created(
        idp.post("/Groups", {"displayName": "Acme Admins", "members": [{"value": ada["id"]}]})
    )
    before = steps(team, ada["id"])

    # Ada is the team's only manager, through the group: she may not leave it (a 409).
    response = idp.patch(f"/Groups/{group['id']}", patch_op({"op": "remove", "path": "members"}))

    assert_scim_error(response, 409)
    assert steps(team, ada["id"]) == before
    assert before[-1] == (A.ROLE_GRANTED, "")


# -- who sees what -----------------------------------------------------------------------


def test_filtering_by_action(idp, team, provision):
    provision("ada@acme.com")
    bob = provision("bob@acme.com")
    ok(idp.patch(f"/Users/{bob['id']}", load_payload("okta/patch_deactivate.json")))

    found = timeline.team_timeline(team, action=A.DEACTIVATED)

    assert [(e.user_name, e.action) for e in found] == [("bob@acme.com", A.DEACTIVATED)]
    assert list(timeline.team_timeline(team, action="no.such-action")) == []
    assert {e.user_name for e in timeline.team_timeline(team)} == {"ada@acme.com", "bob@acme.com"}


def test_another_team_sees_none_of_these_entries(idp, team, other_team, other_idp, provision):
    ada = provision("ada@acme.com")
    provision("ada@acme.com", client=other_idp)  # the same person in team B

    by_id = timeline.team_timeline(other_team, person=ada["id"])
    by_name = timeline.team_timeline(other_team, person="ada@acme.com")

    assert list(by_id) == []
    assert [e.team_id for e in by_name] == [other_team.pk]
    assert [e.scim_user_id for e in timeline.team_timeline(team, person="ada@acme.com")] == [
        _uuid(ada["id"])
    ]


# -- retention ---------------------------------------------------------------------------


def test_pruning_keeps_the_retention_period(idp, team, provision, settings):
    ada = provision("ada@acme.com")
    old = provision("old@acme.com")
    SCIMUserEvent.objects.filter(scim_user_id=old["id"]).update(
        created=timezone.now() - timedelta(days=31)
    )
    settings.SCIM_PROVISIONING_TIMELINE_RETENTION_DAYS = 30

    call_command("scim_prune_timeline", stdout=(out := _Out()))

    assert steps(team, ada["id"]) == [(A.CREATED, "")]
    assert steps(team, old["id"]) == []
    assert "Deleted 1 SCIM timeline entries older than 30 days." in out.text


def test_pruning_with_days(idp, team, provision):
    ada = provision("ada@acme.com")
    SCIMUserEvent.objects.update(created=timezone.now() - timedelta(days=3))

    assert prune_timeline(5) == 0
    assert prune_timeline(2) == 1
    assert steps(team, ada["id"]) == []


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def _uuid(value: str):
    import uuid

    return uuid.UUID(value)


# -- the request's facts ----------------------------------------------------------------


def test_the_requests_facts_end_with_the_request(idp, team):
    created(idp.post("/Users", load_payload("okta/create_user.json")))

    assert request_context.current() is None


def test_a_change_made_outside_a_scim_request_names_no_request_or_token(team):
    config = SCIMTeamConfig.objects.get(team=team)

    record = writes.create(USERS, config, {"userName": "ada@acme.com"})

    (entry,) = story(team, record.pk)
    assert (entry.action, entry.token_id, entry.token_prefix, entry.request_id) == (
        A.CREATED,
        None,
        "",
        None,
    )
