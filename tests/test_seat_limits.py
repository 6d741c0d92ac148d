"""Seat limits: the host refuses a seat, the IdP's admin reads why, nothing changes.

The example site limits a team to ``Team.max_seats`` active members (its
adapter's ``claim_seat``) and counts them in ``Team.seats_used`` by
increments. A refused create or reactivation is a 400 ``invalidValue`` whose
``detail`` is the site's message (see docs/idp/README.md for why that status),
is recorded for the team's managers and sent as ``user_refused``; deactivation
and removal are never refused. The requests are Okta's and Entra's own.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from example_project.teams import seats
from example_project.teams.models import Membership, Team
from scim_provisioning import signals, timeline
from scim_provisioning.models import SCIMLinkRefusal, SCIMRequestLog, SCIMUser, TimelineAction
from scim_provisioning.request_log_writer import writer

from .adapters import TeamRecordingAdapter
from .conftest import ERROR_SCHEMA, load_payload, patch_op
from .example_factories import MembershipFactory
from .factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()

NO_SEAT = "The team 'Acme' has no free seat: all 1 are taken."


@pytest.fixture
def refusals():
    """The ``user_refused`` events sent during the test."""
    received: list[signals.SCIMEvent] = []

    def receive(sender: Any, event: signals.SCIMEvent, **kwargs: Any) -> None:
        received.append(event)

    signals.user_refused.connect(receive)
    yield received
    signals.user_refused.disconnect(receive)


def _limit(team: Team, max_seats: int | None) -> None:
    Team.objects.filter(pk=team.pk).update(max_seats=max_seats)


def _person(idp, user_name: str) -> dict[str, Any]:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "emails": [{"value": user_name, "type": "work", "primary": True}],
        "active": True,
    }
    response = idp.post("/Users", body)
    assert response.status_code == 201, response.content
    return response.json()


def _assert_no_seat(response: Any) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == "400"
    assert body["scimType"] == "invalidValue"
    assert body["detail"].startswith(NO_SEAT)


def _assert_count_exact(team: Team) -> None:
    team.refresh_from_db()
    assert team.seats_used == Membership.objects.filter(team=team, is_active=True).count()


@pytest.fixture
def full_team(team, idp):
    """Team A with one seat, taken by someone the IdP provisioned."""
    _limit(team, 1)
    _person(idp, "first@acme.com")
    team.refresh_from_db()
    assert team.seats_used == 1
    return team


@pytest.mark.parametrize("payload", ["okta/create_user.json", "entra/create_user.json"])
def test_a_create_past_the_limit_is_refused_and_changes_nothing(
    payload, full_team, idp, refusals, django_capture_on_commit_callbacks
):
    accounts, records = User.objects.count(), SCIMUser.objects.count()
    sent = load_payload(payload)

    with django_capture_on_commit_callbacks(execute=True):
        response = idp.post("/Users", sent)

    _assert_no_seat(response)
    assert (User.objects.count(), SCIMUser.objects.count()) == (accounts, records)
    assert Membership.objects.filter(team=full_team).count() == 1
    full_team.refresh_from_db()
    assert full_team.seats_used == 1
    email = sent["emails"][0]["value"].lower()
    refusal = SCIMLinkRefusal.objects.get(team=full_team)
    assert (refusal.email, refusal.reason, refusal.attempts) == (email, "seat", 1)
    assert refusal.detail == response.json()["detail"]
    (event,) = refusals
    assert (event.action, event.team_id, event.reason) == ("user.refused", full_team.pk, "seat")
    assert (event.display, event.resource_id, event.user_id) == (sent["userName"], "", None)
    assert event.detail == response.json()["detail"]


def test_the_refused_request_is_in_the_request_log(full_team, idp):
    idp.post("/Users", load_payload("okta/create_user.json"))
    assert writer.flush()

    entry = SCIMRequestLog.objects.filter(method="POST").latest("created")
    assert (entry.status, entry.resource_type, entry.idp) == (400, "User", "other")
    assert "test.user@okta.local" in entry.summary


@pytest.mark.parametrize("payload", ["okta/patch_reactivate.json", "entra/patch_reactivate.json"])
def test_a_reactivation_past_the_limit_is_refused_and_changes_nothing(
    payload, team, idp, refusals, django_capture_on_commit_callbacks
):
    _limit(team, 1)
    ada = _person(idp, "ada@acme.com")
    deactivated = idp.patch(f"/Users/{ada['id']}", load_payload("okta/patch_deactivate.json"))
    assert deactivated.status_code == 200, deactivated.content
    _person(idp, "bob@acme.com")  # takes the seat Ada left

    with django_capture_on_commit_callbacks(execute=True):
        response = idp.patch(f"/Users/{ada['id']}", load_payload(payload))

    _assert_no_seat(response)
    record = SCIMUser.objects.get(pk=ada["id"])
    assert record.active is False
    assert Membership.objects.get(team=team, user=record.user).is_active is False
    _assert_count_exact(team)
    assert team.seats_used == 1
    assert idp.get(f"/Users/{ada['id']}").json()["active"] is False
    (event,) = refusals
    assert (event.resource_id, event.user_id, event.reason) == (ada["id"], record.user_id, "seat")
    assert SCIMLinkRefusal.objects.get(team=team).email == "ada@acme.com"


def test_a_put_reactivation_past_the_limit_is_refused(team, idp):
    _limit(team, 1)
    ada = _person(idp, "ada@acme.com")
    idp.patch(f"/Users/{ada['id']}", load_payload("okta/patch_deactivate.json"))
    _person(idp, "bob@acme.com")
    body = idp.get(f"/Users/{ada['id']}").json()

    response = idp.put(f"/Users/{ada['id']}", {**body, "active": True, "displayName": "Ada L"})

    _assert_no_seat(response)
    record = SCIMUser.objects.get(pk=ada["id"])
    assert (record.active, record.attributes.get("displayName")) == (False, None)


def test_deactivation_and_removal_are_never_refused(team, idp):
    ada, bob = _person(idp, "ada@acme.com"), _person(idp, "bob@acme.com")
    _limit(team, 1)  # staff lowered the limit below what the team uses

    deactivated = idp.patch(f"/Users/{ada['id']}", load_payload("entra/patch_deactivate.json"))
    deleted = idp.delete(f"/Users/{bob['id']}")

    assert (deactivated.status_code, deleted.status_code) == (200, 204)
    _assert_count_exact(team)
    assert team.seats_used == 0


def test_a_linked_member_who_holds_a_seat_is_not_refused(full_team, idp):
    """The team's own person, already seated on the site, is linked even when the team is full."""
    owner = UserFactory(email="owner@acme.com")
    MembershipFactory(team=full_team, user=owner, role=Membership.Role.OWNER)
    full_team.refresh_from_db()
    assert full_team.seats_used == 2  # staff went over the limit in the admin

    response = idp.post(
        "/Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "owner@acme.com",
            "emails": [{"value": "owner@acme.com", "primary": True}],
        },
    )

    assert response.status_code == 201, response.content
    _assert_count_exact(full_team)
    assert full_team.seats_used == 2


def test_a_seat_freed_lets_the_retry_in_and_clears_the_refusal(full_team, idp):
    first = SCIMUser.objects.get(team=full_team)
    assert idp.post("/Users", load_payload("okta/create_user.json")).status_code == 400
    assert idp.post("/Users", load_payload("okta/create_user.json")).status_code == 400
    assert SCIMLinkRefusal.objects.get().attempts == 2

    idp.patch(f"/Users/{first.pk}", patch_op({"op": "replace", "path": "active", "value": False}))
    response = idp.post("/Users", load_payload("okta/create_user.json"))

    assert response.status_code == 201, response.content
    assert not SCIMLinkRefusal.objects.exists()
    _assert_count_exact(full_team)


def test_a_reactivation_let_in_once_a_seat_is_freed_clears_its_refusal(team, idp):
    _limit(team, 1)
    ada = _person(idp, "ada@acme.com")
    idp.patch(f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    bob = _person(idp, "bob@acme.com")  # takes the seat Ada left
    reactivate = patch_op({"op": "replace", "path": "active", "value": True})
    _assert_no_seat(idp.patch(f"/Users/{ada['id']}", reactivate))
    assert SCIMLinkRefusal.objects.get(team=team).email == "ada@acme.com"

    idp.patch(f"/Users/{bob['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    response = idp.patch(f"/Users/{ada['id']}", reactivate)

    assert response.status_code == 200, response.content
    assert response.json()["active"] is True
    assert not SCIMLinkRefusal.objects.exists()
    _assert_count_exact(team)


def test_the_seat_hook_is_asked_with_the_team_the_account_and_the_record(team, idp, settings):
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.TeamRecordingAdapter"
    TeamRecordingAdapter.calls = []

    ada = _person(idp, "ada@acme.com")
    account_id = SCIMUser.objects.get(pk=ada["id"]).user_id
    idp.patch(f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    idp.patch(f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": True}))

    asked = [call for call in TeamRecordingAdapter.calls if call[0] == "claim_seat"]
    assert asked == [("claim_seat", team.pk, account_id, "ada@acme.com")] * 2


def test_a_bulk_create_past_the_limit_fails_alone(full_team, idp):
    person = load_payload("okta/create_user.json")
    response = idp.post(
        "/Bulk",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [{"method": "POST", "path": "/Users", "bulkId": "p", "data": person}],
        },
    )

    assert response.status_code == 200, response.content
    (result,) = response.json()["Operations"]
    assert result["status"] == "400"
    assert result["response"]["scimType"] == "invalidValue"
    assert result["response"]["detail"].startswith(NO_SEAT)
    assert SCIMLinkRefusal.objects.get().reason == "seat"
    assert SCIMUser.objects.filter(team=full_team).count() == 1


def test_without_a_limit_nobody_is_refused(team, idp):
    for n in range(3):
        _person(idp, f"p{n}@acme.com")
    _assert_count_exact(team)
    assert team.seats_used == 3


def test_the_seat_count_stays_exact_through_every_path(team, idp, admin_client):
    """Create, link, reactivate, deactivate, delete, and the admin's manual changes."""
    _limit(team, 10)
    ada, bob, cy = (_person(idp, f"{n}@acme.com") for n in ("ada", "bob", "cy"))
    member = UserFactory(email="dee@acme.com")
    MembershipFactory(team=team, user=member, is_active=False)  # the team's, inactive
    idp.post(
        "/Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "dee@acme.com",
            "emails": [{"value": "dee@acme.com", "primary": True}],
        },
    )  # linked and seated
    idp.patch(f"/Users/{ada['id']}", load_payload("entra/patch_deactivate.json"))
    idp.patch(f"/Users/{ada['id']}", load_payload("entra/patch_reactivate.json"))
    idp.patch(f"/Users/{bob['id']}", load_payload("okta/patch_deactivate.json"))
    idp.delete(f"/Users/{cy['id']}")
    idp.delete(f"/Users/{bob['id']}")  # an inactive member leaves: no seat to free
    _assert_count_exact(team)

    # The admin: a member switched off, one added, one deleted, an account deleted.
    ada_membership = Membership.objects.get(team=team, user__email="ada@acme.com")
    ada_membership.is_active = False
    ada_membership.save()
    MembershipFactory(team=team, user=UserFactory(email="eve@acme.com"))
    Membership.objects.filter(team=team, user__email="eve@acme.com").delete()
    User.objects.filter(email="dee@acme.com").delete()  # cascades to the membership

    _assert_count_exact(team)
    assert team.seats_used == 0


def test_seats_recount_repairs_a_count_written_around_the_models(team, idp):
    _person(idp, "ada@acme.com")
    Team.objects.filter(pk=team.pk).update(seats_used=42)

    assert seats.recount(team.pk) == 1
    _assert_count_exact(team)


def test_the_team_page_shows_the_seat_limit(team):
    manager = UserFactory(email="owner@acme.com")
    MembershipFactory(team=team, user=manager, role=Membership.Role.OWNER)
    _limit(team, 25)
    client = Client()
    client.force_login(manager)

    page = client.get(reverse("teams:scim", args=[team.slug])).content.decode()

    assert "Seats used: <strong>1</strong> of <strong>25</strong>" in page


def test_staff_set_the_seat_limit_in_the_admin(team, admin_client):
    page = admin_client.get(reverse("admin:teams_team_change", args=[team.pk])).content.decode()

    assert 'name="max_seats"' in page
    assert 'name="seats_used"' not in page  # counted, never typed


def test_a_deactivation_costs_the_same_whatever_the_team_size(
    team, idp, django_capture_on_commit_callbacks
):
    """Issue 13: the seat count moves by one; it never counts the team's members again."""
    ada = _person(idp, "ada@acme.com")

    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            response = idp.patch(f"/Users/{ada['id']}", load_payload("okta/patch_deactivate.json"))

    assert response.status_code == 200, response.content
    counts = [
        q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "teams_membership" in q["sql"]
    ]
    assert counts == []
    _assert_count_exact(team)


def test_reactivating_someone_the_admin_already_switched_back_on_counts_one_seat(team, idp):
    ada = _person(idp, "ada@acme.com")
    idp.patch(f"/Users/{ada['id']}", load_payload("okta/patch_deactivate.json"))
    membership = Membership.objects.get(team=team, user__email="ada@acme.com")
    membership.is_active = True  # staff, in the admin
    membership.save()

    response = idp.patch(f"/Users/{ada['id']}", load_payload("okta/patch_reactivate.json"))

    assert response.status_code == 200, response.content
    _assert_count_exact(team)
    assert team.seats_used == 1


def test_a_refused_create_is_on_the_timeline_under_the_name_the_idp_sent(full_team, idp):
    sent = load_payload("okta/create_user.json")

    response = idp.post("/Users", sent)

    _assert_no_seat(response)
    (entry,) = timeline.team_timeline(full_team, action=TimelineAction.REFUSED)
    assert (entry.scim_user_id, entry.user_name, entry.account_id) == (None, sent["userName"], None)
    assert entry.changes == {"refused": [None, response.json()["detail"]]}
    assert entry.token_prefix  # which IdP token asked
    # Support finds it by the name the IdP used.
    assert list(timeline.team_timeline(full_team, person=sent["userName"])) == [entry]


def test_a_refused_reactivation_is_on_the_persons_timeline(team, idp):
    _limit(team, 1)
    ada = _person(idp, "ada@acme.com")
    idp.patch(f"/Users/{ada['id']}", load_payload("okta/patch_deactivate.json"))
    _person(idp, "bob@acme.com")  # takes the seat Ada left

    response = idp.patch(f"/Users/{ada['id']}", load_payload("entra/patch_reactivate.json"))

    _assert_no_seat(response)
    record = SCIMUser.objects.get(pk=ada["id"])
    actions = [e.action for e in timeline.person_timeline(record)]
    # Newest first: the refusal, after the deactivation; no reactivation.
    assert actions == [TimelineAction.REFUSED, TimelineAction.DEACTIVATED, TimelineAction.CREATED]
    refused = timeline.person_timeline(record)[0]
    assert refused.account_id == record.user_id
    assert refused.changes["refused"][1].startswith(NO_SEAT)


def test_the_team_page_lists_a_refused_create_without_a_person_link(full_team, idp, owner_client):
    idp.post("/Users", load_payload("okta/create_user.json"))

    page = owner_client.get("/teams/acme/scim/", {"action": "user.refused"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "refused (an account link or a seat)" in html
    assert "None" not in html.split('id="scim-timeline"')[1].split("</table>")[0]
