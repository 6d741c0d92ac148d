"""Filters, sortBy and ``.search`` over users and groups (RFC 7644 §3.4.2, §3.4.3).

Every operator and logical form of the filter grammar, value paths whose
conditions hold for one and the same value, sorting, the ``.search`` of each
resource type and the root ``.search`` that runs over users then groups.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from scim_provisioning.models import SCIMGroup, SCIMUser

from .conftest import IdPClient, assert_scim_error, patch_op

pytestmark = pytest.mark.django_db
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _at(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def people(provision):
    """Three users of team A, provisioned in this order.

    Bob's work email is at other.com and his home email at acme.com; Cy's
    only email is not primary; Ada alone has a title and a mobile number.
    """
    ada = provision(
        "ada@acme.com",
        externalId="E-1",
        displayName="Ada Lovelace",
        title="Engineer",
        phoneNumbers=[{"value": "+44 7700 900001", "type": "mobile"}],
    )
    bob = provision(
        "bob@other.com",
        externalId="e-2",
        displayName="Bob Builder",
        active=False,
        emails=[
            {"value": "bob@other.com", "type": "work", "primary": True},
            {"value": "bob@acme.com", "type": "home"},
        ],
        phoneNumbers=[{"value": "+44 20 7946 0000", "type": "work"}],
    )
    cy = provision(
        "cy@acme.com",
        externalId="E-3",
        displayName="Cy",
        emails=[{"value": "cy@acme.com", "type": "work"}],
    )
    return {"ada": ada, "bob": bob, "cy": cy}


@pytest.fixture
def groups(idp, people):
    """Engineering (Ada, Cy) and Lovelace Fans (Bob), created in this order."""
    engineering = idp.post(
        "/Groups",
        {
            "displayName": "Engineering",
            "externalId": "G-1",
            "members": [{"value": people["ada"]["id"]}, {"value": people["cy"]["id"]}],
        },
    ).json()
    fans = idp.post(
        "/Groups",
        {"displayName": "Lovelace Fans", "members": [{"value": people["bob"]["id"]}]},
    ).json()
    return {"engineering": engineering, "fans": fans}


def _names(resources, by) -> list[str]:
    """The resources' keys in ``by`` (name → resource), in response order."""
    names = {resource["id"]: name for name, resource in by.items()}
    return [names[resource["id"]] for resource in resources]


def _filter(idp, endpoint: str, text: str) -> dict:
    response = idp.get(endpoint, {"filter": text})
    assert response.status_code == 200, response.content
    return response.json()


class TestUserFilters:
    @pytest.mark.parametrize(
        ("filter_text", "expected"),
        [
            ('userName ne "ADA@acme.com"', {"bob", "cy"}),
            ('userName co "ACME"', {"ada", "cy"}),
            ('userName sw "B"', {"bob"}),
            ('userName ew "@acme.com"', {"ada", "cy"}),
            ('displayName ew "lovelace"', {"ada"}),
            ('userName gt "bob@other.com"', {"cy"}),
            ('userName ge "bob@other.com"', {"bob", "cy"}),
            ('userName lt "bob@other.com"', {"ada"}),
            ('userName le "bob@other.com"', {"ada", "bob"}),
            ("title pr", {"ada"}),
            ("phoneNumbers pr", {"ada", "bob"}),
            ("externalId pr", {"ada", "bob", "cy"}),
        ],
    )
    def test_operators(self, idp, people, filter_text, expected):
        body = _filter(idp, "/Users", filter_text)

        assert set(_names(body["Resources"], people)) == expected
        assert body["totalResults"] == len(expected)

    @pytest.mark.parametrize(
        ("filter_text", "expected"),
        [
            ('userName ew "@acme.com" and active eq true', {"ada", "cy"}),
            ('externalId eq "E-1" or displayName eq "CY"', {"ada", "cy"}),
            ('not (userName ew "@acme.com")', {"bob"}),
            ('userName sw "ada" or (userName sw "bob" and active eq false)', {"ada", "bob"}),
            ('(userName sw "ada" or userName sw "bob") and active eq false', {"bob"}),
            ('not (userName sw "ada" or userName sw "bob") and title pr', set()),
            ("not (title pr) and not (active eq false)", {"cy"}),
            (
                'userName sw "ada" or userName sw "bob" or userName sw "cy" or userName sw "x"',
                {"ada", "bob", "cy"},
            ),
            (
                'userName sw "cy" or title pr and active eq false or userName sw "bob"',
                {"bob", "cy"},
            ),
            ('title pr and active eq true or userName sw "cy" and active eq true', {"ada", "cy"}),
        ],
    )
    def test_logical_operators_and_parentheses(self, idp, people, filter_text, expected):
        body = _filter(idp, "/Users", filter_text)

        assert set(_names(body["Resources"], people)) == expected

    def test_and_binds_tighter_than_or(self, idp, people):
        # RFC 7644 §3.4.2.2: "not" takes precedence over "and", which takes
        # precedence over "or": this is ada or (inactive bob).
        body = _filter(idp, "/Users", 'userName sw "ada" or userName sw "bob" and active eq false')

        assert set(_names(body["Resources"], people)) == {"ada", "bob"}

    def test_and_binds_tighter_than_or_on_the_right(self, idp, people):
        # (ada and active) or bob
        body = _filter(idp, "/Users", 'userName sw "ada" and active eq true or userName sw "bob"')

        assert set(_names(body["Resources"], people)) == {"ada", "bob"}

    def test_value_path_conditions_hold_for_the_same_email(self, idp, people):
        # Bob has a work email (at other.com) and an email at acme.com (home):
        # no single email of his is both.
        body = _filter(idp, "/Users", 'emails[type eq "work" and value co "@acme"]')

        assert set(_names(body["Resources"], people)) == {"ada", "cy"}

    def test_value_path_finds_the_home_email(self, idp, people):
        body = _filter(idp, "/Users", 'emails[type eq "home" and value co "@ACME"]')

        assert _names(body["Resources"], people) == ["bob"]

    def test_value_path_with_sub_attribute(self, idp, people):
        body = _filter(idp, "/Users", 'phoneNumbers[type eq "mobile"].value eq "+44 7700 900001"')

        assert _names(body["Resources"], people) == ["ada"]

    def test_value_path_sub_attribute_of_another_type_matches_nothing(self, idp, people):
        body = _filter(idp, "/Users", 'phoneNumbers[type eq "work"].value eq "+44 7700 900001"')

        assert body["totalResults"] == 0

    def test_emails_primary_eq_true(self, idp, people):
        body = _filter(idp, "/Users", "emails.primary eq true")

        assert set(_names(body["Resources"], people)) == {"ada", "bob"}

    def test_groups_value_eq_on_users(self, idp, people, groups):
        body = _filter(idp, "/Users", f'groups.value eq "{groups["engineering"]["id"]}"')

        assert set(_names(body["Resources"], people)) == {"ada", "cy"}

    def test_meta_last_modified(self, idp, people):
        SCIMUser.objects.filter(pk=people["ada"]["id"]).update(last_modified=_at(2020))

        newer = _filter(idp, "/Users", 'meta.lastModified gt "2021-01-01T00:00:00Z"')
        older = _filter(idp, "/Users", 'meta.lastModified le "2020-01-01T00:00:00Z"')

        assert set(_names(newer["Resources"], people)) == {"bob", "cy"}
        assert _names(older["Resources"], people) == ["ada"]

    def test_external_id_is_case_exact(self, idp, people):
        assert _names(_filter(idp, "/Users", 'externalId eq "E-1"')["Resources"], people) == ["ada"]
        assert _filter(idp, "/Users", 'externalId eq "e-1"')["totalResults"] == 0

    @pytest.mark.parametrize("address", ["BOB@other.com", "bob@acme.com"])
    def test_okta_email_alias(self, idp, people, address):
        body = _filter(idp, "/Users", f'email eq "{address}"')

        assert _names(body["Resources"], people) == ["bob"]

    @pytest.mark.parametrize(
        "filter_text",
        [
            'userName eq "ada@acme.com" or favouriteColour eq "blue"',
            'favouriteColour eq "blue" or userName eq "ada@acme.com"',
            "not (favouriteColour pr) or active eq true",
            'emails[type eq "work" or colour eq "red"]',
        ],
    )
    def test_an_unknown_attribute_inside_or_is_invalid_filter(self, idp, people, filter_text):
        assert_scim_error(idp.get("/Users", {"filter": filter_text}), 400, "invalidFilter")

    def test_id_ne_selects_the_others(self, idp, people):
        body = _filter(idp, "/Users", f'id ne "{people["ada"]["id"]}"')

        assert set(_names(body["Resources"], people)) == {"bob", "cy"}

    @pytest.mark.parametrize("operator", ["co", "sw", "gt"])
    def test_ids_are_compared_with_eq_or_ne_only(self, idp, people, operator):
        response = idp.get("/Users", {"filter": f'id {operator} "{people["ada"]["id"]}"'})

        body = assert_scim_error(response, 400, "invalidFilter")
        assert f"The operator '{operator}' cannot be used on 'id'" in body["detail"]

    @pytest.mark.parametrize("moment", ["yesterday", "2026-13-45T00:00:00Z"])
    def test_a_date_that_is_not_one_is_invalid_filter(self, idp, people, moment):
        response = idp.get("/Users", {"filter": f'meta.created gt "{moment}"'})

        body = assert_scim_error(response, 400, "invalidFilter")
        assert f"'{moment}' is not a date and time" in body["detail"]

    @pytest.mark.parametrize(
        ("filter_text", "detail"),
        [
            ('title[value eq "x"]', "'title' is not a multi-valued attribute"),
            ('emails[display eq "x"]', "Filtering on 'display' is not supported"),
        ],
    )
    def test_an_unsupported_path_is_named_in_the_error(self, idp, people, filter_text, detail):
        response = idp.get("/Users", {"filter": filter_text})

        body = assert_scim_error(response, 400, "invalidFilter")
        assert detail in body["detail"]

    def test_a_value_path_compares_the_sub_attribute_it_names(self, idp, people):
        # Bob's home email is the only one at acme.com whose type is "home".
        body = _filter(idp, "/Users", 'emails[value co "@acme"].type eq "home"')

        assert _names(body["Resources"], people) == ["bob"]

    def test_a_value_path_compared_without_a_sub_attribute_compares_its_value(self, idp, people):
        body = _filter(idp, "/Users", 'emails[type eq "work"] eq "cy@acme.com"')

        assert _names(body["Resources"], people) == ["cy"]

    def test_a_date_and_time_is_compared_for_equality(self, idp, people):
        SCIMUser.objects.filter(pk=people["ada"]["id"]).update(created=_at(2020))

        equal = _filter(idp, "/Users", 'meta.created eq "2020-01-01T00:00:00Z"')
        not_equal = _filter(idp, "/Users", 'meta.created ne "2020-01-01T00:00:00Z"')

        assert _names(equal["Resources"], people) == ["ada"]
        assert set(_names(not_equal["Resources"], people)) == {"bob", "cy"}

    def test_an_id_that_is_no_id_of_ours_is_equal_to_nobody(self, idp, people):
        equal = _filter(idp, "/Users", 'id eq "not-a-uuid"')
        not_equal = _filter(idp, "/Users", 'id ne "not-a-uuid"')

        assert equal["totalResults"] == 0
        assert set(_names(not_equal["Resources"], people)) == {"ada", "bob", "cy"}

    @pytest.mark.parametrize(
        ("filter_text", "detail"),
        [
            ('favouriteColour eq "blue"', "Filtering on 'favouriteColour' is not supported."),
            ('emails.display eq "x"', "Filtering on 'emails.display' is not supported."),
            (
                'emails[type eq "work"].display eq "x"',
                "Filtering on 'emails.display' is not supported.",
            ),
            ("active gt true", "The operator 'gt' cannot be used on 'active'."),
            ('active co "true"', "The operator 'co' cannot be used on 'active'."),
            ("emails.primary gt true", "The operator 'gt' cannot be used on 'emails.primary'."),
            ("emails[primary gt true]", "The operator 'gt' cannot be used on 'primary'."),
            (
                'emails[type eq "work"].primary gt true',
                "The operator 'gt' cannot be used on 'emails.primary'.",
            ),
            ('active eq "yes"', "'active' is compared with true or false."),
            ('emails[value.display eq "x"]', "'value.display' cannot be used inside brackets."),
            (
                f'emails[{USER}:value eq "x"]',
                f"'{USER}:value' cannot be used inside brackets.",
            ),
        ],
    )
    def test_a_refused_filter_says_what_is_refused(self, idp, people, filter_text, detail):
        response = idp.get("/Users", {"filter": filter_text})

        body = assert_scim_error(response, 400, "invalidFilter")
        assert body["detail"] == detail


class TestFilterBounds:
    """What parse_filter refuses before any query: each a 400 ``invalidFilter`` saying why."""

    def test_a_nul_character_is_refused(self, idp, people):
        response = idp.get("/Users", {"filter": 'userName eq "ada\x00@acme.com"'})

        body = assert_scim_error(response, 400, "invalidFilter")
        # The one rule for text no database stores (scim_provisioning/storable_text.py).
        assert body["detail"] == "The query parameter 'filter' contains a NUL character (\\x00)."

    def test_a_filter_as_long_as_the_bound_is_accepted(self, idp, people, settings):
        filter_text = 'userName eq "ada@acme.com"'
        settings.SCIM_PROVISIONING_MAX_FILTER_LENGTH = len(filter_text)

        body = _filter(idp, "/Users", filter_text)

        assert _names(body["Resources"], people) == ["ada"]

    def test_a_filter_longer_than_the_bound_is_refused_saying_the_bound(
        self, idp, people, settings
    ):
        filter_text = 'userName eq "ada@acme.com"'
        settings.SCIM_PROVISIONING_MAX_FILTER_LENGTH = len(filter_text) - 1

        response = idp.get("/Users", {"filter": filter_text})

        body = assert_scim_error(response, 400, "invalidFilter")
        assert body["detail"] == f"The filter is longer than {len(filter_text) - 1} characters."

    @pytest.mark.parametrize(
        "filter_text",
        [
            # 30 parentheses around a comparison: 32 levels, the bound.
            "(" * 30 + 'userName sw "ada"' + ")" * 30,
            # 16 comparisons joined by "or": 32 levels too.
            " or ".join(['userName sw "ada"'] + ['userName sw "x"'] * 15),
            # 10 "or"s each nesting to the right, in parentheses: 32 levels.
            '(userName sw "x" or ' * 10 + 'userName sw "ada"' + ")" * 10,
        ],
    )
    def test_a_filter_nested_as_deep_as_the_bound_is_accepted(self, idp, people, filter_text):
        body = _filter(idp, "/Users", filter_text)

        assert _names(body["Resources"], people) == ["ada"]

    @pytest.mark.parametrize(
        "filter_text",
        [
            "(" * 31 + 'userName sw "ada"' + ")" * 31,
            " or ".join(['userName sw "ada"'] * 17),
        ],
    )
    def test_a_filter_nested_deeper_than_the_bound_is_refused(self, idp, people, filter_text):
        response = idp.get("/Users", {"filter": filter_text})

        body = assert_scim_error(response, 400, "invalidFilter")
        assert body["detail"] == "The filter is nested deeper than 32 levels."

    def test_a_filter_that_does_not_parse_says_so(self, idp, people):
        response = idp.get("/Users", {"filter": 'userName eq "ada" and'})

        body = assert_scim_error(response, 400, "invalidFilter")
        assert body["detail"].startswith("The filter could not be parsed: ")

    def test_an_unknown_attribute_named_with_its_schema_is_named_so(self, idp, people):
        response = idp.get("/Users", {"filter": f'{USER}:favouriteColour eq "blue"'})

        body = assert_scim_error(response, 400, "invalidFilter")
        assert body["detail"] == f"Filtering on '{USER}:favouriteColour' is not supported."


class TestGroupFilters:
    def test_members_value_eq(self, idp, people, groups):
        body = _filter(idp, "/Groups", f'members.value eq "{people["cy"]["id"]}"')

        assert _names(body["Resources"], groups) == ["engineering"]

    def test_members_value_path(self, idp, people, groups):
        body = _filter(idp, "/Groups", f'members[value eq "{people["bob"]["id"]}"]')

        assert _names(body["Resources"], groups) == ["fans"]

    def test_display_name_eq_is_case_insensitive(self, idp, groups):
        body = _filter(idp, "/Groups", 'displayName eq "ENGINEERING"')

        assert _names(body["Resources"], groups) == ["engineering"]

    @pytest.mark.parametrize(
        ("filter_text", "expected"),
        [
            ('displayName sw "love"', ["fans"]),
            ('displayName co "ee"', ["engineering"]),
            ('displayName ne "engineering"', ["fans"]),
            ("externalId pr", ["engineering"]),
            ('externalId eq "g-1"', []),
            ('not (displayName eq "Lovelace Fans") and members pr', ["engineering"]),
            ('meta.created gt "2000-01-01T00:00:00Z"', ["engineering", "fans"]),
        ],
    )
    def test_group_operators(self, idp, groups, filter_text, expected):
        body = _filter(idp, "/Groups", filter_text)

        assert _names(body["Resources"], groups) == expected

    def test_an_unknown_attribute_is_invalid_filter(self, idp, groups):
        response = idp.get("/Groups", {"filter": 'displayName eq "x" or userName eq "y"'})

        assert_scim_error(response, 400, "invalidFilter")


class TestSort:
    def test_sort_by_username_ascending(self, idp, people):
        body = idp.get("/Users", {"sortBy": "userName"}).json()

        assert _names(body["Resources"], people) == ["ada", "bob", "cy"]

    def test_sort_by_username_descending(self, idp, people):
        body = idp.get("/Users", {"sortBy": "userName", "sortOrder": "descending"}).json()

        assert _names(body["Resources"], people) == ["cy", "bob", "ada"]

    def test_sort_by_meta_created(self, idp, people):
        for name, year in (("ada", 2022), ("bob", 2020), ("cy", 2021)):
            SCIMUser.objects.filter(pk=people[name]["id"]).update(created=_at(year))

        ascending = idp.get("/Users", {"sortBy": "meta.created"}).json()
        descending = idp.get("/Users", {"sortBy": "meta.created", "sortOrder": "descending"}).json()

        assert _names(ascending["Resources"], people) == ["bob", "cy", "ada"]
        assert _names(descending["Resources"], people) == ["ada", "cy", "bob"]

    def test_resources_without_the_value_come_last_ascending_and_first_descending(
        self, idp, people
    ):
        # RFC 7644 §3.4.2.3: "if there is no data for the specified sortBy value,
        # they are sorted via the sortOrder parameter, i.e., they are ordered last if
        # ascending and first if descending". Ada alone has a title.
        ascending = idp.get("/Users", {"sortBy": "title"}).json()
        descending = idp.get("/Users", {"sortBy": "title", "sortOrder": "descending"}).json()

        assert _names(ascending["Resources"], people) == ["ada", "bob", "cy"]
        assert _names(descending["Resources"], people) == ["bob", "cy", "ada"]

    def test_descending_without_sort_by_lists_the_newest_first(self, idp, people):
        for name, year in (("ada", 2022), ("bob", 2020), ("cy", 2021)):
            SCIMUser.objects.filter(pk=people[name]["id"]).update(created=_at(year))

        body = idp.get("/Users", {"sortOrder": "descending"}).json()

        assert _names(body["Resources"], people) == ["ada", "cy", "bob"]

    def test_sort_groups_by_display_name_descending(self, idp, groups):
        body = idp.get("/Groups", {"sortBy": "displayName", "sortOrder": "descending"}).json()

        assert _names(body["Resources"], groups) == ["fans", "engineering"]

    @pytest.mark.parametrize(
        ("endpoint", "sort_by"),
        [
            ("/Users", "favouriteColour"),
            ("/Users", "groups"),
            ("/Users", "phoneNumbers.type"),
            ("/Groups", "members"),
            ("/Groups", "userName"),
            # Outside the attribute-path grammar (RFC 7644 §3.10): no attribute at all.
            ("/Users", "userName."),
            ("/Users", 'emails[type eq "work"].value'),
            # A schema URN alone names no attribute.
            ("/Users", USER),
        ],
    )
    def test_unsortable_attributes_are_invalid_value(self, idp, people, endpoint, sort_by):
        response = idp.get(endpoint, {"sortBy": sort_by})

        body = assert_scim_error(response, 400, "invalidValue")
        assert f"Sorting by '{sort_by}' is not supported" in body["detail"]

    @pytest.mark.parametrize(
        "sort_by",
        [
            "urn:ietf:params:scim:schemas:core:2.0:User:displayName",
            "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:displayName",
            "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
        ],
    )
    def test_a_path_with_the_core_urn_sorts_like_the_bare_one(self, idp, people, sort_by):
        # RFC 7644 §3.4.2.3: sortBy is an attribute path, which may carry its schema URN.
        for name, given in (("ada", "Zoe"), ("bob", "Ann"), ("cy", "Max")):
            idp.patch(
                f"/Users/{people[name]['id']}",
                patch_op({"op": "replace", "path": "name.givenName", "value": given}),
            )

        response = idp.get("/Users", {"sortBy": sort_by})

        assert response.status_code == 200, response.content
        expected = ["bob", "cy", "ada"] if "givenName" in sort_by else ["ada", "bob", "cy"]
        assert _names(response.json()["Resources"], people) == expected

    def test_an_enterprise_path_sorts_by_the_extension_attribute(self, idp, people):
        enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        for name, department in (("ada", "Sales"), ("bob", "Finance"), ("cy", "Research")):
            idp.patch(
                f"/Users/{people[name]['id']}",
                patch_op({"op": "add", "path": f"{enterprise}:department", "value": department}),
            )

        response = idp.get("/Users", {"sortBy": f"{enterprise}:department"})

        assert response.status_code == 200, response.content
        assert _names(response.json()["Resources"], people) == ["bob", "cy", "ada"]

    def test_a_bad_sort_order_is_invalid_value(self, idp, people):
        response = idp.get("/Users", {"sortBy": "userName", "sortOrder": "sideways"})

        assert_scim_error(response, 400, "invalidValue")


class TestSearch:
    def test_users_search_with_a_search_request(self, idp, people):
        response = idp.post(
            "/Users/.search",
            {
                "schemas": [SEARCH_REQUEST],
                "filter": 'userName ew "@acme.com"',
                "startIndex": 1,
                "count": 1,
                "attributes": ["userName", "displayName"],
                "sortBy": "userName",
                "sortOrder": "descending",
            },
        )

        assert response.status_code == 200
        assert response.json() == {
            "schemas": [LIST_RESPONSE],
            "totalResults": 2,
            "startIndex": 1,
            "itemsPerPage": 1,
            "Resources": [
                {
                    "schemas": [USER],
                    "id": people["cy"]["id"],
                    "userName": "cy@acme.com",
                    "displayName": "Cy",
                }
            ],
        }

    def test_groups_search(self, idp, people, groups):
        response = idp.post(
            "/Groups/.search",
            {
                "schemas": [SEARCH_REQUEST],
                "filter": f'members.value eq "{people["ada"]["id"]}"',
                "excludedAttributes": ["members"],
            },
        )

        assert response.status_code == 200
        body = response.json()
        assert body["schemas"] == [LIST_RESPONSE]
        assert body["totalResults"] == 1
        assert _names(body["Resources"], groups) == ["engineering"]
        assert "members" not in body["Resources"][0]

    def test_a_bad_search_filter_is_invalid_filter(self, idp, people):
        response = idp.post("/Users/.search", {"filter": 'userName eq "x" or nope eq "y"'})

        assert_scim_error(response, 400, "invalidFilter")

    @pytest.mark.parametrize("endpoint", ["/Users/.search", "/Groups/.search", "/.search"])
    def test_a_search_body_that_is_not_an_object_is_refused_saying_so(self, idp, endpoint):
        response = idp.post(endpoint, [{"filter": 'userName eq "ada"'}])

        body = assert_scim_error(response, 400, "invalidSyntax")
        assert body["detail"] == "The search body must be a JSON object."


class TestRootSearch:
    def test_returns_users_then_groups(self, idp, people, groups):
        response = idp.post("/.search", {"schemas": [SEARCH_REQUEST]})

        assert response.status_code == 200
        body = response.json()
        assert body["totalResults"] == 5
        assert body["itemsPerPage"] == 5
        assert [r["meta"]["resourceType"] for r in body["Resources"]] == ["User"] * 3 + [
            "Group"
        ] * 2
        assert _names(body["Resources"], {**people, **groups}) == [
            "ada",
            "bob",
            "cy",
            "engineering",
            "fans",
        ]

    def test_pages_across_the_boundary_between_types(self, idp, people, groups):
        body = idp.post("/.search", {"startIndex": 3, "count": 2}).json()

        assert body["totalResults"] == 5
        assert body["startIndex"] == 3
        assert body["itemsPerPage"] == 2
        assert _names(body["Resources"], {**people, **groups}) == ["cy", "engineering"]

    def test_a_page_of_groups_only(self, idp, people, groups):
        body = idp.post("/.search", {"startIndex": 5, "count": 10}).json()

        assert body["totalResults"] == 5
        assert _names(body["Resources"], {**people, **groups}) == ["fans"]

    def test_a_display_name_filter_matches_users_and_groups(self, idp, people, groups):
        body = idp.post("/.search", {"filter": 'displayName co "LOVELACE"'}).json()

        assert body["totalResults"] == 2
        assert _names(body["Resources"], {**people, **groups}) == ["ada", "fans"]

    def test_a_username_filter_skips_groups(self, idp, people, groups):
        body = idp.post("/.search", {"filter": 'userName sw "a"'}).json()

        assert body["totalResults"] == 1
        assert _names(body["Resources"], people) == ["ada"]

    @pytest.mark.parametrize(
        "filter_text", ['favouriteColour eq "blue"', 'userName eq "x" and members pr', "(("]
    )
    def test_a_filter_no_type_knows_is_invalid_filter(self, idp, people, groups, filter_text):
        response = idp.post("/.search", {"filter": filter_text})

        assert_scim_error(response, 400, "invalidFilter")

    def test_attributes_apply_to_each_type(self, idp, people, groups):
        body = idp.post("/.search", {"attributes": ["displayName"], "count": 10}).json()

        assert all(set(r) == {"schemas", "id", "displayName"} for r in body["Resources"])
        assert [r["displayName"] for r in body["Resources"]] == [
            "Ada Lovelace",
            "Bob Builder",
            "Cy",
            "Engineering",
            "Lovelace Fans",
        ]

    def test_sorted_by_what_only_users_have_users_are_sorted_and_groups_follow(
        self, idp, people, groups
    ):
        # A sortBy that one type cannot sort on leaves that type as a request without
        # one orders it: by creation, the newest first when descending.
        response = idp.post("/.search", {"sortBy": "userName", "sortOrder": "descending"})

        assert response.status_code == 200, response.content
        assert _names(response.json()["Resources"], {**people, **groups}) == [
            "cy",
            "bob",
            "ada",
            "fans",
            "engineering",
        ]

    def test_a_page_filled_by_users_leaves_the_groups_out_but_counts_them(
        self, idp, people, groups
    ):
        response = idp.post("/.search", {"count": 2})

        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["totalResults"], body["itemsPerPage"]) == (5, 2)
        assert _names(body["Resources"], people) == ["ada", "bob"]
        ada = body["Resources"][0]
        assert ada["meta"]["location"] == f"http://testserver/scim/v2/Users/{ada['id']}"

    def test_a_page_takes_from_the_groups_only_the_room_the_users_left(self, idp, people, groups):
        body = idp.post("/.search", {"count": 4}).json()

        assert _names(body["Resources"], {**people, **groups}) == [
            "ada",
            "bob",
            "cy",
            "engineering",
        ]

    def test_a_filter_only_groups_know_skips_the_users(self, idp, people, groups):
        text = f'members.value eq "{people["bob"]["id"]}"'

        response = idp.post("/.search", {"filter": text})

        assert response.status_code == 200, response.content
        assert _names(response.json()["Resources"], groups) == ["fans"]

    def test_a_sort_no_type_supports_is_invalid_value(self, idp, people, groups):
        response = idp.post("/.search", {"sortBy": "favouriteColour"})

        body = assert_scim_error(response, 400, "invalidValue")
        assert body["detail"] == "Sorting by 'favouriteColour' is not supported."

    def test_a_filter_naming_the_attribute_with_its_schema_urn(self, idp, people, groups):
        text = f'{USER}:userName eq "ada@acme.com"'

        response = idp.post("/.search", {"filter": text})

        assert response.status_code == 200, response.content
        assert _names(response.json()["Resources"], people) == ["ada"]


class TestRootQuery:
    """``GET /scim/v2/?filter=…`` (RFC 7644 §3.4.2.1): what ``POST /.search`` does, by GET."""

    def test_returns_users_then_groups(self, idp, people, groups):
        response = idp.get("/")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/scim+json")
        body = response.json()
        assert body["schemas"] == [LIST_RESPONSE]
        assert body["totalResults"] == 5
        assert [r["meta"]["resourceType"] for r in body["Resources"]] == ["User"] * 3 + [
            "Group"
        ] * 2

    def test_a_filter_applies_to_every_type(self, idp, people, groups):
        body = idp.get("/", {"filter": 'displayName co "LOVELACE"'}).json()

        assert body["totalResults"] == 2
        assert _names(body["Resources"], {**people, **groups}) == ["ada", "fans"]

    def test_pages_across_the_boundary_between_types(self, idp, people, groups):
        body = idp.get("/", {"startIndex": "3", "count": "2"}).json()

        assert (body["totalResults"], body["startIndex"], body["itemsPerPage"]) == (5, 3, 2)
        assert _names(body["Resources"], {**people, **groups}) == ["cy", "engineering"]

    def test_attributes_apply_to_each_type(self, idp, people, groups):
        body = idp.get("/", {"attributes": "displayName", "filter": 'displayName sw "a"'}).json()

        assert body["Resources"] == [
            {"schemas": [r["schemas"][0]], "id": r["id"], "displayName": r["displayName"]}
            for r in body["Resources"]
        ]
        assert [r["displayName"] for r in body["Resources"]] == ["Ada Lovelace"]

    @pytest.mark.parametrize("filter_text", ['favouriteColour eq "blue"', "(("])
    def test_a_filter_no_type_knows_is_invalid_filter(self, idp, people, groups, filter_text):
        response = idp.get("/", {"filter": filter_text})

        assert_scim_error(response, 400, "invalidFilter")

    def test_another_teams_token_sees_none_of_team_a(self, other_idp, people, groups):
        response = other_idp.get("/", {"filter": 'displayName co "lovelace"'})

        assert response.status_code == 200
        assert response.json()["totalResults"] == 0 and response.json()["Resources"] == []

    def test_without_a_token_it_is_a_401(self, people):
        assert_scim_error(IdPClient(None).get("/"), 401)


class TestSearchTenantIsolation:
    @pytest.mark.parametrize(
        ("endpoint", "filter_text"),
        [
            ("/.search", None),
            ("/.search", 'displayName co "lovelace"'),
            ("/Users/.search", None),
            ("/Users/.search", 'userName eq "ada@acme.com"'),
            ("/Groups/.search", None),
            ("/Groups/.search", 'displayName eq "Engineering"'),
        ],
    )
    def test_other_teams_token_sees_none_of_team_a(
        self, other_idp, people, groups, endpoint, filter_text
    ):
        body = {"schemas": [SEARCH_REQUEST]}
        if filter_text:
            body["filter"] = filter_text

        response = other_idp.post(endpoint, body)

        assert response.status_code == 200
        assert response.json()["totalResults"] == 0
        assert response.json()["Resources"] == []
        assert SCIMGroup.objects.count() == 2

    def test_other_teams_search_by_member_id_finds_nothing(self, other_idp, people, groups):
        response = other_idp.post(
            "/Groups/.search", {"filter": f'members.value eq "{people["ada"]["id"]}"'}
        )

        assert response.status_code == 200
        assert response.json()["totalResults"] == 0

    def test_other_teams_search_sees_its_own_only(self, other_idp, provision, people, groups):
        grace = provision("grace@globex.com", client=other_idp)

        body = other_idp.post("/.search", {"schemas": [SEARCH_REQUEST]}).json()

        assert body["totalResults"] == 1
        assert [r["id"] for r in body["Resources"]] == [grace["id"]]


class TestExactEquality:
    """The lookups IdPs send before each write run as SQL compiled once (listing's fast path).

    ``exact_equality`` says which filters are one exact comparison; anything else must
    be ``None`` so that the ORM builds it (a wrong ``Equality`` would select other
    records). Each case is what the list's fast path receives for the filter.
    """

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('userName eq "Ada@Acme.com"', ("user_name_ci", "ada@acme.com")),
            ('userName EQ "ada@acme.com"', ("user_name_ci", "ada@acme.com")),
            ('(userName eq "ada@acme.com")', ("user_name_ci", "ada@acme.com")),
            (
                'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "Ada@acme.com"',
                ("user_name_ci", "ada@acme.com"),
            ),
            ('externalId eq "Ext-1"', ("external_id", "Ext-1")),
            ('not (userName eq "ada@acme.com")', None),
            ('userName ne "ada@acme.com"', None),
            ("userName pr", None),
            ('emails[value eq "ada@acme.com"]', None),
            ('userName eq "ada@acme.com" and externalId eq "Ext-1"', None),
            ("active eq true", None),
            ('name.givenName eq "Ada"', None),
        ],
    )
    def test_one_exact_comparison_and_nothing_else(self, text, expected):
        from scim_provisioning.filters import Equality, exact_equality
        from scim_provisioning.resource_types import USERS

        found = exact_equality(text, USERS.filters, USERS.schema_urns)

        assert found == (Equality(*expected) if expected else None)

    def test_a_group_display_name_is_compared_folded(self):
        from scim_provisioning.filters import Equality, exact_equality
        from scim_provisioning.resource_types import GROUPS

        found = exact_equality('displayName eq "Acme Admins"', GROUPS.filters, GROUPS.schema_urns)

        assert found == Equality("display_name_ci", "acme admins")

    def test_a_negated_lookup_lists_everyone_else(self, idp, provision):
        provision("ada@acme.com")
        provision("bob@acme.com")

        response = idp.get("/Users", {"filter": 'not (userName eq "ada@acme.com")'})

        assert response.status_code == 200, response.content
        assert [r["userName"] for r in response.json()["Resources"]] == ["bob@acme.com"]
