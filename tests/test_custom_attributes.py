"""The host's own User attributes (``SCIM_PROVISIONING_USER_EXTENSION``), as IdPs send them.

The example site declares ``costCode`` (a string, onto ``User.cost_code``) and
``startDate`` (a dateTime, onto the ``User.start_date`` date) under
``urn:ietf:params:scim:schemas:extension:example:2.0:User``. Okta and Entra
send such attributes as an object under the URN in POST and PUT; Entra names
them ``urn:…:User:costCode`` in PATCH paths and no-path keys; some mappings
name them without their URN. Each test checks the status, the body and the
database: the SCIM record, the typed rows filters run on, and the account.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core import checks

from scim_provisioning.checks import check_user_extension
from scim_provisioning.models import SCIMUser, SCIMUserValue

from .adapters import TeamRecordingAdapter
from .conftest import assert_scim_error, load_payload, patch_op
from .example_factories import MembershipFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
URN = "urn:ietf:params:scim:schemas:extension:example:2.0:User"
PAYLOADS = "custom_extension"


def _payload(name: str) -> dict:
    return load_payload(f"{PAYLOADS}/{name}.json")


def _rows(record_id: str) -> dict[str, object]:
    rows = SCIMUserValue.objects.filter(user_id=record_id).exclude(attribute="emails")
    return {r.attribute: r.value or r.number or r.moment for r in rows}


@pytest.fixture
def okta_user(idp) -> dict:
    response = idp.post("/Users", _payload("okta_create_user"))
    assert response.status_code == 201, response.content
    return response.json()


# -- discovery -----------------------------------------------------------------------------


def test_schemas_publish_the_extension_with_its_attributes(idp):
    response = idp.get(f"/Schemas/{URN}")

    assert response.status_code == 200
    attributes = {a["name"]: a for a in response.json()["attributes"]}
    assert attributes["costCode"]["type"] == "string"
    assert attributes["costCode"]["caseExact"] is False
    assert attributes["startDate"]["type"] == "dateTime"
    assert attributes["startDate"]["multiValued"] is False
    assert URN in [s["id"] for s in idp.get("/Schemas").json()["Resources"]]


def test_user_resource_type_lists_the_extension(idp):
    response = idp.get("/ResourceTypes/User")

    assert {"schema": URN, "required": False} in response.json()["schemaExtensions"]


def test_without_the_setting_nothing_is_published_or_stored(idp, settings):
    settings.SCIM_PROVISIONING_USER_EXTENSION = None

    created = idp.post("/Users", _payload("okta_create_user"))

    assert idp.get(f"/Schemas/{URN}").status_code == 404
    assert created.status_code == 201
    assert URN not in created.json()
    assert URN not in SCIMUser.objects.get().attributes
    assert not SCIMUserValue.objects.exclude(attribute="emails").exists()


def test_without_the_setting_an_update_is_applied(idp, provision, settings):
    settings.SCIM_PROVISIONING_USER_EXTENSION = None
    ada = provision("ada@acme.com")

    response = idp.patch(
        f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "displayName", "value": "Ada"})
    )

    assert response.status_code == 200, response.content
    assert response.json()["displayName"] == "Ada"
    assert URN not in response.json()
    assert SCIMUser.objects.get(pk=ada["id"]).attributes["displayName"] == "Ada"


def test_an_update_leaving_the_values_as_they_were_is_not_handed_to_the_adapter(
    idp, okta_user, team, settings
):
    # provisioning/extension.py: such a write costs no query and no adapter call.
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.TeamRecordingAdapter"
    TeamRecordingAdapter.calls = []

    unchanged = idp.patch(
        f"/Users/{okta_user['id']}",
        patch_op({"op": "replace", "path": "displayName", "value": "Test U."}),
    )
    changed = idp.patch(
        f"/Users/{okta_user['id']}",
        patch_op({"op": "replace", "path": f"{URN}:costCode", "value": "CC-1"}),
    )

    assert (unchanged.status_code, changed.status_code) == (200, 200)
    handed = [call for call in TeamRecordingAdapter.calls if call[0] == "set_custom_attributes"]
    assert handed == [
        (
            "set_custom_attributes",
            team.pk,
            {"costCode": "CC-1", "startDate": okta_user[URN]["startDate"]},
        )
    ]
    assert _rows(okta_user["id"])["costcode"] == "cc-1"


def test_values_of_an_extension_no_longer_declared_are_not_returned(idp, okta_user, settings):
    settings.SCIM_PROVISIONING_USER_EXTENSION = None

    response = idp.get(f"/Users/{okta_user['id']}")

    assert URN not in response.json()
    assert response.json()["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    assert SCIMUser.objects.get(pk=okta_user["id"]).attributes[URN]["costCode"] == "CC-4711"


# -- writes --------------------------------------------------------------------------------


def test_okta_create_stores_returns_and_hands_off_the_values(okta_user):
    assert okta_user[URN] == {"costCode": "CC-4711", "startDate": "2026-03-01T00:00:00Z"}
    assert URN in okta_user["schemas"]
    record = SCIMUser.objects.get(pk=okta_user["id"])
    assert record.attributes[URN]["costCode"] == "CC-4711"
    assert _rows(okta_user["id"])["costcode"] == "cc-4711"  # not caseExact: folded
    account = User.objects.get(email="test.user@okta.local")
    assert account.cost_code == "CC-4711"
    assert account.start_date == date(2026, 3, 1)


def test_okta_put_replaces_the_values(idp, okta_user):
    response = idp.put(f"/Users/{okta_user['id']}", _payload("okta_put_user"))

    assert response.status_code == 200
    assert response.json()[URN]["costCode"] == "CC-0815"
    assert _rows(okta_user["id"])["costcode"] == "cc-0815"
    account = User.objects.get(email="test.user@okta.local")
    assert (account.cost_code, account.start_date) == ("CC-0815", date(2026, 4, 15))


def test_entra_patch_with_flattened_urn_paths(idp):
    created = idp.post("/Users", _payload("entra_create_user")).json()

    response = idp.patch(f"/Users/{created['id']}", _payload("entra_patch_flattened"))

    assert response.status_code == 200
    assert response.json()[URN] == {"costCode": "FIN-02", "startDate": "2026-05-04T00:00:00Z"}
    assert response.json()["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] == {
        "department": "Finance"
    }
    account = SCIMUser.objects.get(pk=created["id"]).user
    assert (account.cost_code, account.start_date) == ("FIN-02", date(2026, 5, 4))


def test_entra_no_path_patch_with_an_urn_prefixed_key(idp):
    created = idp.post("/Users", _payload("entra_create_user")).json()

    response = idp.patch(f"/Users/{created['id']}", _payload("entra_patch_nopath_flattened"))

    assert response.status_code == 200
    assert response.json()[URN]["costCode"] == "FIN-03"
    assert SCIMUser.objects.get(pk=created["id"]).user.cost_code == "FIN-03"


def test_patch_without_the_urn_prefix(idp, okta_user):
    response = idp.patch(f"/Users/{okta_user['id']}", _payload("patch_without_urn"))

    assert response.status_code == 200
    assert response.json()[URN] == {"costCode": "OPS-7"}
    assert set(_rows(okta_user["id"])) == {"costcode"}
    account = User.objects.get(email="test.user@okta.local")
    assert (account.cost_code, account.start_date) == ("OPS-7", None)


@pytest.mark.parametrize(
    "value", ["next monday", "2026-13-01", 20260301, True], ids=["words", "month", "int", "bool"]
)
def test_an_invalid_date_is_400_and_changes_nothing(idp, okta_user, value):
    response = idp.patch(
        f"/Users/{okta_user['id']}",
        patch_op({"op": "replace", "path": f"{URN}:startDate", "value": value}),
    )

    assert_scim_error(response, 400, "invalidValue")
    assert SCIMUser.objects.get(pk=okta_user["id"]).attributes[URN]["startDate"] == (
        "2026-03-01T00:00:00Z"
    )
    assert User.objects.get(email="test.user@okta.local").start_date == date(2026, 3, 1)


def test_an_invalid_value_in_a_post_is_400_and_creates_nothing(idp):
    body = _payload("okta_create_user")
    body[URN]["costCode"] = {"nested": "object"}

    response = idp.post("/Users", body)

    assert_scim_error(response, 400, "invalidValue")
    assert not SCIMUser.objects.exists()
    assert not User.objects.filter(email="test.user@okta.local").exists()


def test_a_new_account_takes_the_values_without_asking_whether_the_team_manages_it(idp, settings):
    # The account this team's SCIM has just created is the team's own (DESIGN
    # promise 6): the host's is_managed_by_team is for accounts created earlier.
    settings.SCIM_PROVISIONING_ADAPTER = "tests.adapters.NeverManagedAdapter"

    response = idp.post("/Users", _payload("okta_create_user"))

    assert response.status_code == 201, response.content
    account = User.objects.get(email="test.user@okta.local")
    assert (account.cost_code, account.start_date) == ("CC-4711", date(2026, 3, 1))


def test_an_account_another_team_shares_keeps_its_fields_when_a_value_changes(
    idp, okta_user, other_team
):
    # Created by this team's SCIM, then a member of another team as well: no
    # longer this team's alone (DESIGN promise 6), so its fields are left alone.
    account = User.objects.get(email="test.user@okta.local")
    MembershipFactory(team=other_team, user=account)

    response = idp.patch(
        f"/Users/{okta_user['id']}",
        patch_op({"op": "replace", "path": f"{URN}:costCode", "value": "CC-1"}),
    )

    assert response.status_code == 200, response.content
    assert response.json()[URN]["costCode"] == "CC-1"
    assert _rows(okta_user["id"])["costcode"] == "cc-1"
    account.refresh_from_db()
    assert account.cost_code == "CC-4711"


def test_a_linked_account_of_its_own_is_not_changed(idp):
    User.objects.create_user(email="test.user@okta.local", cost_code="MINE")

    response = idp.post("/Users", _payload("okta_create_user"))

    assert response.status_code == 201
    assert response.json()[URN]["costCode"] == "CC-4711"
    assert User.objects.get(email="test.user@okta.local").cost_code == "MINE"


# -- reads ---------------------------------------------------------------------------------


def test_filter_by_the_attribute_with_its_urn(idp, okta_user, provision):
    provision("bob@acme.com", **{URN: {"costCode": "OTHER"}})

    response = idp.get("/Users", {"filter": f'{URN}:costCode eq "cc-4711"'})

    assert [r["id"] for r in response.json()["Resources"]] == [okta_user["id"]]


def test_filter_by_a_date_range(idp, okta_user, provision):
    provision("bob@acme.com", **{URN: {"startDate": "2025-01-01"}})

    response = idp.get("/Users", {"filter": f'{URN}:startDate ge "2026-01-01T00:00:00Z"'})

    assert [r["id"] for r in response.json()["Resources"]] == [okta_user["id"]]


def test_sort_by_the_attribute(idp, okta_user, provision):
    early = provision("bob@acme.com", **{URN: {"startDate": "2025-01-01"}})
    eve = provision("eve@acme.com")

    descending = idp.get("/Users", {"sortBy": f"{URN}:startDate", "sortOrder": "descending"})
    ascending = idp.get("/Users", {"sortBy": f"{URN}:startDate"})

    # RFC 7644 §3.4.2.3: a user without one comes first descending, last ascending.
    assert [r["id"] for r in descending.json()["Resources"]] == [
        eve["id"],
        okta_user["id"],
        early["id"],
    ]
    assert [r["id"] for r in ascending.json()["Resources"]] == [
        early["id"],
        okta_user["id"],
        eve["id"],
    ]


def test_another_teams_filter_never_sees_these_values(okta_user, other_idp):
    response = other_idp.get("/Users", {"filter": f'{URN}:costCode eq "CC-4711"'})

    assert response.status_code == 200
    assert response.json()["totalResults"] == 0


def test_attributes_projects_the_extension_attribute(idp, okta_user):
    response = idp.get(f"/Users/{okta_user['id']}", {"attributes": f"{URN}:costCode"})

    assert response.json()[URN] == {"costCode": "CC-4711"}
    assert "userName" not in response.json()


def test_excluded_attributes_drops_the_extension(idp, okta_user):
    response = idp.get(f"/Users/{okta_user['id']}", {"excludedAttributes": URN})

    assert URN not in response.json()
    assert response.json()["userName"] == "test.user@okta.local"


# -- system checks -------------------------------------------------------------------------

GOOD = {"urn": URN, "attributes": [{"name": "costCode", "field": "cost_code"}]}


@pytest.mark.parametrize(
    ("declared", "said"),
    [
        ({**GOOD, "urn": "urn:acme:User"}, "no User extension URN"),
        ({"urn": URN, "attributes": [{"name": "x", "type": "money"}]}, "the type 'money'"),
        ({"urn": URN, "attributes": [{"name": "x"}, {"name": "X"}]}, "declares 'X' twice"),
        ({"urn": URN, "attributes": [{"name": "department"}]}, "already a User or enterprise"),
        ({"urn": URN, "attributes": [{"name": "x", "field": "nope"}]}, "no field of"),
        ({"urn": URN, "attributes": []}, "declares no attributes"),
    ],
    ids=["urn", "type", "twice", "clash", "field", "empty"],
)
def test_e006_says_what_is_wrong(settings, declared, said):
    settings.SCIM_PROVISIONING_USER_EXTENSION = declared

    errors = check_user_extension()

    assert [e.id for e in errors] == ["scim_provisioning.E006"]
    assert said in errors[0].msg
    assert errors[0].hint
    assert isinstance(errors[0], checks.Error)


def test_e006_accepts_the_example_site():
    assert check_user_extension() == []


# -- every declared type -------------------------------------------------------------------

TYPED = "urn:ietf:params:scim:schemas:extension:typed:2.0:User"


@pytest.fixture
def typed(settings):
    """An extension of every type the setting offers, none mapped to a field."""
    settings.SCIM_PROVISIONING_USER_EXTENSION = {
        "urn": TYPED,
        "attributes": [
            {"name": "level", "type": "integer"},
            {"name": "ratio", "type": "decimal"},
            {"name": "remote", "type": "boolean"},
            {"name": "homepage", "type": "reference"},
            {"name": "badges", "type": "string", "multiValued": True, "caseExact": True},
        ],
    }


def _typed_user(provision, user_name: str, **values) -> dict:
    return provision(user_name, **{TYPED: values})


def test_typed_values_are_read_as_their_types(typed, provision):
    created = _typed_user(
        provision, "ada@acme.com", level="7", ratio=0.5, remote="True", badges="A1"
    )

    assert created[TYPED] == {"level": 7, "ratio": 0.5, "remote": True, "badges": ["A1"]}


@pytest.mark.parametrize(
    ("name", "value"),
    [("level", "seven"), ("level", 1.5), ("ratio", "half"), ("remote", "maybe")],
)
def test_a_value_not_of_its_type_is_400(typed, idp, name, value):
    body = {"userName": "ada@acme.com", "emails": [{"value": "ada@acme.com"}], TYPED: {name: value}}

    response = idp.post("/Users", body)

    assert_scim_error(response, 400, "invalidValue")
    assert not SCIMUser.objects.exists()


def test_numbers_compare_as_numbers(typed, idp, provision):
    _typed_user(provision, "ada@acme.com", level=10)
    _typed_user(provision, "bob@acme.com", level=9)

    response = idp.get("/Users", {"filter": f"{TYPED}:level gt 9"})

    assert [r["userName"] for r in response.json()["Resources"]] == ["ada@acme.com"]


def test_a_case_exact_multi_valued_attribute_matches_any_value_exactly(typed, idp, provision):
    _typed_user(provision, "ada@acme.com", badges=["A1", "B2"])
    _typed_user(provision, "bob@acme.com", badges=["b2"])

    response = idp.get("/Users", {"filter": f'{TYPED}:badges eq "B2"'})

    assert [r["userName"] for r in response.json()["Resources"]] == ["ada@acme.com"]


def test_a_boolean_filter(typed, idp, provision):
    _typed_user(provision, "ada@acme.com", remote=True)
    _typed_user(provision, "bob@acme.com", remote=False)

    response = idp.get("/Users", {"filter": f"{TYPED}:remote eq true"})

    assert [r["userName"] for r in response.json()["Resources"]] == ["ada@acme.com"]


@pytest.mark.parametrize(
    ("comparison", "expected"),
    [
        ("level eq 10", ["ada@acme.com"]),
        ("level eq 10.0", ["ada@acme.com"]),
        ("level ne 10", ["bob@acme.com"]),
        ("level ge 10", ["ada@acme.com"]),
        ("level gt -1", ["ada@acme.com", "bob@acme.com"]),
        ("ratio lt 0.3", ["bob@acme.com"]),
        ("ratio le 2.5E-1", ["bob@acme.com"]),
        ('level eq 10 and ratio gt 0.25 or level eq "9"', ["ada@acme.com", "bob@acme.com"]),
    ],
)
def test_numbers_of_several_digits_compare_as_numbers(typed, idp, provision, comparison, expected):
    # RFC 7644 §3.4.2.2: a compValue may be a JSON number. scim2-filter-parser's
    # lexer reads a single digit as one, so these were 400 "could not be parsed".
    _typed_user(provision, "ada@acme.com", level=10, ratio=0.5)
    _typed_user(provision, "bob@acme.com", level=9, ratio=0.25)

    filter_text = comparison.replace("level", f"{TYPED}:level").replace("ratio", f"{TYPED}:ratio")

    response = idp.get("/Users", {"filter": filter_text})

    assert response.status_code == 200, response.content
    assert [r["userName"] for r in response.json()["Resources"]] == expected


def test_a_number_filter_with_no_number_is_400(typed, idp):
    response = idp.get("/Users", {"filter": f'{TYPED}:level gt "x"'})

    body = assert_scim_error(response, 400, "invalidFilter")
    assert body["detail"] == f"'x' is not a number for '{TYPED}:level'."


# -- onto the account's own fields (DefaultAdapter.set_custom_attributes) ------------------

MAPPED = "urn:ietf:params:scim:schemas:extension:mapped:2.0:User"


@pytest.fixture
def mapped(settings):
    """An extension whose first attribute has no field, then three mapped onto the account."""
    settings.SCIM_PROVISIONING_USER_EXTENSION = {
        "urn": MAPPED,
        "attributes": [
            {"name": "badge", "type": "string"},
            {"name": "teams", "type": "string", "multiValued": True, "field": "cost_code"},
            {"name": "joined", "type": "dateTime", "field": "last_login"},
        ],
    }


def test_an_attribute_without_a_field_does_not_stop_those_after_it(mapped, provision):
    created = provision("ada@acme.com", **{MAPPED: {"badge": "B-7", "teams": ["Ops"]}})

    assert created[MAPPED] == {"badge": "B-7", "teams": ["Ops"]}
    assert User.objects.get(email="ada@acme.com").cost_code == "Ops"


def test_a_multi_valued_attribute_reaches_a_text_field_as_a_list_in_words(mapped, provision):
    created = provision("ada@acme.com", **{MAPPED: {"teams": ["Ops", "Finance", "HR"]}})

    assert created[MAPPED] == {"teams": ["Ops", "Finance", "HR"]}
    assert User.objects.get(email="ada@acme.com").cost_code == "Ops, Finance, HR"


def test_a_date_and_time_reaches_a_date_time_field_whole(mapped, provision):
    created = provision("ada@acme.com", **{MAPPED: {"joined": "2026-03-01T09:30:00Z"}})

    assert created[MAPPED] == {"joined": "2026-03-01T09:30:00Z"}
    joined = User.objects.get(email="ada@acme.com").last_login
    assert joined.isoformat() == "2026-03-01T09:30:00+00:00"


def test_a_value_removed_clears_the_accounts_text_field(idp, okta_user):
    """A text column that allows no NULL is cleared to '' (Django's convention), not refused."""
    response = idp.patch(
        f"/Users/{okta_user['id']}", patch_op({"op": "remove", "path": f"{URN}:costCode"})
    )

    assert response.status_code == 200, response.content
    assert response.json()[URN] == {"startDate": "2026-03-01T00:00:00Z"}
    account = User.objects.get(email="test.user@okta.local")
    assert (account.cost_code, account.start_date) == ("", date(2026, 3, 1))


@pytest.fixture
def not_null(settings):
    """A dateTime mapped onto a column that cannot be empty (``date_joined``, NOT NULL)."""
    settings.SCIM_PROVISIONING_USER_EXTENSION = {
        "urn": MAPPED,
        "attributes": [{"name": "joined", "type": "dateTime", "field": "date_joined"}],
    }


def test_a_user_without_a_value_for_a_field_that_cannot_be_empty_is_created(not_null, provision):
    """Was a 500 (IntegrityError: NOT NULL) on every POST that left the attribute out."""
    created = provision("ada@acme.com")  # asserts the 201

    assert MAPPED not in created
    assert User.objects.get(email="ada@acme.com").date_joined is not None


def test_a_value_removed_leaves_a_field_that_cannot_be_empty_as_it_was(not_null, idp, provision):
    ada = provision("ada@acme.com", **{MAPPED: {"joined": "2026-03-01T09:30:00Z"}})

    response = idp.patch(
        f"/Users/{ada['id']}", patch_op({"op": "remove", "path": f"{MAPPED}:joined"})
    )

    assert response.status_code == 200, response.content
    assert MAPPED not in response.json()
    joined = User.objects.get(email="ada@acme.com").date_joined
    assert joined.isoformat() == "2026-03-01T09:30:00+00:00"
