"""Issue 24: find anyone by any name they had, and every failed write with the IdP's own error.

The story, in Okta's words: Jane Doe created, added to a group, renamed to
jane.smith@, removed from the group, one refused PATCH, deactivated. Asked as
the acme owner through the team API.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from scim_provisioning.models import SCIMPersonName, SCIMUserEvent, TimelineAction
from scim_provisioning.retention import prune_timeline
from scim_provisioning.tokens import issue_token

from .conftest import IdPClient, patch_op
from .host import prove_mailbox
from .team_helpers import logged_in, member_of

pytestmark = pytest.mark.django_db

API = "/api/teams/acme/scim/"
OKTA = {"HTTP_USER_AGENT": "Okta SCIM Client 1.0.0"}


def _jane() -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "jane@acme.com",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"primary": True, "value": "jane@acme.com", "type": "work"}],
        "displayName": "Jane Doe",
        "externalId": "00u1jane",
        "active": True,
    }


@pytest.fixture
def okta(team) -> IdPClient:
    return IdPClient(issue_token(team).plaintext, **OKTA)


@pytest.fixture
def story(okta):
    """Jane's story; returns her SCIM id and the refused PATCH's answer."""
    jane = okta.post("/Users", _jane())
    assert jane.status_code == 201, jane.content
    jane_id = jane.json()["id"]
    group = okta.post(
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "members": [{"value": jane_id}],
        },
    )
    assert group.status_code == 201, group.content
    group_id = group.json()["id"]
    renamed = okta.patch(
        f"/Users/{jane_id}",
        patch_op(
            {"op": "replace", "path": "userName", "value": "jane.smith@acme.com"},
            {"op": "replace", "path": "name.familyName", "value": "Smith"},
            {
                "op": "replace",
                "path": "emails",
                "value": [{"primary": True, "value": "jane.smith@acme.com", "type": "work"}],
            },
        ),
    )
    assert renamed.status_code == 200, renamed.content
    left = okta.patch(
        f"/Groups/{group_id}",
        patch_op({"op": "remove", "path": f'members[value eq "{jane_id}"]'}),
    )
    assert left.status_code in (200, 204), left.content
    refused = okta.patch(
        f"/Users/{jane_id}",
        patch_op({"op": "replace", "path": 'emails[type eq "work"].value', "value": "not mail"}),
    )
    assert refused.status_code == 400, refused.content
    deactivated = okta.patch(
        f"/Users/{jane_id}", patch_op({"op": "replace", "path": "active", "value": False})
    )
    assert deactivated.status_code == 200, deactivated.content
    return jane_id, refused.json()


@pytest.mark.parametrize("person", ["Jane", "jane@acme", "JANE.SMITH", "00u1jane"])
def test_the_timeline_finds_jane_by_any_name_she_had(owner_client, story, person):
    jane_id, refused = story

    response = owner_client.get(API + "timeline/", {"person": person})

    assert response.status_code == 200
    entries = response.json()["entries"]
    actions = [entry["action"] for entry in entries]
    assert actions[0] == TimelineAction.DEACTIVATED
    assert TimelineAction.WRITE_FAILED in actions
    assert TimelineAction.CREATED in actions
    assert {entry["scim_user_id"] for entry in entries} == {jane_id}
    failed = entries[actions.index(TimelineAction.WRITE_FAILED)]
    assert failed["outcome"]["status"] == 400
    assert failed["outcome"]["scimType"] == refused["scimType"]
    assert failed["outcome"]["detail"] == refused["detail"]
    assert failed["outcome"]["request"] == f"PATCH /scim/v2/Users/{jane_id}"
    assert failed["outcome"]["hint"]
    assert refused["detail"] in failed["summary"]


def test_the_refused_patch_changed_nothing_but_is_recorded(story):
    jane_id, _ = story

    failed = SCIMUserEvent.objects.get(action=TimelineAction.WRITE_FAILED)

    assert str(failed.scim_user_id) == jane_id
    assert failed.user_name == "jane.smith@acme.com"
    assert failed.request_id is not None and failed.token_prefix


def test_a_rename_without_a_verified_domain_is_a_record_only_change(owner_client, story):
    entries = owner_client.get(API + "timeline/", {"person": "jane", "action": "user.updated"})

    renamed = entries.json()["entries"][0]
    assert renamed["changes"]["userName"] == ["jane@acme.com", "jane.smith@acme.com"]
    assert renamed["outcome"] == {
        "fields": ["userName", "emails"],
        "login": "jane@acme.com",
        "login_changed": False,
    }
    assert "the sign-in address stayed jane@acme.com" in renamed["summary"]


def test_people_finds_jane_by_her_new_name_inactive(owner_client, story):
    jane_id, _ = story

    response = owner_client.get(API + "people/", {"q": "smith"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (jane,) = body["people"]
    assert jane["id"] == jane_id
    assert jane["active"] is False
    assert jane["user_name"] == "jane.smith@acme.com"
    assert jane["login"] == "jane@acme.com"
    assert jane["groups"] == []


def test_people_finds_jane_by_her_former_address(owner_client, story):
    body = owner_client.get(API + "people/", {"q": "JANE@acme"}).json()

    assert [person["user_name"] for person in body["people"]] == ["jane.smith@acme.com"]


def test_the_timeline_exports_as_csv(owner_client, story):
    response = owner_client.get(API + "timeline/", {"person": "Jane", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["created", "user_name", "action"]
    actions = [row[2] for row in rows[1:]]
    assert actions[0] == TimelineAction.DEACTIVATED
    assert TimelineAction.WRITE_FAILED in actions


def test_people_exports_as_csv_with_the_same_filter(owner_client, story, provision):
    provision("bob@acme.com")

    response = owner_client.get(API + "people/", {"q": "smith", "format": "csv"})

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[0] for row in rows[1:]] == ["jane.smith@acme.com"]


def test_a_csv_cell_that_would_be_a_formula_is_prefixed(owner_client, okta):
    body = _jane() | {"userName": "=HYPERLINK(1)@acme.com", "externalId": "+cmd"}
    assert okta.post("/Users", body).status_code == 201

    response = owner_client.get(API + "people/", {"format": "csv"})

    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1)@acme.com" in text and "'+cmd" in text
    assert ",=HYPERLINK" not in text and ",+cmd" not in text


def test_another_teams_owner_sees_none_of_it(story, other_team):
    globex_owner = logged_in(member_of(other_team, "owner"))

    assert globex_owner.get(API + "people/", {"q": "jane"}).status_code == 404
    assert globex_owner.get(API + "timeline/", {"person": "jane"}).status_code == 404
    own = globex_owner.get("/api/teams/globex/scim/people/", {"q": "jane"}).json()
    assert own["people"] == [] and own["count"] == 0
    own_timeline = globex_owner.get("/api/teams/globex/scim/timeline/", {"person": "jane"})
    assert own_timeline.json()["entries"] == []


def test_names_are_kept_per_team(story, other_idp, monkeypatch):
    other = _jane() | {"externalId": "globex-jane"}
    # Another team links Jane's account once she proved the mailbox (issue 21).
    prove_mailbox(monkeypatch, get_user_model().objects.get(email="jane@acme.com"), "jane@acme.com")
    assert other_idp.post("/Users", other).status_code == 201

    acme = _names_kept(slug="acme")

    assert "globex-jane" not in acme
    assert {"jane@acme.com", "jane.smith@acme.com", "jane", "smith", "00u1jane"} <= acme


def _names_kept(**team) -> set[str]:
    """The names the team keeps: on its timeline entries (issue 27), and those pruned since."""
    entries = SCIMUserEvent.objects.filter(**{f"team__{k}": v for k, v in team.items()})
    pruned = SCIMPersonName.objects.filter(**{f"team__{k}": v for k, v in team.items()})
    kept = {name for names in entries.values_list("names", flat=True) for name in names.split("\n")}
    return (kept | set(pruned.values_list("folded", flat=True))) - {""}


def test_the_timeline_pruned_jane_is_still_found_by_her_former_address(owner_client, story):
    """Pruning moves the entries' names to SCIMPersonName: a former name still finds her."""
    SCIMUserEvent.objects.update(created=timezone.now() - timedelta(days=400))
    names = _names_kept(slug="acme")

    assert prune_timeline(30) > 0

    assert not SCIMUserEvent.objects.exists()
    assert set(SCIMPersonName.objects.values_list("folded", flat=True)) == names
    body = owner_client.get(API + "people/", {"q": "JANE@acme"}).json()
    assert [person["user_name"] for person in body["people"]] == ["jane.smith@acme.com"]


def test_a_search_never_spans_two_names(owner_client, story):
    """Names are kept one per line; a searched line break is a space, as in a kept name."""
    kept = SCIMUserEvent.objects.exclude(names="").values_list("names", flat=True)
    assert any("\njane\n" in f"\n{names}\n" for names in kept)

    body = owner_client.get(API + "people/", {"q": "doe\njane"}).json()

    assert body["people"] == []


@pytest.mark.parametrize("person", ["%", "_", "jane%", "j_ne", "\\"])
def test_like_wildcards_are_literal(owner_client, story, person):
    response = owner_client.get(API + "timeline/", {"person": person})
    people = owner_client.get(API + "people/", {"q": person})

    assert response.status_code == 200 and response.json()["entries"] == []
    assert people.status_code == 200 and people.json()["people"] == []


def test_a_nul_in_the_search_text_is_a_400_not_a_500(owner_client, story):
    assert owner_client.get(API + "people/", {"q": "jane\x00"}).status_code == 400
    assert owner_client.get(API + "timeline/", {"person": "jane\x00"}).status_code == 400


def test_a_lone_surrogate_in_the_query_string_finds_nobody(owner_client, story):
    # Sent as the UTF-8 a browser cannot produce; Django decodes it to U+FFFD.
    people = owner_client.get(API + "people/", QUERY_STRING="q=jane%ED%A0%80")
    timeline = owner_client.get(API + "timeline/", QUERY_STRING="person=jane%ED%A0%80&format=csv")

    assert people.status_code == 200 and people.json()["people"] == []
    assert timeline.status_code == 200
    assert len(b"".join(timeline.streaming_content).decode().splitlines()) == 1


def test_a_failed_create_is_found_by_its_username(owner_client, okta, story):
    again = okta.post("/Users", _jane() | {"userName": "jane.smith@acme.com"})
    assert again.status_code == 409, again.content

    entries = owner_client.get(API + "timeline/", {"person": "jane.smith"}).json()["entries"]

    failed = [e for e in entries if e["action"] == TimelineAction.WRITE_FAILED]
    assert [e["outcome"]["status"] for e in failed] == [409, 400]
    assert failed[0]["outcome"]["scimType"] == "uniqueness"


PEOPLE_PAGE = "/teams/acme/scim/people/"


def test_the_people_page_finds_jane_by_her_given_name(owner_client, story, provision):
    provision("bob@acme.com")

    response = owner_client.get(PEOPLE_PAGE, {"q": "jane"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "<caption>1 person who ever had a name containing “jane”</caption>" in content
    assert 'data-active="false"' in content and "jane.smith@acme.com" in content
    assert "bob@acme.com" not in content
    assert 'href="/api/teams/acme/scim/people/?q=jane&amp;format=csv"' in content


def test_the_people_page_is_404_to_another_teams_owner(story, other_team):
    globex_owner = logged_in(member_of(other_team, "owner"))

    assert globex_owner.get(PEOPLE_PAGE, {"q": "jane"}).status_code == 404


def test_the_people_page_takes_hostile_text(owner_client, story):
    for q in ("jane\x00", "%", "_", "\\"):
        response = owner_client.get(PEOPLE_PAGE, {"q": q})
        assert response.status_code == 200
        assert "jane.smith@acme.com</a>" not in response.content.decode()


def test_the_team_page_shows_the_failed_write_and_the_chart(owner_client, story):
    content = owner_client.get("/teams/acme/scim/", {"person": "jane@acme"}).content.decode()

    assert 'data-action="user.write_failed"' in content
    assert "was refused with 400" in content
    assert '<svg role="img" aria-labelledby="scim-health-chart-title' in content
    assert "scim-timeline/" not in content
    assert "person=jane%40acme&amp;action=&amp;format=csv" in content


def test_a_page_of_people_costs_the_same_queries_whatever_the_teams_size(
    team, owner_client, okta, django_assert_max_num_queries
):
    from scim_provisioning.people import people_page

    for index in range(12):
        address = f"p{index}@acme.com"
        body = _jane() | {
            "userName": address,
            "externalId": f"x{index}",
            "emails": [{"primary": True, "value": address, "type": "work"}],
        }
        assert okta.post("/Users", body).status_code == 201

    with django_assert_max_num_queries(4):
        page = people_page(team, q="acme")

    assert page.count == 12


@pytest.mark.parametrize(
    ("status", "scim_type", "method", "idp", "words"),
    [
        (409, "", "PATCH", "okta", "Okta sends this PATCH when the person is unassigned"),
        (409, "uniqueness", "PATCH", "okta", "already has this userName"),
        (409, "", "PATCH", "entra", "Microsoft Entra ID"),
        (409, "", "DELETE", "okta", "the team's state"),
        (404, "", "PATCH", "okta", "Okta sends this when it still holds an id"),
        (404, "", "PUT", "other", "not in this team"),
        (400, "invalidValue", "POST", "other", "not valid here"),
        (403, "", "PATCH", "other", "switched off"),
        (503, "", "POST", "other", "failed to handle"),
        (418, "", "POST", "other", ""),
    ],
)
def test_the_hint_is_the_most_specific_that_matches(status, scim_type, method, idp, words):
    from scim_provisioning.failed_writes import hint_for

    hint = hint_for(status, scim_type, method, idp)

    assert (words in hint) if words else hint == ""


def test_another_teams_owner_gets_a_404_for_the_exports_too(story, other_team):
    globex_owner = logged_in(member_of(other_team, "owner"))

    for path, params in (("timeline/", {"person": "jane"}), ("people/", {"q": "jane"})):
        response = globex_owner.get(API + path, {**params, "format": "csv"})
        assert response.status_code == 404
        assert "jane" not in response.content.decode().lower()


def test_a_failed_bulk_operation_is_in_the_persons_timeline(owner_client, okta, story):
    jane_id, _ = story
    bulk = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {
                "method": "PATCH",
                "path": f"/Users/{jane_id}",
                "data": patch_op({"op": "replace", "path": "emails", "value": [{"value": "x"}]}),
            },
            {"method": "DELETE", "path": "/Users/8d8e9f5e-2ad6-4f4b-9d4c-0c3c8c7d5a10"},
        ],
    }

    response = okta.post("/Bulk", bulk)

    assert response.status_code == 200, response.content
    assert [r["status"] for r in response.json()["Operations"]] == ["400", "404"]
    failed = SCIMUserEvent.objects.filter(action=TimelineAction.WRITE_FAILED).order_by("pk")
    assert [(e.outcome["status"], e.outcome["request"]) for e in failed][1:] == [
        (400, f"PATCH /Users/{jane_id}"),
        (404, "DELETE /Users/8d8e9f5e-2ad6-4f4b-9d4c-0c3c8c7d5a10"),
    ]
    assert str(failed[1].scim_user_id) == jane_id
    assert failed[1].request_id == failed[2].request_id  # one request, two failed operations


def test_a_write_to_an_id_with_a_nul_is_recorded_without_a_lookup(okta, story, caplog):
    response = okta.patch("/Users/jane%00", patch_op({"op": "replace", "path": "active"}))

    assert response.status_code == 400
    failed = SCIMUserEvent.objects.filter(action=TimelineAction.WRITE_FAILED).latest("pk")
    assert failed.user_name == "jane\ufffd" and failed.scim_user_id is None
    assert "Could not record" not in caplog.text
