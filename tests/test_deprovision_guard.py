"""The deprovisioning guard (issue 25): a mass deprovisioning waits for a team manager.

On the example site (13-person team, the site default: more than 30 % and
more than 5 people within an hour), as the IdP speaks: PATCH ``active: false``
and DELETE answer as usual; the memberships beyond the threshold stay until
``scim_held release`` or ``discard``.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from example_project.teams.models import Membership
from scim_provisioning.models import (
    HeldChangeOutcome,
    SCIMHeldChange,
    SCIMTeamConfig,
    SCIMUser,
    SCIMUserEvent,
    TimelineAction,
)

from .conftest import patch_op

pytestmark = pytest.mark.django_db

DEACTIVATE = patch_op({"op": "replace", "value": {"active": False}})
REACTIVATE = patch_op({"op": "replace", "value": {"active": True}})


@pytest.fixture
def thirteen(provision, owner):
    """A 13-person team provisioned by its IdP (its owner is a member from the site)."""
    return [provision(f"person{i}@acme.com")["id"] for i in range(13)]


def _active_on_site(team, scim_ids) -> int:
    accounts = SCIMUser.objects.filter(pk__in=scim_ids).values("user_id")
    return Membership.objects.filter(team=team, user__in=accounts, is_active=True).count()


def _scim(command: str, *args: str) -> str:
    out = StringIO()
    call_command("scim_held", command, "--team", "acme", *args, stdout=out)
    return out.getvalue()


def test_deactivating_nine_of_thirteen_holds_those_beyond_the_threshold_until_release(
    idp, team, thirteen
):
    nine = thirteen[:9]
    for pk in nine:
        response = idp.patch(f"/Users/{pk}", DEACTIVATE)
        assert response.status_code == 200, response.content
        assert response.json()["active"] is False

    assert _active_on_site(team, nine) == 4  # 5 let through, 4 held
    assert SCIMHeldChange.objects.filter(team=team, resolved_at=None).count() == 4
    assert all(idp.get(f"/Users/{pk}").json()["active"] is False for pk in nine)

    out = _scim("release")

    assert "4 released, 0 refused" in out
    assert _active_on_site(team, nine) == 0
    assert _active_on_site(team, thirteen[9:]) == 4
    assert not SCIMHeldChange.objects.filter(team=team, resolved_at=None).exists()
    assert not SCIMUser.objects.filter(team=team, deprovision_held=True).exists()


def test_a_held_delete_answers_204_then_404_and_keeps_the_membership(idp, team, thirteen):
    for pk in thirteen[:5]:
        assert idp.delete(f"/Users/{pk}").status_code == 204
    held_pk = thirteen[5]
    account_id = SCIMUser.objects.get(pk=held_pk).user_id

    response = idp.delete(f"/Users/{held_pk}")

    assert response.status_code == 204
    assert idp.get(f"/Users/{held_pk}").status_code == 404
    assert Membership.objects.filter(team=team, user_id=account_id, is_active=True).exists()
    change = SCIMHeldChange.objects.get(team=team, scim_user_id=held_pk)
    assert change.kind == "delete"

    _scim("release")

    assert not Membership.objects.filter(team=team, user_id=account_id).exists()
    change.refresh_from_db()
    assert change.outcome == HeldChangeOutcome.RELEASED


def test_discard_keeps_the_membership_and_turns_the_record_active_again(idp, team, thirteen):
    for pk in thirteen[:6]:
        assert idp.patch(f"/Users/{pk}", DEACTIVATE).status_code == 200
    held_pk = thirteen[5]
    etag = idp.get(f"/Users/{held_pk}")["ETag"]

    out = _scim("discard", "--by", "ops@acme.com")

    assert "1 discarded" in out
    document = idp.get(f"/Users/{held_pk}")
    assert document.json()["active"] is True
    assert document["ETag"] != etag
    assert _active_on_site(team, [held_pk]) == 1
    change = SCIMHeldChange.objects.get(scim_user_id=held_pk)
    assert (change.outcome, change.resolved_by_name) == ("discarded", "ops@acme.com")
    entry = SCIMUserEvent.objects.get(scim_user_id=held_pk, action=TimelineAction.DISCARDED)
    assert entry.changes["by"] == [None, "ops@acme.com"]


def test_a_reactivation_by_the_idp_cancels_the_hold(idp, team, thirteen):
    for pk in thirteen[:6]:
        assert idp.patch(f"/Users/{pk}", DEACTIVATE).status_code == 200
    held_pk = thirteen[5]
    team.refresh_from_db()
    seats_used = team.seats_used

    response = idp.patch(f"/Users/{held_pk}", REACTIVATE)

    assert response.status_code == 200
    assert response.json()["active"] is True
    assert _active_on_site(team, [held_pk]) == 1
    change = SCIMHeldChange.objects.get(scim_user_id=held_pk)
    assert change.outcome == HeldChangeOutcome.CANCELLED
    assert SCIMTeamConfig.objects.get(team=team).guard_held == 0
    team.refresh_from_db()
    assert team.seats_used == seats_used  # the seat never left: not claimed twice


def test_while_a_change_is_held_a_new_window_holds_further_deprovisionings(idp, team, thirteen):
    for pk in thirteen[:6]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)
    SCIMTeamConfig.objects.filter(team=team).update(guard_window_start="2000-01-01T00:00Z")

    assert idp.patch(f"/Users/{thirteen[6]}", DEACTIVATE).status_code == 200

    assert _active_on_site(team, [thirteen[6]]) == 1
    assert SCIMTeamConfig.objects.get(team=team).guard_held == 2


def test_release_refused_by_the_last_manager_rule_is_recorded(idp, team, provision):
    people = [provision(f"p{i}@acme.com")["id"] for i in range(7)]
    for pk in people:
        assert idp.patch(f"/Users/{pk}", DEACTIVATE).status_code == 200
    manager = SCIMUser.objects.get(pk=people[6])
    assert manager.deprovision_held
    # Meanwhile the site made them the team's only owner.
    Membership.objects.filter(team=team, user_id=manager.user_id).update(role="owner")

    out = _scim("release")

    assert "1 released, 1 refused" in out
    change = SCIMHeldChange.objects.get(scim_user_id=people[6])
    assert change.outcome == HeldChangeOutcome.REFUSED
    assert "last active member" in change.detail
    assert _active_on_site(team, [people[6]]) == 1
    assert idp.get(f"/Users/{people[6]}").json()["active"] is True
    assert SCIMUserEvent.objects.filter(
        scim_user_id=people[6], action=TimelineAction.RELEASED, changes__has_key="refused"
    ).exists()


@override_settings(SCIM_PROVISIONING_DEPROVISION_GUARD=None)
def test_with_the_guard_off_every_deactivation_goes_through(idp, team, thirteen):
    for pk in thirteen[:9]:
        assert idp.patch(f"/Users/{pk}", DEACTIVATE).status_code == 200
    assert _active_on_site(team, thirteen[:9]) == 0
    assert not SCIMHeldChange.objects.exists()


def test_another_team_cannot_release_or_see_the_holds(idp, other_idp, team, thirteen):
    for pk in thirteen[:6]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)
    assert other_idp.patch(f"/Users/{thirteen[5]}", REACTIVATE).status_code == 404
    assert SCIMHeldChange.objects.get(scim_user_id=thirteen[5]).resolved_at is None


def test_a_manager_releases_through_the_team_api_recorded_as_theirs(
    idp, team, thirteen, owner, owner_client
):
    for pk in thirteen[:7]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)
    listed = owner_client.get("/api/teams/acme/scim/held/").json()["held"]
    assert [entry["user_name"] for entry in listed] == ["person5@acme.com", "person6@acme.com"]

    response = owner_client.post(
        "/api/teams/acme/scim/held/release/",
        {"ids": [listed[0]["id"]]},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    (decided,) = response.json()["decided"]
    assert decided["outcome"] == "released"
    assert decided["resolved_by_name"] == owner.get_username()
    assert _active_on_site(team, thirteen[5:6]) == 0
    assert _active_on_site(team, thirteen[6:7]) == 1


def test_another_teams_manager_cannot_list_or_release_the_holds(idp, team, other_team, thirteen):
    from .team_helpers import logged_in, member_of

    for pk in thirteen[:6]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)
    stranger = logged_in(member_of(other_team, "owner"))

    assert stranger.get("/api/teams/acme/scim/held/").status_code in (403, 404)
    response = stranger.post(
        "/api/teams/acme/scim/held/release/", {}, content_type="application/json"
    )

    assert response.status_code in (403, 404)
    assert _active_on_site(team, thirteen[5:6]) == 1


def test_the_team_page_lists_the_held_people_and_releases_one(idp, team, thirteen, owner_client):
    for pk in thirteen[:7]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)
    page = owner_client.get("/teams/acme/scim/").content.decode()
    assert "person5@acme.com" in page and "person6@acme.com" in page
    change = SCIMHeldChange.objects.get(scim_user_id=thirteen[6])

    response = owner_client.post(
        "/teams/acme/scim/", {"action": "discard_held", "held": str(change.pk)}
    )

    assert response.status_code == 302
    change.refresh_from_db()
    assert change.outcome == HeldChangeOutcome.DISCARDED
    assert SCIMHeldChange.objects.get(scim_user_id=thirteen[5]).resolved_at is None


def test_staff_release_held_changes_in_the_admin(idp, team, thirteen, admin_client, admin_user):
    for pk in thirteen[:7]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)
    ids = list(SCIMHeldChange.objects.values_list("pk", flat=True))

    response = admin_client.post(
        "/admin/scim_provisioning/scimheldchange/",
        {"action": "release_held", "_selected_action": ids},
    )

    assert response.status_code == 302
    assert _active_on_site(team, thirteen[:7]) == 0
    assert set(SCIMHeldChange.objects.values_list("resolved_by", flat=True)) == {admin_user.pk}


def test_the_health_says_how_many_deprovisionings_are_held_and_since_when(idp, team, thirteen):
    from scim_provisioning.health import HealthProblem, team_health

    for pk in thirteen[:8]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)
    idp.delete(f"/Users/{thirteen[8]}")
    since = SCIMHeldChange.objects.order_by("held_at").first().held_at

    health = team_health(team)

    (held,) = [p for p in health.problems if p.code == HealthProblem.HELD]
    assert held.message.startswith(f"3 deactivations and 1 removal held since {since:%H:%M}")
    assert not health.healthy


def test_the_doctor_line_says_what_the_guard_holds(idp, team, thirteen):
    from scim_provisioning.guard import status_line

    assert status_line(team).endswith("; nothing held.")
    for pk in thirteen[:7]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)

    line = status_line(team)

    assert "beyond 30 % of the team's active members and beyond 5 people per 1h" in line
    assert "2 deprovisioning(s) held since" in line
    assert "scim_held list" in line


def test_each_held_change_sends_user_held_after_commit(
    idp, team, thirteen, django_capture_on_commit_callbacks
):
    from scim_provisioning import signals

    seen = []

    def receiver(sender, event, **kwargs):
        seen.append(event)

    signals.user_held.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            for pk in thirteen[:7]:
                idp.patch(f"/Users/{pk}", DEACTIVATE)
    finally:
        signals.user_held.disconnect(receiver)

    assert [e.resource_id for e in seen] == thirteen[5:7]
    assert {e.reason for e in seen} == {"deactivate"}
    assert seen[-1].detail == "2 deprovisioning(s) of the team held"
    assert seen[0].action == signals.EventType.USER_HELD


@pytest.mark.parametrize(
    "value",
    [
        {"percent": 0},
        {"percent": 101},
        {"minimum": "5"},
        {"minimum": True},
        {"window": "never"},
        {"window": "soon"},
        {"treshold": 30},
        "30%",
    ],
)
def test_a_guard_setting_that_is_no_threshold_is_error_e011(value):
    from scim_provisioning.checks import check_deprovision_guard

    with override_settings(SCIM_PROVISIONING_DEPROVISION_GUARD=value):
        (error,) = check_deprovision_guard()

    assert error.id == "scim_provisioning.E011"


@pytest.mark.parametrize("value", [None, {"percent": 10, "minimum": 2, "window": "30m"}])
def test_a_threshold_or_none_passes_the_check(value):
    from scim_provisioning.checks import check_deprovision_guard

    with override_settings(SCIM_PROVISIONING_DEPROVISION_GUARD=value):
        assert check_deprovision_guard() == []


def test_a_team_override_lowers_the_minimum(idp, team, thirteen):
    SCIMTeamConfig.objects.filter(team=team).update(guard_minimum=2, guard_percent=10)

    for pk in thirteen[:3]:
        assert idp.patch(f"/Users/{pk}", DEACTIVATE).status_code == 200

    assert _active_on_site(team, thirteen[:3]) == 1


@pytest.mark.parametrize("ids", [[2**63], ["1\x00"], [-1], "\ud800"])
def test_hostile_ids_to_the_team_api_are_a_400(idp, team, thirteen, owner_client, ids):
    for pk in thirteen[:6]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)

    response = owner_client.post(
        "/api/teams/acme/scim/held/release/", {"ids": ids}, content_type="application/json"
    )

    assert response.status_code == 400
    assert SCIMHeldChange.objects.get(scim_user_id=thirteen[5]).resolved_at is None


def test_an_overflowing_number_on_the_team_page_releases_nothing(idp, team, thirteen, owner_client):
    for pk in thirteen[:6]:
        idp.patch(f"/Users/{pk}", DEACTIVATE)

    response = owner_client.post("/teams/acme/scim/", {"action": "release_held", "held": "9" * 30})

    assert response.status_code == 302
    assert SCIMHeldChange.objects.get(scim_user_id=thirteen[5]).resolved_at is None


@pytest.mark.parametrize(
    ("field", "value"), [("guard_percent", 0), ("guard_percent", 101), ("guard_minimum", 0)]
)
def test_a_team_override_outside_its_range_is_refused_by_the_form(team, field, value):
    from django.core.exceptions import ValidationError

    config = SCIMTeamConfig.objects.get(team=team)
    setattr(config, field, value)

    with pytest.raises(ValidationError) as raised:
        config.full_clean()

    assert field in raised.value.message_dict
