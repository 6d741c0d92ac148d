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
