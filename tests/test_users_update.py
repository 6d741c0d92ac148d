"""PUT and PATCH /Users/{id}: profile updates, deactivation, renames, managers."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth import get_user_model

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMUser, SCIMUserValue

from .adapters import TeamRecordingAdapter
from .conftest import assert_scim_error, load_payload, patch_op
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

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_if_match_star_matches_the_current_version(self, idp, team, okta_user, method):
        # RFC 7232 §3.1: "*" matches any current representation of the resource.
        body = (
            {"userName": "test.user@okta.local", "title": "CEO"}
            if method == "put"
            else patch_op({"op": "replace", "path": "title", "value": "CEO"})
        )

        response = getattr(idp, method)(f"/Users/{okta_user['id']}", body, HTTP_IF_MATCH="*")

        assert response.status_code == 200, response.content
        assert response.json()["title"] == "CEO"
        assert response.json()["meta"]["version"] == 'W/"2"'
        record = SCIMUser.objects.get(pk=okta_user["id"])
        assert record.attributes["title"] == "CEO"
        assert record.version == 2
        assert _seat(team, okta_user["id"]).is_active is True


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


class TestPatchPaths:
    """RFC 7644 §3.5.2: add, replace and remove on sub-attributes and multi-valued attributes."""

    WORK = {"value": "+1 555 0100", "type": "work"}
    MOBILE = {"value": "+1 555 0199", "type": "mobile"}

    @staticmethod
    def _phones(user_id) -> list[tuple[str, str]]:
        rows = SCIMUserValue.objects.filter(user_id=user_id, attribute="phoneNumbers")
        return sorted(rows.values_list("value", "type"))

    def _patch(self, idp, user, *operations):
        response = idp.patch(f"/Users/{user['id']}", patch_op(*operations))
        assert response.status_code == 200, response.content
        return response.json()

    def test_remove_a_sub_attribute_of_a_complex_attribute(self, idp, provision):
        ada = provision("ada@acme.com")

        body = self._patch(idp, ada, {"op": "remove", "path": "name.givenName"})

        assert body["name"] == {"familyName": "Lovelace"}
        assert SCIMUser.objects.get(pk=ada["id"]).attributes["name"] == {"familyName": "Lovelace"}

    def test_replace_a_sub_attribute_of_every_value(self, idp, provision):
        # No filter: the sub-attribute of every value is the target (§3.5.2.3).
        ada = provision("ada@acme.com", phoneNumbers=[self.WORK])

        body = self._patch(
            idp, ada, {"op": "replace", "path": "phoneNumbers.value", "value": "+1 555 0142"}
        )

        assert body["phoneNumbers"] == [{"value": "+1 555 0142", "type": "work"}]
        assert self._phones(ada["id"]) == [("+1 555 0142", "work")]

    def test_add_a_sub_attribute_creates_the_first_value(self, idp, provision):
        ada = provision("ada@acme.com")

        body = self._patch(
            idp, ada, {"op": "add", "path": "phoneNumbers.value", "value": "+1 555 0142"}
        )

        assert body["phoneNumbers"] == [{"value": "+1 555 0142"}]
        assert self._phones(ada["id"]) == [("+1 555 0142", "")]

    def test_remove_a_sub_attribute_of_every_value(self, idp, provision):
        ada = provision("ada@acme.com", phoneNumbers=[self.WORK, self.MOBILE])

        body = self._patch(idp, ada, {"op": "remove", "path": "phoneNumbers.type"})

        assert body["phoneNumbers"] == [{"value": "+1 555 0100"}, {"value": "+1 555 0199"}]
        assert self._phones(ada["id"]) == [("+1 555 0100", ""), ("+1 555 0199", "")]

    def test_remove_a_multi_valued_attribute_without_a_value_removes_every_value(
        self, idp, provision
    ):
        ada = provision("ada@acme.com", phoneNumbers=[self.WORK, self.MOBILE])

        body = self._patch(idp, ada, {"op": "remove", "path": "phoneNumbers"})

        assert "phoneNumbers" not in body
        assert self._phones(ada["id"]) == []

    def test_remove_with_a_value_list_removes_only_those_values(self, idp, provision):
        ada = provision("ada@acme.com", phoneNumbers=[self.WORK, self.MOBILE])

        body = self._patch(
            idp, ada, {"op": "remove", "path": "phoneNumbers", "value": [{"value": "+1 555 0100"}]}
        )

        assert body["phoneNumbers"] == [self.MOBILE]
        assert self._phones(ada["id"]) == [("+1 555 0199", "mobile")]

    def test_remove_a_single_value_attribute_with_a_value(self, idp, provision):
        ada = provision("ada@acme.com", title="Engineer")

        body = self._patch(idp, ada, {"op": "remove", "path": "title", "value": "Engineer"})

        assert "title" not in body
        assert "title" not in SCIMUser.objects.get(pk=ada["id"]).attributes

    def test_removing_an_absent_attribute_changes_nothing(self, idp, provision):
        ada = provision("ada@acme.com", title="Engineer")

        body = self._patch(idp, ada, {"op": "remove", "path": "nickName"})

        assert body["title"] == "Engineer" and "nickName" not in body
        record = SCIMUser.objects.get(pk=ada["id"])
        assert record.attributes["title"] == "Engineer"
        assert "nickName" not in record.attributes

    def test_an_operation_without_path_may_name_the_extension_by_its_urn(self, idp, provision):
        # RFC 7644 §3.5.2.3: without "path", "value" holds the attributes by their paths,
        # an extension's under its schema URN.
        ada = provision("ada@acme.com")

        body = self._patch(
            idp,
            ada,
            {"op": "replace", "value": {ENTERPRISE: {"department": "Research"}, "title": "CTO"}},
        )

        assert body[ENTERPRISE]["department"] == "Research"
        assert body["title"] == "CTO"
        attributes = SCIMUser.objects.get(pk=ada["id"]).attributes
        assert attributes["enterprise"]["department"] == "Research"

    def test_an_add_without_path_adds_to_a_multi_valued_attribute(self, idp, provision):
        # RFC 7644 §3.5.2.1: "add" on a multi-valued attribute adds the values.
        ada = provision("ada@acme.com", phoneNumbers=[self.WORK])

        body = self._patch(idp, ada, {"op": "add", "value": {"phoneNumbers": [self.MOBILE]}})

        assert body["phoneNumbers"] == [self.WORK, self.MOBILE]
        assert self._phones(ada["id"]) == [("+1 555 0100", "work"), ("+1 555 0199", "mobile")]

    def test_adding_a_value_already_there_changes_nothing(self, idp, provision):
        # RFC 7644 §3.5.2.1: a value already present is not added again,
        # whatever the order of its sub-attributes in the request.
        ada = provision("ada@acme.com", phoneNumbers=[self.WORK])

        body = self._patch(
            idp,
            ada,
            {
                "op": "add",
                "path": "phoneNumbers",
                "value": [{"type": "work", "value": "+1 555 0100"}],
            },
        )

        assert body["phoneNumbers"] == [self.WORK]
        assert self._phones(ada["id"]) == [("+1 555 0100", "work")]

    def test_removing_the_extension_by_its_urn_removes_its_attributes(self, idp, provision):
        ada = provision("ada@acme.com", **{ENTERPRISE: {"department": "Research"}})

        body = self._patch(idp, ada, {"op": "remove", "path": ENTERPRISE})

        assert ENTERPRISE not in body
        assert not SCIMUser.objects.get(pk=ada["id"]).attributes.get("enterprise")


class TestPatchValueFilters:
    """RFC 7644 §3.5.2 value-path filters, e.g. ``phoneNumbers[type eq "work"]``, in PATCH."""

    WORK = {"value": "+1 555 0100", "type": "work"}
    MOBILE = {"value": "+1 555 0199", "type": "mobile", "primary": True}
    HOME = {"value": "+44 20 7946 0000", "type": "home"}

    @pytest.fixture
    def ada(self, provision):
        return provision("ada@acme.com", phoneNumbers=[self.WORK, self.MOBILE, self.HOME])

    @staticmethod
    def _patch(idp, user, *operations):
        response = idp.patch(f"/Users/{user['id']}", patch_op(*operations))
        assert response.status_code == 200, response.content
        return response.json()

    @staticmethod
    def _stored(user_id) -> list[tuple[str, str, bool]]:
        rows = SCIMUserValue.objects.filter(user_id=user_id, attribute="phoneNumbers")
        return sorted(rows.values_list("type", "value", "primary"))

    @pytest.mark.parametrize(
        ("selector", "kept"),
        [
            ('type eq "work"', {"mobile", "home"}),
            ('TYPE eq "WORK"', {"mobile", "home"}),
            ('type ne "work"', {"work"}),
            ('value co "0199"', {"work", "home"}),
            ('value sw "+1 555"', {"home"}),
            ('value ew "0000"', {"work", "mobile"}),
            ('type gt "mobile"', {"home", "mobile"}),
            ('type ge "mobile"', {"home"}),
            ('type lt "mobile"', {"mobile", "work"}),
            ('type le "mobile"', {"work"}),
            # A value without primary has primary false (RFC 7643 §2.4), as its row and
            # GET ?filter=phoneNumbers[primary pr] have it: every value has one.
            ("primary pr", set()),
            ("primary eq true", {"work", "home"}),
            ('not (type eq "work")', {"work"}),
            ('type eq "work" or type eq "home"', {"mobile"}),
            ('type eq "work" and value co "0100"', {"mobile", "home"}),
            ('type eq "work" and value co "0199"', {"work", "mobile", "home"}),
            ('display eq "Ada"', {"work", "mobile", "home"}),
            ('display ne "Ada"', set()),  # an absent attribute is not equal to a value
        ],
    )
    def test_remove_removes_the_values_the_filter_selects(self, idp, ada, selector, kept):
        body = self._patch(idp, ada, {"op": "remove", "path": f"phoneNumbers[{selector}]"})

        assert {phone["type"] for phone in body.get("phoneNumbers", [])} == kept
        assert {type_ for type_, _, _ in self._stored(ada["id"])} == kept

    def test_remove_a_sub_attribute_of_the_selected_values(self, idp, ada):
        body = self._patch(
            idp, ada, {"op": "remove", "path": 'phoneNumbers[type eq "mobile"].primary'}
        )

        assert body["phoneNumbers"] == [
            self.WORK,
            {"value": "+1 555 0199", "type": "mobile"},
            self.HOME,
        ]
        assert not any(primary for _, _, primary in self._stored(ada["id"]))

    def test_replace_a_selected_value_keeps_its_other_sub_attributes(self, idp, ada):
        body = self._patch(
            idp,
            ada,
            {
                "op": "replace",
                "path": 'phoneNumbers[type eq "work"]',
                "value": {"value": "+1 555 0142"},
            },
        )

        assert body["phoneNumbers"][0] == {"value": "+1 555 0142", "type": "work"}
        assert ("work", "+1 555 0142", False) in self._stored(ada["id"])

    def test_making_a_value_primary_takes_primary_from_the_others(self, idp, ada):
        # RFC 7643 §2.4: at most one value is primary.
        body = self._patch(
            idp,
            ada,
            {"op": "replace", "path": 'phoneNumbers[type eq "work"].primary', "value": True},
        )

        assert [phone.get("primary", False) for phone in body["phoneNumbers"]] == [
            True,
            False,
            False,
        ]
        assert [t for t, _, primary in self._stored(ada["id"]) if primary] == ["work"]

    @pytest.mark.parametrize(
        ("selector", "seed"),
        [
            ('type eq "work"', {"type": "work"}),
            ('type eq "work" and primary eq true', {"type": "work", "primary": True}),
        ],
    )
    def test_a_filter_matching_nothing_adds_the_value_it_describes(
        self, idp, provision, selector, seed
    ):
        # Entra's emails[type eq "work"].value on a user without one.
        ada = provision("ada@acme.com")

        body = self._patch(
            idp,
            ada,
            {"op": "replace", "path": f"phoneNumbers[{selector}].value", "value": "+1 555 0142"},
        )

        assert body["phoneNumbers"] == [{**seed, "value": "+1 555 0142"}]
        assert self._stored(ada["id"]) == [("work", "+1 555 0142", seed.get("primary", False))]

    def test_a_filter_matching_nothing_that_describes_no_value_is_no_target(self, idp, ada):
        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op({"op": "replace", "path": 'phoneNumbers[value co "42"].type', "value": "fax"}),
        )

        assert_scim_error(response, 400, "noTarget")
        record = SCIMUser.objects.get(pk=ada["id"])
        assert record.version == 1
        assert len(self._stored(ada["id"])) == 3


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

        body = assert_scim_error(response, 409, "uniqueness")
        assert body["detail"] == "A user with userName 'ADA@acme.com' already exists in this team."
        assert SCIMUser.objects.get(pk=okta_user["id"]).user_name == "test.user@okta.local"

    def test_a_rename_that_loses_the_race_for_a_username_is_a_409_that_changes_nothing(
        self, idp, okta_user, provision, monkeypatch
    ):
        """Issue 27: the record is saved without a savepoint of its own; when a concurrent
        request took the name after the check (the check passes here, as it would have),
        the constraint decides and the write's transaction turns it into a 409."""
        from scim_provisioning.provisioning import users

        provision("ada@acme.com")
        monkeypatch.setattr(users, "_check_user_name_free", lambda *args: None)

        response = idp.patch(
            f"/Users/{okta_user['id']}",
            patch_op(
                {"op": "replace", "path": "userName", "value": "ADA@acme.com"},
                {"op": "replace", "path": "name.givenName", "value": "Changed"},
            ),
        )

        body = assert_scim_error(response, 409, "uniqueness")
        assert body["detail"].startswith("Another request changed the same value at the same time")
        record = SCIMUser.objects.get(pk=okta_user["id"])
        assert record.user_name == "test.user@okta.local"
        assert record.attributes["name"]["givenName"] != "Changed"


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

    def test_a_rename_onto_an_address_in_use_moves_the_record_not_the_login_and_logs_it(
        self, idp, provision, caplog
    ):
        ada = provision("ada@acme.com")
        bob = UserFactory(email="bob@acme.com")
        account = SCIMUser.objects.get(pk=ada["id"]).user

        with caplog.at_level("WARNING", logger="scim_provisioning"):
            response = idp.patch(
                f"/Users/{ada['id']}",
                patch_op(
                    {
                        "op": "replace",
                        "path": 'emails[type eq "work"].value',
                        "value": "bob@acme.com",
                    }
                ),
            )

        # The IdP may not learn that an account exists outside its team: a 200.
        assert response.status_code == 200
        assert response.json()["emails"][0]["value"] == "bob@acme.com"
        record = SCIMUser.objects.select_related("user").get(pk=ada["id"])
        assert record.email == "bob@acme.com"
        assert record.user.email == "ada@acme.com"
        bob.refresh_from_db()
        assert bob.email == "bob@acme.com"
        assert [r.getMessage() for r in caplog.records if r.name == "scim_provisioning"] == [
            f"SCIM rename of account {account.pk} to an email already in use: login left unchanged"
        ]

    def test_the_account_hooks_of_a_rename_are_given_the_team(self, idp, provision, team, settings):
        settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.TeamRecordingAdapter"
        TeamRecordingAdapter.calls = []
        ada = provision("ada@acme.com")
        TeamRecordingAdapter.calls = []

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op(
                {"op": "replace", "path": 'emails[type eq "work"].value', "value": "ada.l@acme.com"}
            ),
        )

        assert response.status_code == 200
        assert SCIMUser.objects.select_related("user").get(pk=ada["id"]).user.email == (
            "ada.l@acme.com"
        )
        assert TeamRecordingAdapter.calls == [
            ("email_in_use", team.pk, "ada.l@acme.com"),
            ("change_login_email", team.pk, "ada.l@acme.com"),
            ("update_account", team.pk, True),
        ]

    def test_a_name_given_to_a_user_who_had_none_reaches_the_account(self, idp):
        created = idp.post("/Users", {"userName": "ada@acme.com"})
        assert created.status_code == 201, created.content

        response = idp.patch(
            f"/Users/{created.json()['id']}",
            patch_op({"op": "add", "path": "name", "value": {"givenName": "Ada"}}),
        )

        assert response.status_code == 200
        assert response.json()["name"] == {"givenName": "Ada"}
        account = SCIMUser.objects.select_related("user").get(pk=created.json()["id"]).user
        assert account.first_name == "Ada"

    def test_a_change_of_names_alone_leaves_the_login_email_alone(
        self, idp, provision, team, settings
    ):
        settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.TeamRecordingAdapter"
        ada = provision("ada@acme.com")
        TeamRecordingAdapter.calls = []

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op({"op": "replace", "path": "name.givenName", "value": "Augusta"}),
        )

        assert response.status_code == 200
        account = SCIMUser.objects.select_related("user").get(pk=ada["id"]).user
        assert (account.email, account.first_name) == ("ada@acme.com", "Augusta")
        assert TeamRecordingAdapter.calls == [("update_account", team.pk, True)]


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

        body = assert_scim_error(response, 400, "invalidValue")
        assert body["detail"] == f"The manager '{stranger['id']}' is not a user of this team."
        assert SCIMUser.objects.get(pk=ada["id"]).manager_id is None

    def test_a_manager_that_is_no_id_is_a_400_naming_it(self, idp, provision):
        ada = provision("ada@acme.com")

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op({"op": "add", "path": f"{ENTERPRISE}:manager", "value": "boss@acme.com"}),
        )

        body = assert_scim_error(response, 400, "invalidValue")
        assert body["detail"] == "The manager 'boss@acme.com' is not a user of this team."
        assert SCIMUser.objects.get(pk=ada["id"]).manager_id is None

    def test_a_user_cannot_be_their_own_manager(self, idp, provision):
        ada = provision("ada@acme.com")

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op({"op": "add", "path": f"{ENTERPRISE}:manager", "value": ada["id"]}),
        )

        body = assert_scim_error(response, 400, "invalidValue")
        assert body["detail"] == "A user cannot be their own manager."
        record = SCIMUser.objects.get(pk=ada["id"])
        assert (record.manager_id, record.version) == (None, 1)

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

    def test_replace_the_manager_selected_by_a_filter(self, idp, provision, reporting):
        # A filter on the single-valued manager selects it or nothing (as a list of one).
        boss, ada = reporting
        new_boss = provision("new.boss@acme.com")

        response = idp.patch(
            f"/Users/{ada['id']}",
            patch_op(
                {
                    "op": "replace",
                    "path": f'{ENTERPRISE}:manager[value eq "{boss["id"]}"]',
                    "value": {"value": new_boss["id"]},
                }
            ),
        )

        assert response.status_code == 200, response.content
        assert response.json()[ENTERPRISE]["manager"]["value"] == new_boss["id"]
        assert str(SCIMUser.objects.get(pk=ada["id"]).manager_id) == new_boss["id"]
