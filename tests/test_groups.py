"""/Groups: create, read, replace, patch and delete, and what groups do to users.

A group's members are the team's users; a member value that names no user of
the team is ignored, never linked. Group membership never touches a seat:
deleting a group keeps its users, and adding a deactivated user keeps them
deactivated. ``User.groups`` mirrors the groups and is read-only.
"""

from __future__ import annotations

import logging
import uuid

import pytest

from example_project.teams.models import Membership
from scim_provisioning.models import (
    SCIMGroup,
    SCIMGroupMembership,
    SCIMTeamConfig,
    SCIMUser,
    SCIMUserEvent,
    TimelineAction,
)

from .conftest import assert_scim_error, patch_op

pytestmark = pytest.mark.django_db
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTRA_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@pytest.fixture
def people(provision):
    """Four people of team A, by first name."""
    return {name: provision(f"{name}@acme.com") for name in ("ada", "bob", "cy", "dee")}


@pytest.fixture
def create_group(idp):
    """POST a group through team A's (or another) IdP; returns the created resource."""

    def _create(name="Engineering", members=(), client=None, **extra):
        body = {
            "schemas": [GROUP],
            "displayName": name,
            "members": [{"value": member["id"]} for member in members],
            **extra,
        }
        response = (client or idp).post("/Groups", body)
        assert response.status_code == 201, response.content
        return response.json()

    return _create


@pytest.fixture
def engineering(create_group, people):
    """Engineering, with Ada and Bob in it."""
    return create_group("Engineering", [people["ada"], people["bob"]])


def _stored_members(group_id) -> set[str]:
    """The ids of the users the database holds in the group."""
    rows = SCIMGroupMembership.objects.filter(group_id=group_id)
    return {str(user_id) for user_id in rows.values_list("user_id", flat=True)}


def _ids(*resources) -> set[str]:
    return {resource["id"] for resource in resources}


def _values(body) -> set[str]:
    return {member["value"] for member in body.get("members", [])}


def _seat(team, user_id) -> Membership:
    record = SCIMUser.objects.get(pk=user_id)
    return Membership.objects.get(team=team, user=record.user_id)


class TestCreate:
    def test_post_returns_201_location_etag_and_the_group(self, idp, team):
        response = idp.post("/Groups", {"schemas": [GROUP], "displayName": "Engineering"})

        assert response.status_code == 201
        body = response.json()
        location = f"http://testserver/scim/v2/Groups/{body['id']}"
        assert response["Location"] == location
        assert response["ETag"] == 'W/"1"'
        assert body == {
            "schemas": [GROUP],
            "id": body["id"],
            "displayName": "Engineering",
            "members": [],
            "meta": {
                "resourceType": "Group",
                "created": body["meta"]["created"],
                "lastModified": body["meta"]["lastModified"],
                "location": location,
                "version": 'W/"1"',
            },
        }
        record = SCIMGroup.objects.get(pk=body["id"])
        assert record.team == team
        assert record.display_name == "Engineering"
        assert record.external_id is None
        assert not record.memberships.exists()

    def test_post_with_members_links_them(self, idp, people):
        ada, bob = people["ada"], people["bob"]

        response = idp.post(
            "/Groups",
            {
                "schemas": [GROUP],
                "displayName": "Engineering",
                "members": [{"value": ada["id"]}, {"value": bob["id"], "display": "Bob"}],
            },
        )

        assert response.status_code == 201
        body = response.json()
        assert sorted(body["members"], key=lambda m: m["value"]) == sorted(
            [
                {
                    "value": user["id"],
                    "$ref": f"http://testserver/scim/v2/Users/{user['id']}",
                    "type": "User",
                }
                for user in (ada, bob)
            ],
            key=lambda m: m["value"],
        )
        assert _stored_members(body["id"]) == _ids(ada, bob)

    def test_entra_extra_schema_urn_and_meta_are_accepted(self, idp, team):
        response = idp.post(
            "/Groups",
            {
                "schemas": [GROUP, ENTRA_GROUP],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Entra Group",
                "meta": {"resourceType": "Group"},
            },
        )

        assert response.status_code == 201
        body = response.json()
        assert body["schemas"] == [GROUP]
        assert body["displayName"] == "Entra Group"
        assert body["externalId"] == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
        assert body["meta"]["resourceType"] == "Group"
        record = SCIMGroup.objects.get(pk=body["id"])
        assert record.team == team
        assert record.external_id == "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"

    def test_a_taken_display_name_is_a_409_never_an_upsert(self, idp, team, engineering, people):
        response = idp.post(
            "/Groups",
            {
                "schemas": [GROUP],
                "displayName": "ENGINEERING",
                "members": [{"value": people["cy"]["id"]}],
            },
        )

        assert_scim_error(response, 409, "uniqueness")
        assert SCIMGroup.objects.filter(team=team).count() == 1
        record = SCIMGroup.objects.get(pk=engineering["id"])
        assert record.display_name == "Engineering"
        assert record.version == 1
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    @pytest.mark.parametrize("body", [{"schemas": [GROUP]}, {"displayName": "  "}])
    def test_a_group_without_display_name_is_a_400(self, idp, team, body):
        response = idp.post("/Groups", body)

        assert_scim_error(response, 400, "invalidValue")
        assert not SCIMGroup.objects.filter(team=team).exists()


class TestRead:
    def test_get_by_id_returns_the_group_with_its_etag(self, idp, engineering):
        response = idp.get(f"/Groups/{engineering['id']}")

        assert response.status_code == 200
        assert response["ETag"] == 'W/"1"'
        body = response.json()
        assert {k: v for k, v in body.items() if k != "members"} == {
            k: v for k, v in engineering.items() if k != "members"
        }
        assert _values(body) == _values(engineering) == _stored_members(engineering["id"])

    # A fixed UUID no record has: a random one would give each pytest-xdist worker
    # another test id, and xdist refuses to run workers that collected different tests.
    @pytest.mark.parametrize("group_id", ["9b7806d3-c07f-409f-a4f2-10907ffe96ae", "not-a-uuid"])
    def test_unknown_ids_are_404(self, idp, engineering, group_id):
        assert_scim_error(idp.get(f"/Groups/{group_id}"), 404)

    def test_list_returns_the_teams_groups(self, idp, engineering, create_group):
        sales = create_group("Sales")

        response = idp.get("/Groups")

        assert response.status_code == 200
        body = response.json()
        assert body["schemas"] == [LIST_RESPONSE]
        assert body["totalResults"] == 2
        assert body["itemsPerPage"] == 2
        assert [r["id"] for r in body["Resources"]] == [engineering["id"], sales["id"]]
        assert _values(body["Resources"][0]) == _stored_members(engineering["id"])
        assert body["Resources"][1]["members"] == []

    def test_excluded_attributes_members_drops_the_key(self, idp, engineering):
        body = idp.get(f"/Groups/{engineering['id']}", {"excludedAttributes": "members"}).json()

        assert "members" not in body
        assert body["displayName"] == "Engineering"
        assert body["meta"]["version"] == 'W/"1"'

    def test_excluded_attributes_members_on_a_list(self, idp, engineering):
        body = idp.get("/Groups", {"excludedAttributes": "members"}).json()

        assert body["totalResults"] == 1
        assert "members" not in body["Resources"][0]

    def test_attributes_display_name_returns_only_it_and_id(self, idp, engineering):
        body = idp.get(f"/Groups/{engineering['id']}", {"attributes": "displayName"}).json()

        assert body == {"schemas": [GROUP], "id": engineering["id"], "displayName": "Engineering"}

    def test_members_carry_value_ref_and_type_by_default(self, idp, engineering, people):
        members = idp.get(f"/Groups/{engineering['id']}").json()["members"]

        ada = people["ada"]["id"]
        assert {
            "value": ada,
            "$ref": f"http://testserver/scim/v2/Users/{ada}",
            "type": "User",
        } in members
        assert all(set(member) == {"value", "$ref", "type"} for member in members)

    def test_members_carry_display_when_asked(self, idp, provision, create_group):
        grace = provision("grace@acme.com", displayName="Grace Hopper")
        alan = provision("alan@acme.com")
        group = create_group("Pioneers", [grace, alan])

        body = idp.get(f"/Groups/{group['id']}", {"attributes": "members"}).json()

        assert set(body) == {"schemas", "id", "members"}
        displays = {member["value"]: member["display"] for member in body["members"]}
        # displayName when the user has one, else userName.
        assert displays == {grace["id"]: "Grace Hopper", alan["id"]: "alan@acme.com"}
        assert all(
            set(member) == {"value", "$ref", "type", "display"} for member in body["members"]
        )

    @pytest.mark.parametrize("display_name", ["42", "true", "null"])
    def test_member_display_is_the_string_the_idp_sent(
        self, idp, provision, create_group, display_name
    ):
        person = provision("num@acme.com", displayName=display_name)
        group = create_group("Numbers", [person])

        body = idp.get(f"/Groups/{group['id']}", {"attributes": "members"}).json()

        assert SCIMUser.objects.get(pk=person["id"]).attributes["displayName"] == display_name
        assert body["members"][0]["display"] == display_name


class TestPut:
    def test_put_replaces_display_name_and_members(self, idp, engineering, people):
        response = idp.put(
            f"/Groups/{engineering['id']}",
            {
                "schemas": [GROUP],
                "displayName": "Platform",
                "members": [{"value": people["cy"]["id"]}, {"value": people["bob"]["id"]}],
            },
        )

        assert response.status_code == 200
        body = response.json()
        assert body["displayName"] == "Platform"
        assert _values(body) == _ids(people["cy"], people["bob"])
        assert body["meta"]["version"] == response["ETag"] == 'W/"2"'
        record = SCIMGroup.objects.get(pk=engineering["id"])
        assert record.display_name == "Platform"
        assert _stored_members(engineering["id"]) == _ids(people["cy"], people["bob"])

    def test_okta_link_group_put_without_members_keeps_them(self, idp, engineering, people):
        response = idp.put(
            f"/Groups/{engineering['id']}",
            {"schemas": [GROUP], "id": engineering["id"], "displayName": "Engineering"},
        )

        assert response.status_code == 200
        assert _values(response.json()) == _ids(people["ada"], people["bob"])
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    def test_put_with_empty_members_empties_the_group(self, idp, engineering):
        response = idp.put(
            f"/Groups/{engineering['id']}",
            {"schemas": [GROUP], "displayName": "Engineering", "members": []},
        )

        assert response.status_code == 200
        assert response.json()["members"] == []
        assert _stored_members(engineering["id"]) == set()

    def test_put_onto_another_groups_name_is_a_409(self, idp, engineering, create_group):
        create_group("Sales")

        response = idp.put(f"/Groups/{engineering['id']}", {"displayName": "sales"})

        assert_scim_error(response, 409, "uniqueness")
        assert SCIMGroup.objects.get(pk=engineering["id"]).display_name == "Engineering"


class TestPatch:
    def test_add_many_members(self, idp, create_group, people):
        group = create_group("Engineering", [people["ada"]])

        response = idp.patch(
            f"/Groups/{group['id']}",
            patch_op(
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": people[n]["id"]} for n in ("bob", "cy", "dee")],
                }
            ),
        )

        assert response.status_code == 200
        assert _values(response.json()) == _ids(*people.values())
        assert _stored_members(group["id"]) == _ids(*people.values())

    def test_adding_an_existing_member_is_a_no_op(self, idp, engineering, people):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": people["ada"]["id"]}]}),
        )

        assert response.status_code == 200
        assert _values(response.json()) == _ids(people["ada"], people["bob"])
        assert SCIMGroupMembership.objects.filter(group_id=engineering["id"]).count() == 2

    def test_entra_remove_with_a_value_list_removes_only_those(self, idp, create_group, people):
        group = create_group("Engineering", list(people.values()))

        response = idp.patch(
            f"/Groups/{group['id']}",
            patch_op(
                {
                    "op": "Remove",
                    "path": "members",
                    "value": [{"value": people["ada"]["id"]}, {"value": people["cy"]["id"]}],
                }
            ),
        )

        assert response.status_code == 200
        assert _values(response.json()) == _ids(people["bob"], people["dee"])
        assert _stored_members(group["id"]) == _ids(people["bob"], people["dee"])

    def test_remove_by_value_filter_removes_only_that_member(self, idp, create_group, people):
        group = create_group("Engineering", list(people.values()))

        response = idp.patch(
            f"/Groups/{group['id']}",
            patch_op({"op": "remove", "path": f'members[value eq "{people["bob"]["id"]}"]'}),
        )

        assert response.status_code == 200
        remaining = _ids(people["ada"], people["cy"], people["dee"])
        assert _values(response.json()) == remaining
        assert _stored_members(group["id"]) == remaining

    def test_remove_members_without_value_empties_the_group(self, idp, engineering):
        response = idp.patch(
            f"/Groups/{engineering['id']}", patch_op({"op": "remove", "path": "members"})
        )

        assert response.status_code == 200
        assert response.json()["members"] == []
        assert _stored_members(engineering["id"]) == set()

    def test_replace_members_replaces_them(self, idp, engineering, people):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op(
                {
                    "op": "replace",
                    "path": "members",
                    "value": [{"value": people["bob"]["id"]}, {"value": people["dee"]["id"]}],
                }
            ),
        )

        assert response.status_code == 200
        assert _values(response.json()) == _ids(people["bob"], people["dee"])
        assert _stored_members(engineering["id"]) == _ids(people["bob"], people["dee"])

    def test_okta_rename_without_path(self, idp, engineering, people):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op(
                {
                    "op": "replace",
                    "value": {"id": engineering["id"], "displayName": "Platform"},
                }
            ),
        )

        assert response.status_code == 200
        assert response.json()["displayName"] == "Platform"
        assert response.json()["id"] == engineering["id"]
        record = SCIMGroup.objects.get(pk=engineering["id"])
        assert record.display_name == "Platform"
        assert record.version == 2
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    @pytest.mark.parametrize(
        ("op", "members", "expected"),
        [
            ("Add", ["cy"], {"ada", "bob", "cy"}),
            ("Remove", ["ada"], {"bob"}),
            ("Replace", ["dee"], {"dee"}),
        ],
    )
    def test_capitalised_ops(self, idp, engineering, people, op, members, expected):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op(
                {
                    "op": op,
                    "path": "members",
                    "value": [{"value": people[n]["id"]} for n in members],
                }
            ),
        )

        assert response.status_code == 200
        wanted = _ids(*(people[n] for n in expected))
        assert _values(response.json()) == wanted
        assert _stored_members(engineering["id"]) == wanted

    def test_entra_capitalised_rename(self, idp, engineering):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "Replace", "path": "displayName", "value": "Platform"}),
        )

        assert response.status_code == 200
        assert SCIMGroup.objects.get(pk=engineering["id"]).display_name == "Platform"

    def test_a_rename_that_changes_only_the_case_is_not_a_clash_with_itself(self, idp, engineering):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "replace", "path": "displayName", "value": "ENGINEERING"}),
        )

        assert response.status_code == 200, response.content
        assert response.json()["displayName"] == "ENGINEERING"
        assert SCIMGroup.objects.get(pk=engineering["id"]).display_name == "ENGINEERING"

    def test_a_patch_stores_the_new_external_id(self, idp, engineering):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "replace", "path": "externalId", "value": "okta-00g1"}),
        )

        assert response.status_code == 200, response.content
        assert response.json()["externalId"] == "okta-00g1"
        assert SCIMGroup.objects.get(pk=engineering["id"]).external_id == "okta-00g1"

    def test_a_sub_attribute_of_members_is_refused_saying_why(self, idp, engineering):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "add", "path": "members.value", "value": "x"}),
        )

        body = assert_scim_error(response, 400, "invalidPath")
        assert body["detail"] == (
            "Members are added or removed whole; their sub-attributes are fixed."
        )

    def test_a_remove_through_a_selector_never_adds_the_value_it_carries(
        self, idp, engineering, people
    ):
        # A remove takes members away (RFC 7644 §3.5.2.2); a value sent with it adds no one.
        ada, cy = people["ada"]["id"], people["cy"]["id"]

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op(
                {"op": "remove", "path": f'members[value eq "{ada}"]', "value": [{"value": cy}]}
            ),
        )

        assert response.status_code == 200, response.content
        assert _values(response.json()) == _ids(people["bob"])
        assert _stored_members(engineering["id"]) == _ids(people["bob"])

    def test_a_member_who_leaves_is_recorded_with_their_account(self, idp, engineering, people):
        ada = people["ada"]["id"]

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "remove", "path": f'members[value eq "{ada}"]'}),
        )

        assert response.status_code == 200, response.content
        entry = SCIMUserEvent.objects.get(scim_user_id=ada, action=TimelineAction.LEFT_GROUP)
        assert entry.account_id == SCIMUser.objects.get(pk=ada).user_id

    def test_a_member_who_joins_is_recorded_with_their_account(self, idp, engineering, people):
        cy = people["cy"]["id"]

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": cy}]}),
        )

        assert response.status_code == 200, response.content
        entry = SCIMUserEvent.objects.get(scim_user_id=cy, action=TimelineAction.JOINED_GROUP)
        assert entry.account_id == SCIMUser.objects.get(pk=cy).user_id

    def test_member_values_that_name_no_user_are_logged_and_ignored(
        self, idp, engineering, people, caplog
    ):
        # The operator reads the log to see why an IdP's member did not appear.
        unknown = str(uuid.uuid4())
        values = [{"value": people["cy"]["id"]}, {"value": unknown}, {"value": "not-an-id"}]
        caplog.set_level(logging.INFO, logger="scim_provisioning")

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "add", "path": "members", "value": values}),
        )

        assert response.status_code == 200, response.content
        assert _stored_members(engineering["id"]) == _ids(
            people["ada"], people["bob"], people["cy"]
        )
        assert [r.getMessage() for r in caplog.records if r.name == "scim_provisioning"] == [
            "SCIM group member 'not-an-id' is not a user id of this server: ignored",
            f"SCIM group {engineering['id']}: 1 member value(s) name no user of this team: ignored",
        ]

    def test_members_that_all_exist_log_nothing(self, idp, engineering, people, caplog):
        caplog.set_level(logging.INFO, logger="scim_provisioning")

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": people["cy"]["id"]}]}),
        )

        assert response.status_code == 200, response.content
        assert not [r for r in caplog.records if r.name == "scim_provisioning"]

    def test_a_replacement_of_the_members_is_logged_with_how_many_left(
        self, idp, engineering, people, caplog
    ):
        # A misbehaving client can empty a group this way: the log says when it happened.
        caplog.set_level(logging.INFO, logger="scim_provisioning")

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op(
                {"op": "replace", "path": "members", "value": [{"value": people["cy"]["id"]}]}
            ),
        )

        assert response.status_code == 200, response.content
        assert _stored_members(engineering["id"]) == _ids(people["cy"])
        assert [r.getMessage() for r in caplog.records if r.name == "scim_provisioning"] == [
            f"SCIM group {engineering['id']}: members replaced (2 removed, 1 named)"
        ]

    def test_a_rename_onto_another_groups_name_is_a_409(self, idp, engineering, create_group):
        create_group("Sales")

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "replace", "path": "displayName", "value": "SALES"}),
        )

        body = assert_scim_error(response, 409, "uniqueness")
        assert body["detail"] == "A group named 'SALES' already exists in this team."
        assert SCIMGroup.objects.get(pk=engineering["id"]).display_name == "Engineering"

    @pytest.mark.parametrize(
        ("operation", "scim_type"),
        [
            ({"op": "jump", "path": "members", "value": []}, "invalidSyntax"),
            ({"op": "remove"}, "noTarget"),
            ({"op": "add", "path": "members"}, "invalidValue"),
            ({"op": "add", "path": "members.value", "value": "x"}, "invalidPath"),
            ({"op": "remove", "path": 'members[display eq "Ada"]'}, "invalidFilter"),
            ({"op": "remove", "path": "members[value eq"}, "invalidPath"),
            ({"op": "replace", "path": "displayName", "value": ""}, "invalidValue"),
            ({"op": "replace", "path": "displayName", "value": {"a": 1}}, "invalidValue"),
            ({"op": "replace", "path": "id", "value": "x"}, "mutability"),
            ({"op": "replace", "path": "meta", "value": {}}, "mutability"),
        ],
    )
    def test_one_bad_operation_rejects_the_whole_patch(
        self, idp, engineering, people, operation, scim_type
    ):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op(
                {"op": "replace", "path": "displayName", "value": "Renamed"},
                {"op": "add", "path": "members", "value": [{"value": people["cy"]["id"]}]},
                {"op": "remove", "path": "members", "value": [{"value": people["ada"]["id"]}]},
                operation,
            ),
        )

        assert_scim_error(response, 400, scim_type)
        record = SCIMGroup.objects.get(pk=engineering["id"])
        assert record.display_name == "Engineering"
        assert record.version == 1
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    def test_if_match_mismatch_is_412_and_changes_nothing(self, idp, engineering, people):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op(
                {"op": "replace", "path": "displayName", "value": "Renamed"},
                {"op": "add", "path": "members", "value": [{"value": people["cy"]["id"]}]},
            ),
            HTTP_IF_MATCH='W/"7"',
        )

        assert_scim_error(response, 412)
        record = SCIMGroup.objects.get(pk=engineering["id"])
        assert record.display_name == "Engineering"
        assert record.version == 1
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    def test_if_match_with_the_current_version_succeeds(self, idp, engineering):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "replace", "path": "displayName", "value": "Renamed"}),
            HTTP_IF_MATCH=engineering["meta"]["version"],
        )

        assert response.status_code == 200
        assert SCIMGroup.objects.get(pk=engineering["id"]).display_name == "Renamed"

    @pytest.mark.parametrize("form", ["value list", "value filter"])
    def test_a_later_remove_cancels_an_earlier_add_of_the_same_member(
        self, idp, engineering, people, form
    ):
        # RFC 7644 §3.5.2: the operations apply in order, so an add followed by a
        # remove of the same member leaves them out.
        cy = people["cy"]["id"]
        remove = (
            {"op": "remove", "path": "members", "value": [{"value": cy}]}
            if form == "value list"
            else {"op": "remove", "path": f'members[value eq "{cy}"]'}
        )

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": cy}]}, remove),
        )

        assert response.status_code == 200, response.content
        assert _values(response.json()) == _ids(people["ada"], people["bob"])
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    def test_a_later_add_cancels_an_earlier_remove_of_the_same_member(
        self, idp, engineering, people
    ):
        ada = people["ada"]["id"]
        kept = SCIMGroupMembership.objects.filter(user_id=ada).get().pk

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op(
                {"op": "remove", "path": f'members[value eq "{ada}"]'},
                {"op": "add", "path": "members", "value": [{"value": ada}]},
            ),
        )

        assert response.status_code == 200, response.content
        assert _values(response.json()) == _ids(people["ada"], people["bob"])
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])
        # Ada never left: her membership is the one she had, not a new one.
        assert SCIMGroupMembership.objects.filter(user_id=ada).get().pk == kept

    @pytest.mark.parametrize("op", ["remove", "replace"])
    def test_members_selected_with_and_is_a_400_that_changes_nothing(
        self, idp, engineering, people, op
    ):
        # A member has one value, so `value eq A and value eq B` names no member;
        # only `value eq` terms joined by `or` select members (RFC 7644 §3.5.2.3).
        ada, bob = people["ada"]["id"], people["bob"]["id"]
        operation = {"op": op, "path": f'members[value eq "{ada}" and value eq "{bob}"]'}
        if op == "replace":
            operation["value"] = [{"value": people["cy"]["id"]}]

        response = idp.patch(f"/Groups/{engineering['id']}", patch_op(operation))

        assert_scim_error(response, 400, "invalidFilter")
        assert SCIMGroup.objects.get(pk=engineering["id"]).version == 1
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    def test_members_selected_with_or_are_each_removed(self, idp, create_group, people):
        group = create_group("Engineering", list(people.values()))
        ada, cy = people["ada"]["id"], people["cy"]["id"]

        response = idp.patch(
            f"/Groups/{group['id']}",
            patch_op({"op": "remove", "path": f'members[value eq "{ada}" or value eq "{cy}"]'}),
        )

        assert response.status_code == 200, response.content
        assert _values(response.json()) == _ids(people["bob"], people["dee"])
        assert _stored_members(group["id"]) == _ids(people["bob"], people["dee"])

    def test_replace_of_a_selected_member_puts_the_new_one_in_its_place(
        self, idp, engineering, people
    ):
        # RFC 7644 §3.5.2.3: the values the filter matches are replaced by "value".
        ada, cy = people["ada"]["id"], people["cy"]["id"]

        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op(
                {"op": "replace", "path": f'members[value eq "{ada}"]', "value": [{"value": cy}]}
            ),
        )

        assert response.status_code == 200, response.content
        assert _values(response.json()) == _ids(people["bob"], people["cy"])
        assert _stored_members(engineering["id"]) == _ids(people["bob"], people["cy"])

    def test_if_match_star_matches_the_current_version(self, idp, engineering, people):
        # RFC 7232 §3.1: "*" matches any current representation of the resource.
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": people["cy"]["id"]}]}),
            HTTP_IF_MATCH="*",
        )

        assert response.status_code == 200, response.content
        wanted = _ids(people["ada"], people["bob"], people["cy"])
        assert _values(response.json()) == wanted
        assert _stored_members(engineering["id"]) == wanted
        assert SCIMGroup.objects.get(pk=engineering["id"]).version == 2


class TestMembersThatAreNotUsersOfTheTeam:
    """A member value naming no user of this team is ignored (200/201), never linked."""

    @pytest.fixture(params=["random-uuid", "not-a-uuid", "other-teams-user"])
    def stranger(self, request, provision, other_idp):
        if request.param == "random-uuid":
            return str(uuid.uuid4())
        if request.param == "not-a-uuid":
            return "not-a-uuid"
        return provision("grace@globex.com", client=other_idp)["id"]

    def test_post_ignores_them(self, idp, people, stranger):
        response = idp.post(
            "/Groups",
            {
                "displayName": "Engineering",
                "members": [{"value": stranger}, {"value": people["ada"]["id"]}],
            },
        )

        assert response.status_code == 201
        body = response.json()
        assert _values(body) == _ids(people["ada"])
        assert _stored_members(body["id"]) == _ids(people["ada"])

    def test_patch_add_ignores_them(self, idp, engineering, people, stranger):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": stranger}]}),
        )

        assert response.status_code == 200
        assert _values(response.json()) == _ids(people["ada"], people["bob"])
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    def test_put_ignores_them(self, idp, engineering, people, stranger):
        response = idp.put(
            f"/Groups/{engineering['id']}",
            {"displayName": "Engineering", "members": [{"value": stranger}]},
        )

        assert response.status_code == 200
        assert response.json()["members"] == []
        assert _stored_members(engineering["id"]) == set()

    def test_patch_remove_of_them_changes_nothing(self, idp, engineering, people, stranger):
        response = idp.patch(
            f"/Groups/{engineering['id']}",
            patch_op({"op": "remove", "path": "members", "value": [{"value": stranger}]}),
        )

        assert response.status_code == 200
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])


class TestDelete:
    def test_delete_group_keeps_its_users(self, idp, team, engineering, people):
        response = idp.delete(f"/Groups/{engineering['id']}")

        assert response.status_code == 204
        assert response.content == b""
        assert not SCIMGroup.objects.filter(pk=engineering["id"]).exists()
        assert not SCIMGroupMembership.objects.filter(group_id=engineering["id"]).exists()
        for person in (people["ada"], people["bob"]):
            assert SCIMUser.objects.filter(pk=person["id"], active=True).exists()
            assert _seat(team, person["id"]).is_active is True
            assert idp.get(f"/Users/{person['id']}").json()["groups"] == []
        assert_scim_error(idp.get(f"/Groups/{engineering['id']}"), 404)

    @pytest.mark.parametrize("if_match", ["current", "*", "a list holding the current"])
    def test_delete_with_a_matching_if_match_deletes(self, idp, team, engineering, if_match):
        version = engineering["meta"]["version"]
        header = {"current": version, "*": "*", "a list holding the current": f'W/"9", {version}'}

        response = idp.delete(f"/Groups/{engineering['id']}", HTTP_IF_MATCH=header[if_match])

        assert response.status_code == 204, response.content
        assert response.content == b""
        assert not SCIMGroup.objects.filter(pk=engineering["id"]).exists()
        assert not SCIMGroupMembership.objects.filter(group_id=engineering["id"]).exists()

    def test_delete_with_a_stale_if_match_is_412_and_keeps_the_group(
        self, idp, engineering, people
    ):
        response = idp.delete(f"/Groups/{engineering['id']}", HTTP_IF_MATCH='W/"9"')

        assert_scim_error(response, 412)
        assert SCIMGroup.objects.filter(pk=engineering["id"]).exists()
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    def test_delete_user_removes_it_from_its_groups(self, idp, engineering, people):
        assert idp.delete(f"/Users/{people['ada']['id']}").status_code == 204

        body = idp.get(f"/Groups/{engineering['id']}").json()
        assert _values(body) == _ids(people["bob"])
        assert _stored_members(engineering["id"]) == _ids(people["bob"])


class TestDeactivatedUsers:
    @pytest.fixture
    def deactivated(self, idp, people):
        ada = people["ada"]
        response = idp.patch(
            f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": False})
        )
        assert response.status_code == 200
        return ada

    def test_adding_a_deactivated_user_keeps_them_deactivated(
        self, idp, team, create_group, deactivated
    ):
        group = create_group("Sales")

        response = idp.patch(
            f"/Groups/{group['id']}",
            patch_op({"op": "add", "path": "members", "value": [{"value": deactivated["id"]}]}),
        )

        assert response.status_code == 200
        assert _stored_members(group["id"]) == _ids(deactivated)
        assert SCIMUser.objects.get(pk=deactivated["id"]).active is False
        assert _seat(team, deactivated["id"]).is_active is False
        assert idp.get(f"/Users/{deactivated['id']}").json()["active"] is False

    def test_a_group_granting_a_role_keeps_them_deactivated(
        self, idp, team, create_group, deactivated
    ):
        SCIMTeamConfig.objects.filter(team=team).update(group_roles={"Admins": "admin"})

        create_group("Admins", [deactivated])

        seat = _seat(team, deactivated["id"])
        assert seat.role == Membership.Role.ADMIN
        assert seat.is_active is False
        assert SCIMUser.objects.get(pk=deactivated["id"]).active is False


class TestUserGroups:
    def test_user_groups_lists_the_users_groups(self, idp, engineering, create_group, people):
        admins = create_group("Admins", [people["ada"]])
        create_group("Sales", [people["bob"]])

        body = idp.get(f"/Users/{people['ada']['id']}").json()

        assert body["groups"] == [
            {
                "value": group["id"],
                "$ref": f"http://testserver/scim/v2/Groups/{group['id']}",
                "display": group["displayName"],
                "type": "direct",
            }
            for group in (admins, engineering)  # by displayName
        ]

    def test_groups_in_a_user_put_change_nothing(self, idp, engineering, create_group, people):
        sales = create_group("Sales")
        ada = people["ada"]

        response = idp.put(
            f"/Users/{ada['id']}",
            {"userName": ada["userName"], "groups": [{"value": sales["id"]}]},
        )

        assert response.status_code == 200
        assert [g["value"] for g in response.json()["groups"]] == [engineering["id"]]
        assert _stored_members(sales["id"]) == set()
        assert _stored_members(engineering["id"]) == _ids(ada, people["bob"])

    def test_groups_in_a_user_post_change_nothing(self, idp, engineering):
        response = idp.post(
            "/Users",
            {"userName": "eve@acme.com", "groups": [{"value": engineering["id"]}]},
        )

        assert response.status_code == 201
        assert response.json()["groups"] == []
        assert response.json()["id"] not in _stored_members(engineering["id"])


class TestTenantIsolation:
    @pytest.mark.parametrize(
        ("method", "body"),
        [
            ("get", None),
            ("put", {"displayName": "Hijacked", "members": []}),
            ("patch", patch_op({"op": "remove", "path": "members"})),
            ("delete", None),
        ],
    )
    def test_other_teams_token_gets_404(self, other_idp, engineering, people, method, body):
        path = f"/Groups/{engineering['id']}"
        call = getattr(other_idp, method)
        response = call(path) if body is None else call(path, body)

        assert_scim_error(response, 404)
        assert "Engineering" not in response.content.decode()
        record = SCIMGroup.objects.get(pk=engineering["id"])
        assert record.display_name == "Engineering"
        assert record.version == 1
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])

    def test_filters_never_find_another_teams_groups(self, other_idp, engineering):
        response = other_idp.get("/Groups", {"filter": 'displayName eq "Engineering"'})

        assert response.status_code == 200
        assert response.json()["totalResults"] == 0
        assert response.json()["Resources"] == []

    def test_lists_hold_only_the_teams_groups(self, other_idp, engineering, create_group):
        mine = create_group("Globex Staff", client=other_idp)

        body = other_idp.get("/Groups").json()

        assert body["totalResults"] == 1
        assert [r["id"] for r in body["Resources"]] == [mine["id"]]

    def test_the_same_display_name_in_another_team_is_no_conflict(
        self, other_idp, other_team, team, engineering, people
    ):
        response = other_idp.post("/Groups", {"schemas": [GROUP], "displayName": "Engineering"})

        assert response.status_code == 201
        assert response.json()["id"] != engineering["id"]
        assert SCIMGroup.objects.get(pk=response.json()["id"]).team == other_team
        assert SCIMGroup.objects.filter(display_name="Engineering").count() == 2
        assert _stored_members(engineering["id"]) == _ids(people["ada"], people["bob"])
