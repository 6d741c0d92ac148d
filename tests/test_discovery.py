"""``/ServiceProviderConfig``, ``/ResourceTypes`` and ``/Schemas`` (RFC 7643 §5-7, RFC 7644 §4)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.test import override_settings

from .conftest import assert_scim_error

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
#: The example site declares its own User extension (SCIM_PROVISIONING_USER_EXTENSION).
SITE_EXTENSION = "urn:ietf:params:scim:schemas:extension:example:2.0:User"
SCIM_JSON = "application/scim+json"
BASE = "https://sso.example.com/scim/v2"

USER_ATTRIBUTES = [
    "userName",
    "name",
    "displayName",
    "nickName",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
    "active",
    "password",
    "emails",
    "phoneNumbers",
    "roles",
    "groups",
]
NAME_SUB_ATTRIBUTES = {
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
}


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0].strip() == SCIM_JSON
    return response.json()


def is_absolute(url: str) -> bool:
    parts = urlparse(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def by_name(attributes: list[dict]) -> dict[str, dict]:
    return {a["name"]: a for a in attributes}


@pytest.fixture
def user_schema(idp) -> dict:
    return ok(idp.get(f"/Schemas/{USER}"))


# --- ServiceProviderConfig ---------------------------------------------------


def test_spc_schema(idp):
    assert ok(idp.get("/ServiceProviderConfig"))["schemas"] == [SPC_SCHEMA]


def test_spc_patch_supported(idp):
    assert ok(idp.get("/ServiceProviderConfig"))["patch"]["supported"] is True


def test_spc_bulk_supported(idp):
    assert ok(idp.get("/ServiceProviderConfig"))["bulk"]["supported"] is True


@override_settings(SCIM_PROVISIONING_MAX_PAGE_SIZE=250)
def test_spc_filter_max_results_is_the_max_page_size(idp):
    spc_filter = ok(idp.get("/ServiceProviderConfig"))["filter"]

    assert spc_filter["supported"] is True
    assert spc_filter["maxResults"] == 250


def test_spc_etag_supported(idp):
    assert ok(idp.get("/ServiceProviderConfig"))["etag"]["supported"] is True


def test_spc_sort_and_change_password_are_declared(idp):
    body = ok(idp.get("/ServiceProviderConfig"))

    assert body["sort"]["supported"] is True
    assert body["changePassword"]["supported"] is False


def test_spc_authentication_scheme_is_oauth_bearer_token(idp):
    schemes = ok(idp.get("/ServiceProviderConfig"))["authenticationSchemes"]

    assert schemes[0]["type"] == "oauthbearertoken"
    assert schemes[0]["name"]
    assert schemes[0]["description"]


def test_spc_meta_location_is_absolute(idp):
    meta = ok(idp.get("/ServiceProviderConfig"))["meta"]

    assert meta["resourceType"] == "ServiceProviderConfig"
    assert is_absolute(meta["location"])
    assert meta["location"] == "http://testserver/scim/v2/ServiceProviderConfig"


def test_spc_with_trailing_slash(idp):
    assert ok(idp.get("/ServiceProviderConfig/"))["schemas"] == [SPC_SCHEMA]


# --- ResourceTypes -----------------------------------------------------------


def test_resource_types_is_a_list_response(idp):
    body = ok(idp.get("/ResourceTypes"))

    assert body["schemas"] == [LIST_RESPONSE]
    assert type(body["totalResults"]) is int
    assert body["totalResults"] == len(body["Resources"]) == 2
    assert body["startIndex"] == 1
    assert body["itemsPerPage"] == 2


def test_resource_types_lists_the_user_type(idp):
    user, _ = ok(idp.get("/ResourceTypes"))["Resources"]

    assert user["schemas"] == [RESOURCE_TYPE_SCHEMA]
    assert user["id"] == "User"
    assert user["name"] == "User"
    assert user["endpoint"] == "/Users"
    assert user["schema"] == USER
    assert user["schemaExtensions"] == [
        {"schema": ENTERPRISE, "required": False},
        {"schema": SITE_EXTENSION, "required": False},
    ]
    assert is_absolute(user["meta"]["location"])
    assert user["meta"]["location"].endswith("/ResourceTypes/User")


def test_resource_type_by_id(idp):
    user = ok(idp.get("/ResourceTypes/User"))

    assert user["id"] == "User"
    assert user["endpoint"] == "/Users"
    assert user["schema"] == USER
    assert user["schemaExtensions"] == [
        {"schema": ENTERPRISE, "required": False},
        {"schema": SITE_EXTENSION, "required": False},  # the example site's own
    ]
    assert user == ok(idp.get("/ResourceTypes"))["Resources"][0]


def test_resource_types_lists_the_group_type(idp):
    _, group = ok(idp.get("/ResourceTypes"))["Resources"]

    assert group["id"] == group["name"] == "Group"
    assert group["endpoint"] == "/Groups"
    assert group["schema"] == GROUP
    assert group["schemaExtensions"] == []
    assert group == ok(idp.get("/ResourceTypes/Group"))


@pytest.mark.parametrize("name", ["Groups", "Nope"])
def test_unknown_resource_type_is_404(idp, name):
    assert_scim_error(idp.get(f"/ResourceTypes/{name}"), 404)


# --- Schemas -----------------------------------------------------------------


def test_schemas_lists_exactly_user_enterprise_user_the_sites_own_and_group(idp):
    body = ok(idp.get("/Schemas"))

    assert body["schemas"] == [LIST_RESPONSE]
    assert type(body["totalResults"]) is int
    assert body["totalResults"] == 4
    assert sorted(s["id"] for s in body["Resources"]) == sorted(
        [USER, ENTERPRISE, SITE_EXTENSION, GROUP]
    )
    for schema in body["Resources"]:
        assert schema["schemas"] == [SCHEMA_SCHEMA]
        assert is_absolute(schema["meta"]["location"])


@pytest.mark.parametrize(
    ("urn", "name"), [(USER, "User"), (ENTERPRISE, "EnterpriseUser"), (GROUP, "Group")]
)
def test_schema_by_id(idp, urn, name):
    schema = ok(idp.get(f"/Schemas/{urn}"))

    assert schema["id"] == urn
    assert schema["name"] == name
    assert schema["meta"]["resourceType"] == "Schema"
    assert schema["meta"]["location"] == f"http://testserver/scim/v2/Schemas/{urn}"
    listed = {s["id"]: s for s in ok(idp.get("/Schemas"))["Resources"]}
    assert schema == listed[urn]


@pytest.mark.parametrize(
    "urn",
    [
        "urn:ietf:params:scim:schemas:core:2.0:Groups",
        "urn:example:nope",
        "User",
    ],
)
def test_unknown_schema_is_404(idp, urn):
    assert_scim_error(idp.get(f"/Schemas/{urn}"), 404)


def test_user_schema_publishes_exactly_the_supported_attributes(user_schema):
    assert [a["name"] for a in user_schema["attributes"]] == USER_ATTRIBUTES


def test_user_schema_name_has_its_six_sub_attributes(user_schema):
    name = by_name(user_schema["attributes"])["name"]

    assert name["type"] == "complex"
    assert {a["name"] for a in name["subAttributes"]} == NAME_SUB_ATTRIBUTES
    assert len(name["subAttributes"]) == 6


def test_user_schema_user_name_is_required_and_unique(user_schema):
    user_name = by_name(user_schema["attributes"])["userName"]

    assert user_name["required"] is True
    assert user_name["uniqueness"] == "server"


def test_user_schema_password_is_write_only_and_never_returned(user_schema):
    password = by_name(user_schema["attributes"])["password"]

    assert password["mutability"] == "writeOnly"
    assert password["returned"] == "never"


def test_user_schema_groups_is_read_only(user_schema):
    groups = by_name(user_schema["attributes"])["groups"]

    assert groups["mutability"] == "readOnly"
    assert groups["multiValued"] is True


def test_user_schema_active_is_boolean(user_schema):
    assert by_name(user_schema["attributes"])["active"]["type"] == "boolean"


def test_user_schema_emails_sub_attributes_have_no_display(user_schema):
    emails = by_name(user_schema["attributes"])["emails"]
    names = {a["name"] for a in emails["subAttributes"]}

    assert emails["multiValued"] is True
    assert "display" not in names
    assert {"value", "type", "primary"} <= names


def test_user_schema_phone_numbers_are_multi_valued(user_schema):
    phones = by_name(user_schema["attributes"])["phoneNumbers"]

    assert phones["multiValued"] is True
    assert "display" not in {a["name"] for a in phones["subAttributes"]}


def test_enterprise_schema_publishes_its_attributes(idp):
    schema = ok(idp.get(f"/Schemas/{ENTERPRISE}"))

    assert {a["name"] for a in schema["attributes"]} == {
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    }


# --- base URL ----------------------------------------------------------------


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE)
def test_base_url_setting_is_used_in_spc_location(idp):
    meta = ok(idp.get("/ServiceProviderConfig"))["meta"]

    assert meta["location"] == f"{BASE}/ServiceProviderConfig"


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE)
def test_base_url_setting_is_used_in_resource_type_location(idp):
    user, _ = ok(idp.get("/ResourceTypes"))["Resources"]

    assert user["meta"]["location"] == f"{BASE}/ResourceTypes/User"
    assert ok(idp.get("/ResourceTypes/User"))["meta"]["location"] == f"{BASE}/ResourceTypes/User"


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE)
def test_base_url_setting_is_used_in_schema_location(idp):
    locations = {s["id"]: s["meta"]["location"] for s in ok(idp.get("/Schemas"))["Resources"]}

    assert locations == {
        urn: f"{BASE}/Schemas/{urn}" for urn in (USER, ENTERPRISE, SITE_EXTENSION, GROUP)
    }


@override_settings(SCIM_PROVISIONING_BASE_URL=BASE + "/")
def test_base_url_setting_trailing_slash_is_ignored(idp):
    meta = ok(idp.get("/ServiceProviderConfig"))["meta"]

    assert meta["location"] == f"{BASE}/ServiceProviderConfig"
