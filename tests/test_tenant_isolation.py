"""One base URL for every team: a token of team B never reaches team A's people.

Team B's IdP gets 404 for team A's users on every endpoint and method, finds
nothing through filters, gets no 409 from team A's names, and cannot take
over an account that team A provisioned. The same tests run on
``tests/hosts/stock_user`` (``tests/test_hosts.py``).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from scim_provisioning.models import SCIMUser

from .conftest import assert_scim_error, load_payload, patch_op
from .host import assert_seat, has_row, prove_mailbox

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def ada(provision):
    """A person team A's IdP provisioned (so team A alone manages the account)."""
    return provision("ada@acme.com")


def _unchanged(ada, team):
    record = SCIMUser.objects.select_related("user").get(pk=ada["id"])
    assert record.version == 1
    assert record.active is True
    assert record.user.email == "ada@acme.com"
    assert_seat(team, record.user, active=True)


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("get", None),
        ("put", {"userName": "ada@acme.com", "active": False}),
        ("patch", patch_op({"op": "replace", "path": "active", "value": False})),
        ("delete", None),
    ],
)
def test_other_teams_token_gets_404_on_every_method(other_idp, ada, team, method, body):
    path = f"/Users/{ada['id']}"
    response = (
        getattr(other_idp, method)(path) if body is None else getattr(other_idp, method)(path, body)
    )

    assert response.status_code == 404
    assert response.json()["status"] == "404"
    assert "ada@acme.com" not in response.content.decode()
    _unchanged(ada, team)


@pytest.mark.parametrize(
    "filter_text",
    [
        'userName eq "ada@acme.com"',
        'emails.value eq "ada@acme.com"',
        "active eq true",
        'userName sw "a"',
        "userName pr",
        'id eq "{id}"',
    ],
)
def test_filters_never_find_another_teams_users(other_idp, ada, filter_text):
    response = other_idp.get("/Users", {"filter": filter_text.replace("{id}", ada["id"])})

    assert response.status_code == 200
    assert response.json()["totalResults"] == 0
    assert response.json()["Resources"] == []


def test_lists_and_counts_hold_only_the_teams_users(other_idp, ada, provision):
    provision("grace@globex.com", client=other_idp)

    body = other_idp.get("/Users").json()

    assert body["totalResults"] == 1
    assert [r["userName"] for r in body["Resources"]] == ["grace@globex.com"]


def test_another_teams_username_is_no_conflict(other_idp, ada, team, other_team, monkeypatch):
    prove_mailbox(monkeypatch, SCIMUser.objects.get(pk=ada["id"]).user, "ada@acme.com")

    response = other_idp.post("/Users", {"userName": "ada@acme.com"})

    assert response.status_code == 201
    assert response.json()["id"] != ada["id"]
    assert SCIMUser.objects.filter(user_name="ada@acme.com").count() == 2
    _unchanged(ada, team)


class TestNoAccountTakeover:
    @pytest.fixture
    def linked(self, other_idp, ada, monkeypatch):
        """Team B's IdP provisions the same person: it links to team A's account, once the
        person proved the address on the site."""
        prove_mailbox(monkeypatch, SCIMUser.objects.get(pk=ada["id"]).user, "ada@acme.com")
        response = other_idp.post("/Users", {"userName": "ada@acme.com"})
        assert response.status_code == 201
        return response.json()

    def test_linking_adds_a_seat_in_team_b_only(self, linked, ada, team, other_team):
        account = User.objects.get(email="ada@acme.com")
        assert SCIMUser.objects.get(pk=linked["id"]).user_id == account.pk
        assert_seat(other_team, account, active=True)
        _unchanged(ada, team)

    def test_renaming_leaves_the_login(self, other_idp, linked, ada, team):
        response = other_idp.patch(
            f"/Users/{linked['id']}",
            patch_op(
                {"op": "replace", "path": "userName", "value": "mallory@evil.com"},
                {
                    "op": "replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "mallory@evil.com",
                },
            ),
        )

        assert response.status_code == 200
        assert User.objects.filter(email="ada@acme.com").exists()
        assert not User.objects.filter(email="mallory@evil.com").exists()
        _unchanged(ada, team)

    def test_renaming_by_put_leaves_the_login(self, other_idp, linked, ada, team):
        other_idp.put(
            f"/Users/{linked['id']}", {"userName": "mallory@evil.com", "name": {"givenName": "M"}}
        )

        account = User.objects.get(email="ada@acme.com")
        assert account.first_name == "Ada"
        _unchanged(ada, team)

    def test_team_a_no_longer_manages_the_login_alone(self, idp, linked, ada):
        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op(
                {"op": "replace", "path": "userName", "value": "ada.new@acme.com"},
                {
                    "op": "replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "ada.new@acme.com",
                },
                {"op": "replace", "path": "name.givenName", "value": "Augusta"},
            ),
        )

        assert response.status_code == 200, response.content
        record = SCIMUser.objects.select_related("user").get(pk=ada["id"])
        assert (record.user_name, record.email) == ("ada.new@acme.com", "ada.new@acme.com")
        assert (record.user.email, record.user.first_name) == ("ada@acme.com", "Ada")
        assert not User.objects.filter(email="ada.new@acme.com").exists()

    def test_deactivating_touches_team_b_only(self, other_idp, linked, ada, team, other_team):
        other_idp.patch(f"/Users/{linked['id']}", load_payload("entra/patch_deactivate.json"))

        account = User.objects.get(email="ada@acme.com")
        assert_seat(other_team, account, active=False)
        _unchanged(ada, team)

    def test_deleting_touches_team_b_only(self, other_idp, linked, ada, team, other_team):
        assert other_idp.delete(f"/Users/{linked['id']}").status_code == 204

        account = User.objects.get(email="ada@acme.com")
        assert not has_row(other_team, account)
        _unchanged(ada, team)

    def test_a_manager_link_across_teams_is_refused(self, other_idp, provision, linked, ada, team):
        enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        boss = provision("boss@globex.com", client=other_idp)
        response = other_idp.patch(
            f"/Users/{linked['id']}",
            patch_op({"op": "add", "path": f"{enterprise}:manager", "value": boss["id"]}),
        )
        assert response.status_code == 200, response.content

        response = other_idp.patch(
            f"/Users/{linked['id']}",
            patch_op({"op": "add", "path": f"{enterprise}:manager", "value": ada["id"]}),
        )

        assert_scim_error(response, 400, "invalidValue")
        record = SCIMUser.objects.get(pk=linked["id"])
        assert str(record.manager_id) == boss["id"]  # the refused write changed nothing
        assert record.version == 2
        _unchanged(ada, team)
