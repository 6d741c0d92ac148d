"""``scim_import_django_scim2``: a site on django-scim2 moves here and its IdP does not notice.

The host's user model is built on django-scim2's own ``AbstractSCIMUserMixin``
(``site/models.py``). Each test sets the state django-scim2 left behind (the
IdP's ``userName`` and ``externalId`` on the user, ``scim_id`` = the primary key)
and then speaks as the IdP does after the switch: the same filters, the ids it
stored. Runs in its own process (``tests/test_hosts.py``).
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from scim_provisioning.django_scim2_import import import_django_scim2_users
from scim_provisioning.models import SCIMTeamConfig, SCIMUser
from scim_provisioning.tokens import issue_token
from tests.hosts.django_scim2.site.models import Organization, OrgMembership, User

pytestmark = pytest.mark.django_db

SCIM_JSON = "application/scim+json"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def provisioned(username: str, org: Organization, *, external_id: str, active: bool = True):
    """A person django-scim2 provisioned for ``org``'s IdP (as its adapter saves them)."""
    user = User.objects.create(
        username=username,
        email=username,
        first_name=username.split("@")[0].title(),
        last_name="Doe",
        scim_username=username,
        scim_external_id=external_id,
    )
    user.set_unusable_password()
    user.save()
    OrgMembership.objects.create(organization=org, user=user, is_active=active)
    return user


@pytest.fixture
def acme() -> Organization:
    org = Organization.objects.create(name="Acme", slug="acme")
    SCIMTeamConfig.objects.create(team=org, enabled=True)
    return org


@pytest.fixture
def globex() -> Organization:
    org = Organization.objects.create(name="Globex", slug="globex")
    SCIMTeamConfig.objects.create(team=org, enabled=True)
    return org


def idp(org: Organization) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(org).plaintext}")


def send(client: Client, method: str, path: str, payload: dict | None = None):
    kwargs = {"data": json.dumps(payload), "content_type": SCIM_JSON} if payload else {}
    return getattr(client, method)(f"/scim/v2{path}", **kwargs)


def run(*args: str) -> str:
    out = StringIO()
    call_command("scim_import_django_scim2", *args, stdout=out)
    return out.getvalue()


# -- the command ------------------------------------------------------------------------


def test_scim_id_is_the_primary_key_as_django_scim2_sets_it(acme):
    jane = provisioned("jane@acme.example", acme, external_id="00u1")
    assert jane.scim_id == str(jane.pk)


def test_dry_run_by_default_writes_nothing_and_says_what_it_would_do(acme):
    provisioned("jane@acme.example", acme, external_id="00u1")
    out = run("--team", "acme")
    assert "+ jane@acme.example (externalId 00u1" in out
    assert "1 SCIM user(s) to create, 0 already there, 0 skipped" in out
    assert "Dry run: nothing was written" in out
    assert not SCIMUser.objects.exists()


def test_apply_creates_a_record_per_member_from_the_django_scim2_fields(acme):
    jane = provisioned("jane@acme.example", acme, external_id="00u1")
    bob = provisioned("bob@acme.example", acme, external_id="00u2", active=False)
    out = run("--team", "acme", "--apply")
    assert "2 SCIM user(s) created" in out
    records = {r.user_id: r for r in SCIMUser.objects.filter(team=acme)}
    assert set(records) == {jane.pk, bob.pk}
    record = records[jane.pk]
    assert (record.user_name, record.external_id, record.legacy_id) == (
        "jane@acme.example",
        "00u1",
        str(jane.pk),
    )
    assert record.email == "jane@acme.example" and record.active is True
    assert record.created_account is False  # the account predates this app: not managed
    assert record.attributes["name"] == {"givenName": "Jane", "familyName": "Doe"}
    assert records[bob.pk].active is False  # a deactivated member stays deactivated


def test_a_second_run_changes_nothing(acme):
    provisioned("jane@acme.example", acme, external_id="00u1")
    run("--team", "acme", "--apply")
    before = list(SCIMUser.objects.values("id", "version", "last_modified"))
    out = run("--team", "acme", "--apply")
    assert "0 SCIM user(s) created, 1 already there, 0 skipped" in out
    assert list(SCIMUser.objects.values("id", "version", "last_modified")) == before


def test_only_the_teams_members_are_imported(acme, globex):
    provisioned("jane@acme.example", acme, external_id="00u1")
    provisioned("hank@globex.example", globex, external_id="00u9")
    run("--team", "acme", "--apply")
    assert list(SCIMUser.objects.values_list("team_id", "user_name")) == [
        (acme.pk, "jane@acme.example")
    ]


def test_members_the_idp_never_provisioned_are_skipped_with_their_reason(acme):
    owner = User.objects.create(username="owner@acme.example", email="owner@acme.example")
    OrgMembership.objects.create(organization=acme, user=owner, role="owner")
    out = run("--team", "acme", "--apply")
    assert "- owner@acme.example: never provisioned through django-scim2" in out
    assert not SCIMUser.objects.exists()


def test_a_user_name_taken_in_the_team_is_skipped_not_an_error(acme):
    provisioned("jane@acme.example", acme, external_id="00u1")
    twin = provisioned("jane2@acme.example", acme, external_id="00u3")
    twin.scim_username = "JANE@acme.example"
    twin.save()
    out = run("--team", "acme", "--apply")
    assert "- jane2@acme.example: userName 'JANE@acme.example' is taken in this team" in out
    assert SCIMUser.objects.count() == 1


def test_the_library_function_returns_the_plan(acme):
    jane = provisioned("jane@acme.example", acme, external_id="00u1")
    plan = import_django_scim2_users(acme)
    assert not plan.applied and [p.account_pk for p in plan.to_create] == [jane.pk]
    assert not SCIMUser.objects.exists()


def test_an_unknown_team_is_a_command_error(acme):
    with pytest.raises(CommandError, match="No team with slug 'nope'"):
        run("--team", "nope")


# -- the IdP after the switch ------------------------------------------------------------


def test_the_idps_filters_find_the_imported_people(acme):
    provisioned("jane@acme.example", acme, external_id="00u1")
    run("--team", "acme", "--apply")
    client = idp(acme)
    record = SCIMUser.objects.get()
    for query in (
        'userName eq "jane@acme.example"',
        'externalId eq "00u1"',
        'emails[type eq "work"].value eq "jane@acme.example"',
    ):
        response = client.get("/scim/v2/Users", {"filter": query})
        body = json.loads(response.content)
        assert response.status_code == 200 and body["totalResults"] == 1, query
        assert body["Resources"][0]["id"] == str(record.id)


def test_a_post_of_an_imported_person_is_a_409_not_a_duplicate(acme):
    provisioned("jane@acme.example", acme, external_id="00u1")
    run("--team", "acme", "--apply")
    response = send(
        idp(acme),
        "post",
        "/Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "jane@acme.example",
            "emails": [{"value": "jane@acme.example", "primary": True}],
        },
    )
    assert response.status_code == 409
    assert json.loads(response.content)["scimType"] == "uniqueness"
    assert SCIMUser.objects.count() == 1 and User.objects.count() == 1


def test_the_id_the_idp_stored_keeps_resolving(acme):
    jane = provisioned("jane@acme.example", acme, external_id="00u1")
    run("--team", "acme", "--apply")
    client = idp(acme)
    record = SCIMUser.objects.get()

    response = send(client, "get", f"/Users/{jane.pk}")
    assert response.status_code == 200
    assert json.loads(response.content)["id"] == str(record.id)

    deactivate = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    response = send(client, "patch", f"/Users/{jane.pk}", deactivate)
    assert response.status_code == 200 and json.loads(response.content)["active"] is False
    assert OrgMembership.objects.get(user=jane).is_active is False

    response = send(client, "delete", f"/Users/{jane.pk}")
    assert response.status_code == 204
    assert not SCIMUser.objects.exists() and not OrgMembership.objects.exists()
    assert User.objects.filter(pk=jane.pk).exists()


def test_an_old_id_resolves_only_within_its_team(acme, globex):
    jane = provisioned("jane@acme.example", acme, external_id="00u1")
    run("--team", "acme", "--apply")
    intruder = idp(globex)
    for method in ("get", "delete"):
        response = send(intruder, method, f"/Users/{jane.pk}")
        assert response.status_code == 404, method
    assert SCIMUser.objects.filter(team=acme, legacy_id=str(jane.pk)).exists()
    assert OrgMembership.objects.get(user=jane).is_active is True


def test_a_host_primary_key_that_was_never_imported_is_a_404(acme):
    jane = provisioned("jane@acme.example", acme, external_id="00u1")
    response = send(idp(acme), "get", f"/Users/{jane.pk}")
    assert response.status_code == 404


def test_with_no_active_field_every_membership_row_is_an_active_member(acme, settings):
    """``MEMBERSHIP_ACTIVE_FIELD = None``: the row is the seat, so whoever has one is active."""
    settings.SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = None
    jane = provisioned("jane@acme.example", acme, external_id="00u1", active=False)

    plan = import_django_scim2_users(acme, apply=True)

    assert [item.active for item in plan.to_create] == [True]
    assert SCIMUser.objects.get(team_id=acme.pk, user=jane).active is True
