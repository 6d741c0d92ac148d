"""Signals: sent after commit, one normalised event each, never for a rolled-back request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from example_project.teams.models import Team
from scim_provisioning import signals
from scim_provisioning.health import record_health
from scim_provisioning.models import SCIMGroup, SCIMRequestLog, SCIMTeamHealth, SCIMUser
from scim_provisioning.request_log_writer import writer

from .conftest import patch_op

pytestmark = pytest.mark.django_db

ALL = {
    name: getattr(signals, name)
    for name in (
        "user_provisioned",
        "user_updated",
        "user_deactivated",
        "user_reactivated",
        "user_deprovisioned",
        "user_refused",
        "user_held",
        "group_created",
        "group_updated",
        "group_deleted",
        "group_members_changed",
    )
}


@pytest.fixture
def received():
    """Every signal received, as (signal name, sender, event)."""
    log: list[tuple[str, type, signals.SCIMEvent]] = []
    handlers = {}
    for name, signal in ALL.items():

        def handler(sender, event, _name=name, **kwargs):
            log.append((_name, sender, event))

        handlers[name] = handler
        signal.connect(handler)
    yield log
    for name, signal in ALL.items():
        signal.disconnect(handlers[name])


def _names(log):
    return [name for name, _, _ in log]


def test_provisioning_sends_user_provisioned_after_commit(
    idp, team, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        body = idp.post("/Users", {"userName": "ada@acme.com"}).json()
        assert received == []  # nothing before the commit

    for callback in callbacks:
        callback()
    ((name, sender, event),) = received
    assert (name, sender) == ("user_provisioned", SCIMUser)
    account = get_user_model().objects.get(email="ada@acme.com")
    assert event == signals.SCIMEvent(
        action="user.provisioned",
        team_id=team.pk,
        resource_type="User",
        resource_id=body["id"],
        user_id=account.pk,
        display="ada@acme.com",
    )


def test_deactivate_and_reactivate(idp, received, provision, django_capture_on_commit_callbacks):
    ada = provision("ada@acme.com")
    received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        idp.patch(
            f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": "False"})
        )
    with django_capture_on_commit_callbacks(execute=True):
        idp.patch(
            f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": True})
        )

    assert _names(received) == [
        "user_updated",
        "user_deactivated",
        "user_updated",
        "user_reactivated",
    ]


def test_an_update_that_keeps_active_sends_only_updated(
    idp, received, provision, django_capture_on_commit_callbacks
):
    ada = provision("ada@acme.com")
    received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        idp.put(f"/Users/{ada['id']}", {"title": "Engineer"})

    assert _names(received) == ["user_updated"]


def test_delete_sends_deprovisioned(
    idp, team, received, provision, django_capture_on_commit_callbacks
):
    ada = provision("ada@acme.com")
    account = get_user_model().objects.get(email="ada@acme.com")
    received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert idp.delete(f"/Users/{ada['id']}").status_code == 204

    ((name, sender, event),) = received
    assert (name, sender) == ("user_deprovisioned", SCIMUser)
    assert event == signals.SCIMEvent(
        action="user.deprovisioned",
        team_id=team.pk,
        resource_type="User",
        resource_id=ada["id"],
        user_id=account.pk,
        display="ada@acme.com",
    )
    assert not SCIMUser.objects.filter(pk=ada["id"]).exists()


def test_a_failed_request_sends_nothing(
    idp, received, provision, django_capture_on_commit_callbacks
):
    ada = provision("ada@acme.com")
    received.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op(
                {"op": "replace", "path": "active", "value": False},
                {"op": "replace", "path": "active", "value": "perhaps"},
            ),
        )

    assert response.status_code == 400
    assert callbacks == []
    assert received == []


def test_group_lifecycle(idp, team, received, provision, django_capture_on_commit_callbacks):
    ada, bob = provision("ada@acme.com"), provision("bob@acme.com")
    received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        group = idp.post(
            "/Groups", {"displayName": "Eng", "members": [{"value": ada["id"]}]}
        ).json()
    with django_capture_on_commit_callbacks(execute=True):
        idp.patch(
            f"/Groups/{group['id']}",
            patch_op(
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": ada["id"]}, {"value": bob["id"]}],
                },
                {"op": "remove", "path": f'members[value eq "{ada["id"]}"]'},
            ),
        )
    with django_capture_on_commit_callbacks(execute=True):
        idp.delete(f"/Groups/{group['id']}")

    assert _names(received) == [
        "group_created",
        "group_members_changed",
        "group_updated",
        "group_members_changed",
        "group_deleted",
    ]
    assert {sender for _, sender, _ in received} == {SCIMGroup}
    created_members, patched_members = received[1][2], received[3][2]
    assert created_members.added == (ada["id"],)
    assert (patched_members.added, patched_members.removed) == ((bob["id"],), (ada["id"],))
    assert received[-1][2] == signals.SCIMEvent(
        action="group.deleted",
        team_id=team.pk,
        resource_type="Group",
        resource_id=group["id"],
        display="Eng",
    )
    assert not SCIMGroup.objects.filter(pk=group["id"]).exists()


def test_a_redundant_add_changes_no_members(
    idp, received, provision, django_capture_on_commit_callbacks
):
    """Entra re-adds every existing member whenever one is removed: that is no change."""
    ada = provision("ada@acme.com")
    group = idp.post("/Groups", {"displayName": "Eng", "members": [{"value": ada["id"]}]}).json()
    received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        idp.patch(
            f"/Groups/{group['id']}",
            patch_op({"op": "Add", "path": "members", "value": [{"value": ada["id"]}]}),
        )

    assert _names(received) == ["group_updated"]


def test_the_example_site_keeps_its_seat_count(
    idp, team, provision, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ada = provision("ada@acme.com")
    with django_capture_on_commit_callbacks(execute=True):
        provision("bob@acme.com")
    team.refresh_from_db()
    assert team.seats_used == 2

    with django_capture_on_commit_callbacks(execute=True):
        idp.patch(
            f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": False})
        )
    team.refresh_from_db()
    assert team.seats_used == 1

    with django_capture_on_commit_callbacks(execute=True):
        idp.delete(f"/Users/{ada['id']}")
    team.refresh_from_db()
    assert team.seats_used == 1


# -- event names: one enum ---------------------------------------------------------------


def test_each_signal_has_one_event_type_named_after_it():
    by_signal = {event_type.signal: event_type for event_type in signals.EventType}
    assert set(by_signal) == set(ALL.values()) and len(by_signal) == len(signals.EventType)
    for name, signal in ALL.items():
        # user_provisioned <-> "user.provisioned", group_members_changed <-> "group.members_changed"
        assert by_signal[signal].value == name.replace("_", ".", 1)


def test_every_event_sent_carries_the_event_type_of_its_signal(
    idp, received, provision, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ada = provision("ada@acme.com")
        group = idp.post("/Groups", {"displayName": "Eng", "members": [{"value": ada["id"]}]})
        idp.patch(
            f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": False})
        )
        idp.delete(f"/Groups/{group.json()['id']}")
        idp.delete(f"/Users/{ada['id']}")

    assert {name for name, _, _ in received} >= {
        "user_provisioned",
        "group_created",
        "group_members_changed",
        "user_deactivated",
        "group_deleted",
        "user_deprovisioned",
    }
    for name, _sender, event in received:
        assert isinstance(event.action, signals.EventType)
        assert event.action.signal is ALL[name]


def test_an_event_type_reads_as_the_string_it_always_was():
    action = signals.EventType.USER_DEACTIVATED
    assert action == "user.deactivated"
    assert str(action) == f"{action}" == "user.deactivated"
    event = signals.SCIMEvent(
        action="user.deactivated", team_id=1, resource_type="User", resource_id="x"
    )
    assert event.action is action


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError):
        signals.SCIMEvent(action="user.vanished", team_id=1, resource_type="User", resource_id="x")


# -- a rolled-back change sends nothing, per signal (issue 26: one way to send) -----------


class _Rollback(Exception):
    """Raised inside a transaction to roll it back, as a host's outer transaction would."""


def _rolled_back(change: Callable[[], object]) -> None:
    with pytest.raises(_Rollback), transaction.atomic():
        change()
        raise _Rollback


def _deactivate(idp, scim_id):
    def change():
        response = idp.patch(
            f"/Users/{scim_id}", patch_op({"op": "replace", "path": "active", "value": False})
        )
        assert response.status_code == 200, response.content

    return change


def _user_provisioned(idp, team, provision):
    return lambda: idp.post("/Users", {"userName": "ada@acme.com"})


def _user_updated(idp, team, provision):
    ada = provision("ada@acme.com")
    return lambda: idp.put(f"/Users/{ada['id']}", {"userName": "ada@acme.com", "title": "CTO"})


def _user_deactivated(idp, team, provision):
    return _deactivate(idp, provision("ada@acme.com")["id"])


def _user_reactivated(idp, team, provision):
    ada = provision("ada@acme.com")
    _deactivate(idp, ada["id"])()
    return lambda: idp.patch(
        f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": True})
    )


def _user_deprovisioned(idp, team, provision):
    ada = provision("ada@acme.com")
    return lambda: idp.delete(f"/Users/{ada['id']}")


def _user_refused(idp, team, provision):
    provision("ada@acme.com")
    Team.objects.filter(pk=team.pk).update(max_seats=1)
    return lambda: idp.post("/Users", {"userName": "bob@acme.com"})


def _user_held(idp, team, provision):
    """The site's guard: 5 of a 13-person team go through within the hour, the 6th is held."""
    people = [provision(f"person{i}@acme.com")["id"] for i in range(13)]
    for scim_id in people[:5]:
        _deactivate(idp, scim_id)()
    return _deactivate(idp, people[5])


def _group_created(idp, team, provision):
    return lambda: idp.post("/Groups", {"displayName": "Eng"})


def _group(idp, provision):
    return idp.post("/Groups", {"displayName": "Eng"}).json()["id"]


def _group_updated(idp, team, provision):
    group = _group(idp, provision)
    return lambda: idp.put(f"/Groups/{group}", {"displayName": "Engineering"})


def _group_deleted(idp, team, provision):
    group = _group(idp, provision)
    return lambda: idp.delete(f"/Groups/{group}")


def _group_members_changed(idp, team, provision):
    ada, group = provision("ada@acme.com"), _group(idp, provision)
    return lambda: idp.patch(
        f"/Groups/{group}",
        patch_op({"op": "add", "path": "members", "value": [{"value": ada["id"]}]}),
    )


CHANGES = {
    "user_provisioned": _user_provisioned,
    "user_updated": _user_updated,
    "user_deactivated": _user_deactivated,
    "user_reactivated": _user_reactivated,
    "user_deprovisioned": _user_deprovisioned,
    "user_refused": _user_refused,
    "user_held": _user_held,
    "group_created": _group_created,
    "group_updated": _group_updated,
    "group_deleted": _group_deleted,
    "group_members_changed": _group_members_changed,
}


def test_every_signal_has_a_rolled_back_change_below():
    assert set(CHANGES) == set(ALL)


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_rolled_back_change_sends_nothing(
    name, idp, team, provision, received, django_capture_on_commit_callbacks
):
    change = CHANGES[name](idp, team, provision)
    received.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _rolled_back(change)

    assert received == []
    assert callbacks == []

    # The same change, committed, sends the signal: the premise holds.
    with django_capture_on_commit_callbacks(execute=True):
        change()
    assert name in _names(received)


def test_a_rolled_back_health_change_sends_nothing(idp, team, django_capture_on_commit_callbacks):
    """``team_health_changed``: the team's state, stored in a transaction that rolls back."""
    assert idp.get("/Users").status_code == 200
    assert writer.flush()
    SCIMRequestLog.objects.update(created=timezone.now() - timedelta(days=3))
    heard = []

    def receiver(sender, health, previous, **kwargs):
        heard.append((health.team.slug, health.state, previous))

    signals.team_health_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            _rolled_back(record_health)
        assert (heard, callbacks) == ([], [])
        assert not SCIMTeamHealth.objects.exists()

        with django_capture_on_commit_callbacks(execute=True):
            record_health()
    finally:
        signals.team_health_changed.disconnect(receiver)
    assert heard == [("acme", "unhealthy", None)]


def test_a_failing_receiver_fails_neither_the_idp_nor_the_other_receivers(
    idp, team, received, caplog, django_capture_on_commit_callbacks
):
    """Was a 500 for a user already created: the IdP retried and met a 409."""

    def failing(sender, event, **kwargs):
        raise RuntimeError("the host's billing is down")

    signals.user_provisioned.connect(failing)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = idp.post("/Users", {"userName": "ada@acme.com"})
    finally:
        signals.user_provisioned.disconnect(failing)

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get(pk=response.json()["id"]).user_name == "ada@acme.com"
    assert _names(received) == ["user_provisioned"]
    assert any(
        record.name == "django.dispatch" and "the host's billing is down" in str(record.exc_info)
        for record in caplog.records
    )
