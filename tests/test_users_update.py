"""PUT and PATCH /Users/{id}: profile updates, deactivation, renames, managers."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth import get_user_model

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMUser

from .conftest import load_payload, patch_op
from .example_factories import MembershipFactory
from .factories import SCIMTeamConfigFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _with_id(name: str, user_id: str) -> dict:
    return json.loads(json.dumps(load_payload(name)).replace("{id}", user_id))


@pytest.fixture
def okta_user(idp):
    return idp.post("/Users", load_payload("okta/create_user.json")).json()


@pytest.fixture
def entra_user(idp):
    return idp.post("/Users", load_payload("entra/create_user.json")).json()


def _seat(team, user_id):
    record = SCIMUser.objects.get(pk=user_id)
    return Membership.objects.get(team=team, user=record.user_id)


class TestPut:
    def test_okta_profile_push_echoing_our_get(self, idp, okta_user):
        response = idp.put(
            f"/Users/{okta_user['id']}", _with_id("okta/put_profile.json", okta_user["id"])
        )

        assert response.status_code == 200
        body = response.json()
        assert body["name"] == {
            "givenName": "Another",
            "middleName": "Excited",
            "familyName": "User",
        }
        assert body["emails"] == [
            {"primary": True, "value": "test.user@okta.local", "type": "work"}
        ]
        assert body["meta"]["version"] == 'W/"2"' == response["ETag"]
        record = SCIMUser.objects.select_related("user").get(pk=okta_user["id"])
        assert record.user.first_name == "Another"

    def test_attributes_left_out_of_a_put_are_kept(self, idp, okta_user):
        idp.put(f"/Users/{okta_user['id']}", {"userName": okta_user["userName"]})

        body = idp.get(f"/Users/{okta_user['id']}").json()
        assert body["externalId"] == "00ujl29u0le5T6Aj10h7"
        assert body["name"] == okta_user["name"]
        assert body["locale"] == "en-US"

    def test_null_clears_an_attribute(self, idp, okta_user):
        body = idp.put(f"/Users/{okta_user['id']}", {"locale": None}).json()

        assert "locale" not in body

    def test_a_put_without_active_never_deactivates(self, idp, team, okta_user):
        payload = _with_id("okta/put_profile.json", okta_user["id"])
        del payload["active"]

        body = idp.put(f"/Users/{okta_user['id']}", payload).json()

        assert body["active"] is True
        assert _seat(team, okta_user["id"]).is_active is True

    def test_okta_aiw_deactivates_and_reactivates_by_put(self, idp, team, okta_user):
        deactivated = idp.put(
            f"/Users/{okta_user['id']}", _with_id("okta/put_deactivate.json", okta_user["id"])
        )

        assert deactivated.status_code == 200
        assert deactivated.json()["active"] is False
        assert _seat(team, okta_user["id"]).is_active is False
        assert User.objects.filter(email="test.user@okta.local", is_active=True).exists()

        payload = _with_id("okta/put_deactivate.json", okta_user["id"])
        payload["active"] = True
        reactivated = idp.put(f"/Users/{okta_user['id']}", payload)

        assert reactivated.json()["active"] is True
        assert _seat(team, okta_user["id"]).is_active is True

    def test_if_match_mismatch_is_412_and_changes_nothing(self, idp, okta_user):
        response = idp.put(f"/Users/{okta_user['id']}", {"title": "CEO"}, HTTP_IF_MATCH='W/"7"')

        assert response.status_code == 412
        assert response.json()["status"] == "412"
        assert "title" not in SCIMUser.objects.get(pk=okta_user["id"]).attributes

    def test_if_match_with_the_current_version_succeeds(self, idp, okta_user):
        response = idp.put(
            f"/Users/{okta_user['id']}",
            {"title": "CEO"},
            HTTP_IF_MATCH=okta_user["meta"]["version"],
        )

        assert response.status_code == 200
        assert response.json()["title"] == "CEO"


class TestPatch:
    def test_okta_deactivate_and_reactivate_without_path(self, idp, team, okta_user):
        off = idp.patch(f"/Users/{okta_user['id']}", load_payload("okta/patch_deactivate.json"))

        assert off.status_code == 200
        assert off.json()["active"] is False
        assert _seat(team, okta_user["id"]).is_active is False

        on = idp.patch(f"/Users/{okta_user['id']}", load_payload("okta/patch_reactivate.json"))

        assert on.json()["active"] is True
        assert _seat(team, okta_user["id"]).is_active is True

    def test_entra_deactivates_with_the_string_false(self, idp, team, entra_user):
        response = idp.patch(
            f"/Users/{entra_user['id']}", load_payload("entra/patch_deactivate.json")
        )

        assert response.status_code == 200
        assert response.json()["active"] is False
        assert SCIMUser.objects.get(pk=entra_user["id"]).active is False
        assert _seat(team, entra_user["id"]).is_active is False

    def test_entra_reactivates_with_the_string_true(self, idp, team, entra_user):
        idp.patch(f"/Users/{entra_user['id']}", load_payload("entra/patch_deactivate.json"))

        response = idp.patch(
            f"/Users/{entra_user['id']}", load_payload("entra/patch_reactivate.json")
        )

        assert response.json()["active"] is True
        assert _seat(team, entra_user["id"]).is_active is True

    def test_deactivated_users_keep_every_record(self, idp, team, entra_user):
        idp.patch(f"/Users/{entra_user['id']}", load_payload("entra/patch_deactivate.json"))

        record = SCIMUser.objects.select_related("user").get(pk=entra_user["id"])
        assert record.attributes["name"]["givenName"] == "givenName"
        assert record.user.is_active is True
        assert idp.get(f"/Users/{entra_user['id']}").status_code == 200
        found = idp.get("/Users", {"filter": f'userName eq "{entra_user["userName"]}"'}).json()
        assert found["totalResults"] == 1

    def test_entra_profile_update(self, idp, entra_user):
        response = idp.patch(f"/Users/{entra_user['id']}", load_payload("entra/patch_update.json"))

        assert response.status_code == 200
        body = response.json()
        assert body["emails"] == [
            {"primary": True, "type": "work", "value": "updatedEmail@contoso.com"}
        ]
        assert body["name"]["familyName"] == "updatedFamilyName"
        assert body["displayName"] == "Pvlo"
        assert body["externalId"] == "Eqpj"
        assert body["nickName"] == "Babs"
        assert body[ENTERPRISE]["employeeNumber"] == "Eqpj"
        record = SCIMUser.objects.get(pk=entra_user["id"])
        assert record.email == "updatedemail@contoso.com"
        assert record.external_id == "Eqpj"

    def test_entra_dotted_keys_without_path(self, idp, entra_user):
        response = idp.patch(
            f"/Users/{entra_user['id']}", load_payload("entra/patch_dotted_keys.json")
        )

        body = response.json()
        assert body["displayName"] == "Bjfe"
        assert body["name"]["givenName"] == "Kkom"
        assert body["name"]["familyName"] == "Unua"
        assert body["name"]["formatted"] == "givenName familyName"
        assert body[ENTERPRISE]["employeeNumber"] == "Aklq"

    def test_add_replace_and_remove_core_attributes(self, idp, okta_user):
        path = f"/Users/{okta_user['id']}"
        idp.patch(path, patch_op({"op": "add", "path": "title", "value": "Engineer"}))
        idp.patch(
            path,
            patch_op(
                {
                    "op": "add",
                    "path": "phoneNumbers",
                    "value": [{"value": "+1 555", "type": "work"}],
                }
            ),
        )
        body = idp.patch(path, patch_op({"op": "remove", "path": "locale"})).json()

        assert body["title"] == "Engineer"
        assert body["phoneNumbers"] == [{"value": "+1 555", "type": "work"}]
        assert "locale" not in body

    def test_value_filter_paths(self, idp, okta_user):
        path = f"/Users/{okta_user['id']}"
        body = idp.patch(
            path,
            patch_op(
                {
                    "op": "replace",
                    "path": 'phoneNumbers[type eq "mobile"].value',
                    "value": "+33 6",
                },
                {"op": "remove", "path": 'emails[type eq "home"]'},
            ),
        ).json()

        assert body["phoneNumbers"] == [{"type": "mobile", "value": "+33 6"}]
        assert body["emails"] == okta_user["emails"]

    def test_an_empty_operations_list_changes_nothing(self, idp, okta_user):
        response = idp.patch(f"/Users/{okta_user['id']}", patch_op())

        assert response.status_code == 200
        assert response.json()["meta"]["version"] == 'W/"2"'
        assert response.json()["name"] == okta_user["name"]

    def test_patch_responses_honour_attributes(self, idp, okta_user):
        response = idp.patch(
            f"/Users/{okta_user['id']}?attributes=active",
            load_payload("okta/patch_deactivate.json"),
        )

        assert set(response.json()) == {"schemas", "id", "active"}

    @pytest.mark.parametrize(
        ("operation", "scim_type"),
        [
            ({"op": "jump", "path": "title", "value": "x"}, "invalidSyntax"),
            ({"op": "remove"}, "noTarget"),
            ({"op": "replace", "path": "id", "value": "x"}, "mutability"),
            ({"op": "replace", "path": "groups", "value": []}, "mutability"),
            ({"op": "replace", "path": "active", "value": "perhaps"}, "invalidValue"),
            ({"op": "replace", "path": "emails[type eq", "value": "x"}, "invalidPath"),
            ({"op": "replace", "path": 'emails[type zz "x"].value', "value": "x"}, "invalidFilter"),
            ({"op": "replace", "path": 'title[type eq "x"]', "value": "x"}, "invalidPath"),
            ({"op": "replace", "path": "name..givenName", "value": "x"}, "invalidPath"),
            ({"op": "replace", "path": "userName", "value": ""}, "invalidValue"),
            ({"op": "replace", "value": "not an object"}, "invalidValue"),
        ],
    )
    def test_one_bad_operation_rejects_the_whole_patch(
        self, idp, team, okta_user, operation, scim_type
    ):
        response = idp.patch(
            f"/Users/{okta_user['id']}",
            patch_op(
                {"op": "replace", "path": "title", "value": "Changed"},
                {"op": "replace", "path": "active", "value": False},
                operation,
            ),
        )

        assert response.status_code == 400
        assert response.json()["scimType"] == scim_type
        record = SCIMUser.objects.get(pk=okta_user["id"])
        assert "title" not in record.attributes
        assert record.active is True
        assert record.version == 1
        assert _seat(team, okta_user["id"]).is_active is True

    @pytest.mark.parametrize(
        "body", [{"Operations": "nope"}, {"schemas": []}, [], {"Operations": ["x"]}]
    )
    def test_malformed_patch_bodies_are_invalid_syntax(self, idp, okta_user, body):
        response = idp.patch(f"/Users/{okta_user['id']}", body)

        assert response.status_code == 400
        assert response.json()["scimType"] == "invalidSyntax"

    def test_unknown_attribute_paths_are_ignored(self, idp, okta_user):
        response = idp.patch(
            f"/Users/{okta_user['id']}",
            patch_op(
                {"op": "replace", "path": "favouriteColour", "value": "blue"},
                {"op": "add", "path": "urn:example:custom:User:shoe", "value": "44"},
            ),
        )

        assert response.status_code == 200
        assert "favouriteColour" not in response.json()


class TestRenames:
    def test_without_a_verified_domain_the_record_follows_and_the_login_stays(self, idp, okta_user):
        response = idp.patch(
            f"/Users/{okta_user['id']}",
            patch_op(
                {"op": "Replace", "path": "userName", "value": "renamed@okta.local"},
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "renamed@okta.local",
                },
            ),
        )

        assert response.status_code == 200
        assert response.json()["userName"] == "renamed@okta.local"
        record = SCIMUser.objects.select_related("user").get(pk=okta_user["id"])
        assert (record.user_name, record.email) == ("renamed@okta.local", "renamed@okta.local")
        assert record.user.email == "test.user@okta.local"

    def test_the_login_of_a_linked_account_never_changes(self, idp, team):
        person = UserFactory(email="ada@acme.com")
        created = idp.post("/Users", {"userName": "ada@acme.com"}).json()

        idp.patch(
            f"/Users/{created['id']}",
            patch_op({"op": "replace", "path": "userName", "value": "evil@attacker.com"}),
        )

        person.refresh_from_db()
        assert person.email == "ada@acme.com"
        assert SCIMUser.objects.get(pk=created["id"]).user_name == "evil@attacker.com"

    def test_the_login_of_an_account_in_another_team_never_changes(self, idp, okta_user):
        account = SCIMUser.objects.get(pk=okta_user["id"]).user
        MembershipFactory(team=TeamFactory(), user=account)

        idp.patch(
            f"/Users/{okta_user['id']}",
            patch_op({"op": "replace", "path": "userName", "value": "new@okta.local"}),
        )

        account.refresh_from_db()
        assert account.email == "test.user@okta.local"

    def test_a_rename_onto_someone_elses_email_leaves_the_login(self, idp, okta_user):
        UserFactory(email="taken@okta.local")

        response = idp.patch(
            f"/Users/{okta_user['id']}",
            patch_op({"op": "replace", "path": "userName", "value": "taken@okta.local"}),
        )

        # The IdP may not learn that an account exists outside its team.
        assert response.status_code == 200
        assert SCIMUser.objects.get(pk=okta_user["id"]).user.email == "test.user@okta.local"

    def test_renaming_to_a_username_taken_in_the_team_is_a_409(self, idp, okta_user, provision):
        provision("ada@acme.com")

        response = idp.patch(
            f"/Users/{okta_user['id']}",
            patch_op({"op": "replace", "path": "userName", "value": "ADA@acme.com"}),
        )

        assert response.status_code == 409
        assert response.json()["scimType"] == "uniqueness"
        assert SCIMUser.objects.get(pk=okta_user["id"]).user_name == "test.user@okta.local"


class TestRenamesInsideVerifiedDomains:
    @pytest.fixture
    def team(self, db):
        return SCIMTeamConfigFactory(
            team=TeamFactory(slug="acme"), verified_domains=["acme.com"]
        ).team

    def test_a_rename_outside_the_domains_is_refused(self, idp, provision):
        ada = provision("ada@acme.com")

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op(
                {"op": "replace", "path": 'emails[type eq "work"].value', "value": "ada@evil.com"}
            ),
        )

        assert response.status_code == 400
        assert response.json()["scimType"] == "invalidValue"
        record = SCIMUser.objects.select_related("user").get(pk=ada["id"])
        assert record.email == "ada@acme.com"
        assert record.user.email == "ada@acme.com"

    def test_a_rename_inside_the_domains_moves_the_login_of_an_account_the_team_alone_manages(
        self, idp, provision
    ):
        ada = provision("ada@acme.com")

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op(
                {"op": "Replace", "path": "userName", "value": "ada.l@acme.com"},
                {
                    "op": "Replace",
                    "path": 'emails[type eq "work"].value',
                    "value": "ada.l@acme.com",
                },
            ),
        )

        assert response.status_code == 200
        record = SCIMUser.objects.select_related("user").get(pk=ada["id"])
        assert record.user.email == "ada.l@acme.com"


class TestManager:
    def test_set_manager_by_bare_id_and_read_it_back_as_an_object(self, idp, provision):
        boss = provision("boss@acme.com", displayName="The Boss")
        ada = provision("ada@acme.com")

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op({"op": "add", "path": f"{ENTERPRISE}:manager", "value": boss["id"]}),
        )

        assert response.status_code == 200
        assert response.json()[ENTERPRISE]["manager"] == {
            "value": boss["id"],
            "$ref": f"http://testserver/scim/v2/Users/{boss['id']}",
        }
        assert str(SCIMUser.objects.get(pk=ada["id"]).manager_id) == boss["id"]

    def test_the_managers_display_name_is_returned_on_request(self, idp, provision):
        boss = provision("boss@acme.com", displayName="The Boss")
        ada = provision("ada@acme.com", **{ENTERPRISE: {"manager": {"value": boss["id"]}}})

        body = idp.get(f"/Users/{ada['id']}", {"attributes": f"{ENTERPRISE}:manager"}).json()

        assert body[ENTERPRISE]["manager"]["displayName"] == "The Boss"

    def test_manager_in_a_post_body(self, idp, provision):
        boss = provision("boss@acme.com")

        ada = provision("ada@acme.com", **{ENTERPRISE: {"manager": {"value": boss["id"]}}})

        assert ada[ENTERPRISE]["manager"]["value"] == boss["id"]

    def test_a_manager_from_another_team_is_a_400(self, idp, provision, other_idp):
        stranger = provision("stranger@globex.com", client=other_idp)
        ada = provision("ada@acme.com")

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op({"op": "add", "path": f"{ENTERPRISE}:manager", "value": stranger["id"]}),
        )

        assert response.status_code == 400
        assert response.json()["scimType"] == "invalidValue"
        assert SCIMUser.objects.get(pk=ada["id"]).manager_id is None

    def test_remove_manager(self, idp, provision):
        boss = provision("boss@acme.com")
        ada = provision("ada@acme.com", **{ENTERPRISE: {"manager": boss["id"]}})

        body = idp.patch(
            f"/Users/{ada['id']}", patch_op({"op": "remove", "path": f"{ENTERPRISE}:manager"})
        ).json()

        assert ENTERPRISE not in body
        assert SCIMUser.objects.get(pk=ada["id"]).manager_id is None


class TestEntraManagerRemoval:
    @pytest.fixture
    def reporting(self, provision):
        boss = provision("boss@acme.com")
        ada = provision("ada@acme.com", **{ENTERPRISE: {"manager": boss["id"]}})
        return boss, ada

    def test_remove_manager_by_value_filter(self, idp, reporting):
        boss, ada = reporting

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op({"op": "remove", "path": f'{ENTERPRISE}:manager[value eq "{boss["id"]}"]'}),
        )

        assert response.status_code == 200
        assert ENTERPRISE not in response.json()
        assert SCIMUser.objects.get(pk=ada["id"]).manager_id is None

    def test_a_filter_naming_another_manager_removes_nothing(self, idp, reporting):
        boss, ada = reporting

        idp.patch(
            f"/Users/{ada['id']}",
            patch_op(
                {
                    "op": "remove",
                    "path": f'{ENTERPRISE}:manager[value eq "{uuid.UUID(int=0)}"]',
                }
            ),
        )

        assert str(SCIMUser.objects.get(pk=ada["id"]).manager_id) == boss["id"]

    def test_the_old_doc_shape_list_with_ref(self, idp, reporting, provision):
        _, ada = reporting
        new_boss = provision("new.boss@acme.com")

        idp.patch(
            f"/Users/{ada['id']}",
            patch_op(
                {
                    "op": "Add",
                    "path": "manager",
                    "value": [
                        {"$ref": f"http://x/Users/{new_boss['id']}", "value": new_boss["id"]}
                    ],
                }
            ),
        )

        assert str(SCIMUser.objects.get(pk=ada["id"]).manager_id) == new_boss["id"]
