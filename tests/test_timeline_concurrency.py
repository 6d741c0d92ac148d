"""Under simultaneous requests, each timeline entry names its own request and token.

The request's facts travel in a context variable (:mod:`scim_provisioning.request_context`),
never on a shared object: requests of three tokens (two of team A, one of team B)
race in the live server's threads, and every entry must point at the request
that made it.
"""

from __future__ import annotations

import pytest

from scim_provisioning.models import SCIMRequestLog, SCIMUserEvent, TimelineAction
from scim_provisioning.tokens import issue_token

from .test_concurrency import USER, Call, assert_no_server_errors, race

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_every_entry_names_the_request_and_token_that_made_it(live_server, team, other_team):
    tokens = [issue_token(team), issue_token(team), issue_token(other_team)]
    calls = []
    for i in range(12):
        issued = tokens[i % 3]
        body = {
            "schemas": [USER],
            "userName": f"person{i}@acme.com",
            "emails": [{"value": f"person{i}@acme.com", "primary": True}],
        }
        headers = {"Authorization": f"Bearer {issued.plaintext}"}
        calls.append(Call("POST", "/Users", body, headers))

    replies = race(live_server.url, tokens[0].plaintext, calls)

    assert_no_server_errors(replies)
    assert [r.status for r in replies] == [201] * 12
    for i, reply in enumerate(replies):
        issued = tokens[i % 3]
        entry = SCIMUserEvent.objects.get(scim_user_id=reply.body["id"])
        request = SCIMRequestLog.objects.get(request_id=entry.request_id)
        assert entry.action == TimelineAction.CREATED
        assert (entry.team_id, entry.token_id) == (issued.token.team_id, issued.token.pk)
        assert entry.token_prefix == request.token_prefix == issued.token.prefix
        assert request.resource_id == reply.body["id"]


def test_concurrent_failed_writes_each_record_their_failure(live_server, team, other_team):
    """Issue 24: 6 refused PATCHes of Jane at once, and 3 of team B's token naming her id."""
    acme, globex = issue_token(team), issue_token(other_team)
    created = race(
        live_server.url,
        acme.plaintext,
        [
            Call(
                "POST",
                "/Users",
                {
                    "schemas": [USER],
                    "userName": "jane@acme.com",
                    "emails": [{"value": "jane@acme.com", "primary": True}],
                },
            )
        ],
    )
    jane = created[0].body["id"]
    refused = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "emails", "value": [{"value": "not mail"}]}],
    }
    calls = [Call("PATCH", f"/Users/{jane}", refused) for _ in range(6)]
    calls += [
        Call("PATCH", f"/Users/{jane}", refused, {"Authorization": f"Bearer {globex.plaintext}"})
        for _ in range(3)
    ]

    replies = race(live_server.url, acme.plaintext, calls)

    assert_no_server_errors(replies)
    assert sorted(r.status for r in replies) == [400] * 6 + [404] * 3
    failed = SCIMUserEvent.objects.filter(action=TimelineAction.WRITE_FAILED)
    acme_entries = list(failed.filter(team=team))
    globex_entries = list(failed.filter(team=other_team))
    assert len(acme_entries) == 6 and len(globex_entries) == 3
    assert len({entry.request_id for entry in acme_entries + globex_entries}) == 9
    assert {entry.outcome["status"] for entry in acme_entries} == {400}
    assert {entry.outcome["status"] for entry in globex_entries} == {404}
    # Team B's entries know nothing of team A's Jane but the id its own IdP sent.
    assert {entry.user_name for entry in globex_entries} == {jane}
    logged = set(SCIMRequestLog.objects.filter(method="PATCH").values_list("request_id", flat=True))
    assert {entry.request_id for entry in acme_entries + globex_entries} <= logged
