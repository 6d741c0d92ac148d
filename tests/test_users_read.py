"""GET /Users/{id} and GET /Users: lookups, paging, filters, attribute selection."""

from __future__ import annotations

import pytest
from django.test import override_settings

from .conftest import assert_scim_error, load_payload
from .factories import SCIMUserFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def okta_user(idp):
    return idp.post("/Users", load_payload("okta/create_user.json")).json()


def _users(team, count):
    return [
        SCIMUserFactory(team=team, user=UserFactory(email=f"user{i:04d}@acme.com"))
        for i in range(count)
    ]


def test_get_by_id_returns_the_user_with_its_etag(idp, okta_user):
    response = idp.get(f"/Users/{okta_user['id']}")

    assert response.status_code == 200
    assert response.json() == okta_user
    assert response["ETag"] == okta_user["meta"]["version"] == 'W/"1"'


@pytest.mark.parametrize(
    "user_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "42", "%20"]
)
def test_unknown_ids_are_404_scim_errors(idp, user_id):
    response = idp.get(f"/Users/{user_id}")

    assert response.status_code == 404
    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert response.json()["status"] == "404"
    assert response.json()["detail"]


def test_if_none_match_with_the_current_version_is_304(idp, okta_user):
    response = idp.get(f"/Users/{okta_user['id']}", HTTP_IF_NONE_MATCH='W/"1"')

    assert response.status_code == 304
    assert response.content == b""


def test_if_none_match_with_an_old_version_returns_the_user(idp, okta_user):
    response = idp.get(f"/Users/{okta_user['id']}", HTTP_IF_NONE_MATCH='W/"0"')

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/users", "/USERS/", "/Users/"])
def test_resource_names_match_case_insensitively(idp, path):
    assert idp.get(path).status_code == 200


def test_okta_connection_test_on_an_empty_team(idp):
    response = idp.get("/Users?startIndex=1&count=2", HTTP_USER_AGENT="Okta SCIM Client 1.0.0")

    assert response.status_code == 200
    assert response.json() == {
        "schemas": [LIST_RESPONSE],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }


def test_entra_connection_test_with_plus_and_unencoded_quotes(idp):
    response = idp.get('/Users?filter=userName+eq+"7d420df3-9995-4831-a406-ecf8166f5f6a"')

    assert response.status_code == 200
    assert response.json()["totalResults"] == 0
    assert response.json()["Resources"] == []


def test_pages_are_stable_and_complete(idp, team):
    users = _users(team, 7)

    seen = []
    for start in (1, 4, 7):
        body = idp.get(f"/Users?startIndex={start}&count=3").json()
        assert body["totalResults"] == 7
        assert body["startIndex"] == start
        assert body["itemsPerPage"] == len(body["Resources"])
        seen += [r["id"] for r in body["Resources"]]

    assert seen == [str(u.id) for u in users]


def test_count_zero_gives_the_total_only(idp, team):
    _users(team, 3)

    body = idp.get("/Users?count=0").json()

    assert body["totalResults"] == 3
    assert body["itemsPerPage"] == 0
    assert body["Resources"] == []


@override_settings(SCIM_PROVISIONING_MAX_PAGE_SIZE=2, SCIM_PROVISIONING_DEFAULT_PAGE_SIZE=1)
@pytest.mark.parametrize(
    ("query", "start", "items"),
    [
        ("", 1, 1),
        ("?count=1000000", 1, 2),
        ("?count=-5", 1, 0),
        ("?startIndex=0&count=2", 1, 2),
        ("?startIndex=-3&count=2", 1, 2),
        ("?startIndex=99&count=2", 99, 0),
        ("?startIndex=99999999999999999999&count=2", 99999999999999999999, 0),
    ],
)
def test_out_of_range_paging_is_clamped(idp, team, query, start, items):
    _users(team, 3)

    response = idp.get(f"/Users{query}")

    assert response.status_code == 200
    assert response.json()["startIndex"] == start
    assert response.json()["itemsPerPage"] == items
    assert response.json()["totalResults"] == 3


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("?count=ten", "'count' must be an integer, not 'ten'."),
        ("?startIndex=1.5", "'startIndex' must be an integer, not '1.5'."),
    ],
)
def test_non_integer_paging_is_a_400_naming_the_parameter(idp, query, detail):
    response = idp.get(f"/Users{query}")

    assert assert_scim_error(response, 400, "invalidValue")["detail"] == detail


def test_blank_paging_parameters_are_as_if_absent(idp, team):
    response = idp.get("/Users?startIndex=&count= ")

    assert response.status_code == 200, response.content
    assert (response.json()["startIndex"], response.json()["totalResults"]) == (1, 0)


def test_a_count_of_true_is_not_a_number_of_results(idp):
    response = idp.post("/Users/.search", {"count": True})

    body = assert_scim_error(response, 400, "invalidValue")
    assert body["detail"] == "'count' must be an integer, not True."


@pytest.mark.parametrize("order", ["sideways", 1])
def test_a_sort_order_other_than_ascending_or_descending_is_a_400(idp, order):
    response = idp.post("/Users/.search", {"sortBy": "userName", "sortOrder": order})

    body = assert_scim_error(response, 400, "invalidValue")
    assert body["detail"] == "'sortOrder' is 'ascending' or 'descending'."


@pytest.mark.parametrize(
    ("field", "scim_type", "detail"),
    [
        ("filter", "invalidFilter", "'filter' must be a string."),
        ("sortBy", "invalidValue", "'sortBy' must be a string."),
    ],
)
def test_a_search_parameter_that_is_not_text_is_a_400_saying_so(idp, field, scim_type, detail):
    response = idp.post("/Users/.search", {field: ["userName"]})

    assert assert_scim_error(response, 400, scim_type)["detail"] == detail


class TestFilters:
    @pytest.fixture
    def people(self, team):
        ada = SCIMUserFactory(team=team, user=UserFactory(email="ada@acme.com"), external_id="E-1")
        bob = SCIMUserFactory(
            team=team, user=UserFactory(email="bob@acme.com"), external_id="e-2", active=False
        )
        return ada, bob

    def _ids(self, idp, filter_text):
        response = idp.get("/Users", {"filter": filter_text})
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["Resources"]}

    def test_username_eq_is_case_insensitive(self, idp, people):
        ada, _ = people
        assert self._ids(idp, 'userName eq "ADA@Acme.COM"') == {str(ada.id)}

    def test_external_id_eq_is_case_exact(self, idp, people):
        ada, _ = people
        assert self._ids(idp, 'externalId eq "E-1"') == {str(ada.id)}
        assert self._ids(idp, 'externalId eq "e-1"') == set()

    def test_id_eq(self, idp, people):
        ada, _ = people
        assert self._ids(idp, f'id eq "{ada.id}"') == {str(ada.id)}
        assert self._ids(idp, 'id eq "not-a-uuid"') == set()

    @pytest.mark.parametrize(
        "attribute", ["emails", "emails.value", 'emails[type eq "work"].value']
    )
    def test_email_filters(self, idp, people, attribute):
        _, bob = people
        assert self._ids(idp, f'{attribute} eq "Bob@acme.com"') == {str(bob.id)}

    @pytest.mark.parametrize(
        "filter_text",
        [
            'USERNAME EQ "ada@acme.com"',
            '  userName   eq   "ada@acme.com"  ',
            'userName Eq "ada@acme.com" AND active Eq TRUE',
            'emails[TYPE eq "work"].VALUE eq "ada@acme.com"',
        ],
    )
    def test_names_operators_and_literals_are_case_insensitive(self, idp, people, filter_text):
        ada, _ = people
        assert self._ids(idp, filter_text) == {str(ada.id)}

    def test_a_quoted_true_stays_a_string(self, idp, people):
        assert self._ids(idp, 'title eq "TRUE"') == set()

    def test_active_eq_finds_inactive_users(self, idp, people):
        _, bob = people
        assert self._ids(idp, "active eq false") == {str(bob.id)}

    def test_and_combines(self, idp, people):
        ada, _ = people
        assert self._ids(idp, 'userName eq "ada@acme.com" and active eq true') == {str(ada.id)}
        assert self._ids(idp, 'userName eq "ada@acme.com" and active eq false') == set()

    def test_or_and_not_and_contains(self, idp, people):
        ada, bob = people
        assert self._ids(idp, 'userName eq "ada@acme.com" or externalId eq "e-2"') == {
            str(ada.id),
            str(bob.id),
        }
        assert self._ids(idp, 'not (userName sw "ada")') == {str(bob.id)}
        assert self._ids(idp, 'name.familyName pr and userName co "BOB"') == {str(bob.id)}

    def test_enterprise_attribute_filter(self, idp, people):
        ada, _ = people
        ada.attributes["enterprise"] = {"department": "Engineering"}
        ada.save()
        assert self._ids(idp, f'{ENTERPRISE}:department eq "engineering"') == {str(ada.id)}

    @pytest.mark.parametrize(
        "filter_text",
        [
            'favouriteColour eq "blue"',
            'userName eq "ada@acme.com" or favouriteColour eq "blue"',
            'userName eq "ada@acme.com" and favouriteColour eq "blue"',
            'userName eq "ada@acme.com" and',
            "userName eq",
            'userName eq "unterminated',
            'active eq "yes"',
            'meta.created gt "yesterday"',
            "((((",
            'id co "1"',
        ],
    )
    def test_bad_filters_are_400_invalid_filter(self, idp, people, filter_text):
        response = idp.get("/Users", {"filter": filter_text})

        assert response.status_code == 400
        assert response.json()["scimType"] == "invalidFilter"
        assert response.json()["detail"]

    @override_settings(SCIM_PROVISIONING_MAX_FILTER_LENGTH=50)
    def test_an_overlong_filter_is_refused(self, idp):
        response = idp.get("/Users", {"filter": 'userName eq "' + "a" * 60 + '"'})

        assert response.status_code == 400
        assert response.json()["scimType"] == "invalidFilter"

    def test_meta_last_modified_filter(self, idp, people):
        assert len(self._ids(idp, 'meta.lastModified gt "2000-01-01T00:00:00Z"')) == 2
        assert self._ids(idp, 'meta.lastModified lt "2000-01-01T00:00:00Z"') == set()


class TestAttributeSelection:
    def test_attributes_returns_only_those_and_id(self, idp, okta_user):
        body = idp.get(f"/Users/{okta_user['id']}?attributes=userName,name.givenName").json()

        assert body == {
            "schemas": okta_user["schemas"],
            "id": okta_user["id"],
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test"},
        }

    def test_excluded_attributes_drops_them_but_never_id(self, idp, okta_user):
        body = idp.get(f"/Users/{okta_user['id']}?excludedAttributes=emails,name,id,meta").json()

        assert "emails" not in body and "name" not in body and "meta" not in body
        assert body["id"] == okta_user["id"]
        assert body["userName"] == okta_user["userName"]

    def test_selection_applies_to_lists(self, idp, okta_user):
        body = idp.get("/Users?attributes=userName").json()

        assert body["Resources"] == [
            {
                "schemas": okta_user["schemas"],
                "id": okta_user["id"],
                "userName": okta_user["userName"],
            }
        ]

    def test_a_path_outside_the_grammar_selects_nothing(self, idp, okta_user):
        # "emails.x y" names no attribute (RFC 7644 §3.10), as an unknown name names none.
        body = idp.get(f"/Users/{okta_user['id']}", {"attributes": "userName,emails.x y"}).json()

        assert body == {
            "schemas": okta_user["schemas"],
            "id": okta_user["id"],
            "userName": okta_user["userName"],
        }

    def test_urn_prefixed_attribute_paths(self, idp):
        created = idp.post("/Users", load_payload("entra/create_user.json")).json()

        body = idp.get(f"/Users/{created['id']}?attributes={ENTERPRISE}:employeeNumber").json()

        assert body[ENTERPRISE] == {"employeeNumber": "701984"}
        assert "userName" not in body
