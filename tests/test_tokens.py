"""Token lifecycle: storage, issue, verification over HTTP, last use, rotation, revocation."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.lookups import Exact
from django.test import override_settings
from django.utils import timezone

from example_project.teams.models import Membership
from scim_provisioning import tokens
from scim_provisioning.models import SCIMGroup, SCIMTeamConfig, SCIMToken, SCIMTokenState, SCIMUser

from .conftest import IdPClient, assert_scim_error
from .factories import TeamFactory

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"
WWW_AUTHENTICATE = 'Bearer realm="scim"'
WELL_FORMED_UNKNOWN = "scim_" + "A" * 43


def assert_unauthorized(response) -> None:
    assert_scim_error(response, 401)
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE


def raw_get(authorization: str | None):
    """GET /Users with exactly this Authorization header (or none)."""
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    return IdPClient(None, **headers).get("/Users")


def fresh_token(team) -> str:
    return tokens.issue_token(team).plaintext


# --- storage and issue -------------------------------------------------------


def test_issue_returns_scim_prefixed_plaintext(team):
    issued = tokens.issue_token(team)

    assert issued.plaintext.startswith("scim_")
    assert len(issued.plaintext) == len("scim_") + 43
    assert issued.token.prefix == issued.plaintext[: tokens.DISPLAY_PREFIX_LENGTH]


def test_only_the_sha256_digest_is_stored(team):
    issued = tokens.issue_token(team)
    row = SCIMToken.objects.get(pk=issued.token.pk)

    assert row.digest == hashlib.sha256(issued.plaintext.encode()).hexdigest()
    assert row.digest == tokens.digest(issued.plaintext)
    for field in SCIMToken._meta.concrete_fields:
        value = field.value_from_object(row)
        assert issued.plaintext not in str(value), f"{field.name} holds the plaintext"


def test_no_database_column_holds_the_plaintext(team):
    issued = tokens.issue_token(team)
    table = connection.ops.quote_name(SCIMToken._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - table name from the model
        rows = cursor.fetchall()

    assert len(rows) == 1
    for value in rows[0]:
        assert issued.plaintext not in str(value)


def test_two_issued_tokens_differ(team):
    assert fresh_token(team) != fresh_token(team)


def test_issue_token_refuses_disabled_team(team):
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    with pytest.raises(tokens.SCIMNotEnabled):
        tokens.issue_token(team)
    assert not SCIMToken.objects.filter(team=team).exists()


def test_issue_token_refuses_team_without_config(db):
    bare = TeamFactory(slug="bare")

    with pytest.raises(tokens.SCIMNotEnabled):
        tokens.issue_token(bare)
    assert not SCIMToken.objects.filter(team=bare).exists()


def test_rotate_token_refuses_disabled_team(team):
    old = tokens.issue_token(team)
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    with pytest.raises(tokens.SCIMNotEnabled):
        tokens.rotate_token(team)
    old.token.refresh_from_db()
    assert old.token.expires_at is None
    assert SCIMToken.objects.filter(team=team).count() == 1


# --- authentication over HTTP ------------------------------------------------


def test_valid_token_is_accepted(team):
    response = IdPClient(fresh_token(team)).get("/Users")

    assert response.status_code == 200, response.content


def test_missing_authorization_header_is_401(team):
    assert_unauthorized(raw_get(None))


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNzd29yZA==", "Token {token}", "Basic {token}"],
    ids=["basic", "token-scheme", "basic-with-real-token"],
)
def test_wrong_scheme_is_401(team, header):
    assert_unauthorized(raw_get(header.format(token=fresh_token(team))))


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "bearer"], ids=["bare", "space", "lower"])
def test_bearer_without_token_is_401(team, header):
    assert_unauthorized(raw_get(header))


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "scim_short", "scim_" + "A" * 44, "xxxx_" + "A" * 43, "scim_" + "!" * 43],
    ids=["garbage", "short", "long", "wrong-prefix", "bad-characters"],
)
def test_malformed_token_is_401(team, token):
    assert_unauthorized(raw_get(f"Bearer {token}"))


def test_token_with_extra_parts_is_401(team):
    assert_unauthorized(raw_get(f"Bearer {fresh_token(team)} extra"))


def test_unknown_token_is_401(team):
    fresh_token(team)

    assert_unauthorized(raw_get(f"Bearer {WELL_FORMED_UNKNOWN}"))


def test_expired_token_is_401(team):
    issued = tokens.issue_token(team, expires_at=timezone.now() - timedelta(seconds=1))

    assert_unauthorized(raw_get(f"Bearer {issued.plaintext}"))


def test_token_expiring_in_the_future_is_accepted(team):
    issued = tokens.issue_token(team, expires_at=timezone.now() + timedelta(hours=1))

    assert IdPClient(issued.plaintext).get("/Users").status_code == 200


def test_revoked_token_is_401(team):
    issued = tokens.issue_token(team)
    SCIMToken.objects.filter(pk=issued.token.pk).update(revoked_at=timezone.now())

    assert_unauthorized(raw_get(f"Bearer {issued.plaintext}"))


def test_revocation_takes_effect_on_the_next_request(team):
    idp_client = IdPClient(fresh_token(team))
    assert idp_client.get("/Users").status_code == 200

    assert tokens.revoke_tokens(team) == 1

    assert_unauthorized(idp_client.get("/Users"))


def test_revoke_by_prefix_leaves_other_tokens_working(team):
    first = tokens.issue_token(team)
    second = tokens.issue_token(team)

    assert tokens.revoke_tokens(team, prefix=first.token.prefix) == 1

    assert_unauthorized(raw_get(f"Bearer {first.plaintext}"))
    assert IdPClient(second.plaintext).get("/Users").status_code == 200


def test_token_of_disabled_team_is_403(team):
    idp_client = IdPClient(fresh_token(team))
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    response = idp_client.get("/Users")

    assert_scim_error(response, 403)


USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


@pytest.fixture
def switched_off(team):
    """Team A's IdP after staff switched SCIM off: it holds a user in a group."""
    client = IdPClient(fresh_token(team))
    ada = client.post("/Users", {"schemas": [USER], "userName": "ada@acme.com"}).json()
    group = client.post(
        "/Groups", {"schemas": [GROUP], "displayName": "Eng", "members": [{"value": ada["id"]}]}
    ).json()
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)
    return client, ada["id"], group["id"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/Users", None),
        ("post", "/Users", {"schemas": [USER], "userName": "bob@acme.com"}),
        ("post", "/Users/.search", {"schemas": [SEARCH]}),
        ("get", "/Users/{user}", None),
        ("put", "/Users/{user}", {"schemas": [USER], "userName": "ada@acme.com", "active": False}),
        (
            "patch",
            "/Users/{user}",
            {
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "active", "value": False}],
            },
        ),
        ("delete", "/Users/{user}", None),
        ("get", "/Groups", None),
        ("post", "/Groups", {"schemas": [GROUP], "displayName": "Sales"}),
        ("post", "/Groups/.search", {"schemas": [SEARCH]}),
        ("get", "/Groups/{group}", None),
        ("put", "/Groups/{group}", {"schemas": [GROUP], "displayName": "Eng", "members": []}),
        (
            "patch",
            "/Groups/{group}",
            {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": "members"}]},
        ),
        ("delete", "/Groups/{group}", None),
        ("post", "/.search", {"schemas": [SEARCH]}),
        ("get", "/ServiceProviderConfig", None),
        ("get", "/ResourceTypes", None),
        ("get", "/ResourceTypes/User", None),
        ("get", "/Schemas", None),
        ("get", f"/Schemas/{USER}", None),
        ("post", "/Bulk", {}),
        ("get", "/Me", None),
        ("get", "/Unknown", None),
    ],
)
def test_a_disabled_teams_token_is_403_everywhere_and_changes_nothing(
    team, switched_off, method, path, body
):
    client, user_id, group_id = switched_off
    path = path.format(user=user_id, group=group_id)

    sender = getattr(client, method)
    response = sender(path) if body is None else sender(path, body)

    body = assert_scim_error(response, 403)
    assert "not enabled" in body["detail"]
    assert "ada@acme.com" not in response.content.decode()
    user = SCIMUser.objects.select_related("user").get(team=team)
    assert (str(user.pk), user.active, user.version) == (user_id, True, 1)
    assert Membership.objects.get(team=team, user=user.user).is_active is True
    group = SCIMGroup.objects.get(team=team)
    assert (str(group.pk), group.display_name, group.version) == (group_id, "Eng", 1)
    assert [str(pk) for pk in group.memberships.values_list("user_id", flat=True)] == [user_id]


def test_token_of_team_without_config_is_403(db):
    bare = TeamFactory(slug="bare")
    plaintext = "scim_" + "b" * 43
    SCIMToken.objects.create(
        team=bare, digest=tokens.digest(plaintext), prefix=plaintext[: tokens.DISPLAY_PREFIX_LENGTH]
    )

    response = IdPClient(plaintext).get("/Users")

    assert_scim_error(response, 403)


def test_disabled_team_token_works_again_once_reenabled(team):
    idp_client = IdPClient(fresh_token(team))
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)
    assert idp_client.get("/Users").status_code == 403

    SCIMTeamConfig.objects.filter(team=team).update(enabled=True)

    assert idp_client.get("/Users").status_code == 200


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_scheme_is_case_insensitive(team, scheme):
    response = raw_get(f"{scheme} {fresh_token(team)}")

    assert response.status_code == 200, response.content


# --- last_used_at ------------------------------------------------------------


def test_last_used_at_is_empty_before_first_use(team):
    issued = tokens.issue_token(team)

    assert SCIMToken.objects.get(pk=issued.token.pk).last_used_at is None


def test_last_used_at_is_written_on_first_use(team):
    issued = tokens.issue_token(team)
    before = timezone.now()

    assert IdPClient(issued.plaintext).get("/Users").status_code == 200

    last_used = SCIMToken.objects.get(pk=issued.token.pk).last_used_at
    assert last_used is not None
    assert before <= last_used <= timezone.now()


def test_last_used_at_is_not_rewritten_within_the_interval(team):
    issued = tokens.issue_token(team)
    idp_client = IdPClient(issued.plaintext)
    idp_client.get("/Users")
    first = SCIMToken.objects.get(pk=issued.token.pk).last_used_at

    assert idp_client.get("/Users").status_code == 200

    assert SCIMToken.objects.get(pk=issued.token.pk).last_used_at == first


def test_verify_token_writes_only_once_within_the_interval(team, django_assert_num_queries):
    issued = tokens.issue_token(team)
    with django_assert_num_queries(2):  # lookup + last_used_at update
        assert tokens.verify_token(issued.plaintext) is not None

    with django_assert_num_queries(1):  # lookup only
        assert tokens.verify_token(issued.plaintext) is not None


@override_settings(SCIM_PROVISIONING_TOKEN_LAST_USED_INTERVAL=600)
def test_last_used_at_is_rewritten_after_the_interval(team):
    issued = tokens.issue_token(team)
    past = timezone.now() - timedelta(seconds=601)
    SCIMToken.objects.filter(pk=issued.token.pk).update(last_used_at=past)

    assert IdPClient(issued.plaintext).get("/Users").status_code == 200

    last_used = SCIMToken.objects.get(pk=issued.token.pk).last_used_at
    assert last_used > past + timedelta(seconds=600)


@override_settings(SCIM_PROVISIONING_TOKEN_LAST_USED_INTERVAL=600)
def test_last_used_at_is_kept_inside_a_configured_interval(team):
    issued = tokens.issue_token(team)
    recent = timezone.now() - timedelta(seconds=590)
    SCIMToken.objects.filter(pk=issued.token.pk).update(last_used_at=recent)

    assert IdPClient(issued.plaintext).get("/Users").status_code == 200

    assert SCIMToken.objects.get(pk=issued.token.pk).last_used_at == recent


# --- rotation ----------------------------------------------------------------


def test_rotate_with_overlap_keeps_old_token_valid_until_overlap_ends(team):
    old = tokens.issue_token(team)
    before = timezone.now()

    new = tokens.rotate_token(team, overlap=timedelta(hours=2))

    old.token.refresh_from_db()
    assert (
        before + timedelta(hours=2) <= old.token.expires_at <= timezone.now() + timedelta(hours=2)
    )
    assert IdPClient(old.plaintext).get("/Users").status_code == 200
    assert IdPClient(new.plaintext).get("/Users").status_code == 200


def test_old_token_refused_once_the_overlap_has_ended(team):
    old = tokens.issue_token(team)
    new = tokens.rotate_token(team, overlap=timedelta(hours=2))
    SCIMToken.objects.filter(pk=old.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_unauthorized(raw_get(f"Bearer {old.plaintext}"))
    assert IdPClient(new.plaintext).get("/Users").status_code == 200


def test_rotate_with_zero_overlap_refuses_old_token_at_once(team):
    old = tokens.issue_token(team)

    new = tokens.rotate_token(team, overlap=timedelta(0))

    old.token.refresh_from_db()
    assert old.token.state == SCIMTokenState.EXPIRED
    assert_unauthorized(raw_get(f"Bearer {old.plaintext}"))
    assert IdPClient(new.plaintext).get("/Users").status_code == 200


@override_settings(SCIM_PROVISIONING_TOKEN_ROTATION_OVERLAP_HOURS=3)
def test_rotate_default_overlap_comes_from_settings(team):
    old = tokens.issue_token(team)
    before = timezone.now()

    tokens.rotate_token(team)

    old.token.refresh_from_db()
    assert (
        before + timedelta(hours=3) <= old.token.expires_at <= timezone.now() + timedelta(hours=3)
    )


def test_rotate_does_not_extend_an_earlier_expiry(team):
    soon = timezone.now() + timedelta(minutes=10)
    old = tokens.issue_token(team, expires_at=soon)

    tokens.rotate_token(team, overlap=timedelta(hours=24))

    old.token.refresh_from_db()
    assert old.token.expires_at == soon


def test_rotate_leaves_other_teams_tokens_alone(team, other_team):
    theirs = tokens.issue_token(other_team)

    tokens.rotate_token(team, overlap=timedelta(0))

    theirs.token.refresh_from_db()
    assert theirs.token.expires_at is None
    assert IdPClient(theirs.plaintext).get("/Users").status_code == 200


def test_rotate_leaves_revoked_tokens_as_they_were(team):
    revoked = tokens.issue_token(team)
    tokens.revoke_tokens(team)

    tokens.rotate_token(team, overlap=timedelta(hours=1))

    revoked.token.refresh_from_db()
    assert revoked.token.expires_at is None
    assert revoked.token.state == SCIMTokenState.REVOKED


def test_revoking_all_of_a_team_leaves_other_teams_and_earlier_revocations(team, other_team):
    earlier = tokens.issue_token(team)
    assert tokens.revoke_tokens(team) == 1
    earlier.token.refresh_from_db()
    first_revocation = earlier.token.revoked_at
    live = tokens.issue_token(team)
    theirs = tokens.issue_token(other_team)

    assert tokens.revoke_tokens(team) == 1  # only the live one

    earlier.token.refresh_from_db()
    assert earlier.token.revoked_at == first_revocation
    assert SCIMToken.objects.get(pk=live.token.pk).state == SCIMTokenState.REVOKED
    assert SCIMToken.objects.get(pk=theirs.token.pk).revoked_at is None
    assert IdPClient(theirs.plaintext).get("/Users").status_code == 200


def test_two_live_tokens_work_side_by_side(team):
    first = fresh_token(team)
    second = fresh_token(team)

    assert IdPClient(first).get("/Users").status_code == 200
    assert IdPClient(second).get("/Users").status_code == 200
    assert IdPClient(first).get("/Users").status_code == 200


# --- verify_token ------------------------------------------------------------


@pytest.fixture
def case_insensitive_digest_column():
    """The digest column compares as under MySQL's default ``*_ci`` collations: ``=`` ignores
    case, so the index lookup can return a row whose digest is not the one asked for."""
    field = SCIMToken._meta.get_field("digest")

    class CaseInsensitiveExact(Exact):
        def as_sql(self, compiler, connection):
            lhs, lhs_params = self.process_lhs(compiler, connection)
            rhs, rhs_params = self.process_rhs(compiler, connection)
            return f"LOWER({lhs}) = LOWER({rhs})", (*lhs_params, *rhs_params)

    field.register_lookup(CaseInsensitiveExact)
    yield
    field._unregister_lookup(CaseInsensitiveExact)


def test_a_row_whose_digest_differs_is_refused_whatever_the_lookup(
    team, case_insensitive_digest_column
):
    issued = tokens.issue_token(team)
    SCIMToken.objects.filter(pk=issued.token.pk).update(digest=issued.token.digest.upper())
    assert SCIMToken.objects.filter(digest=issued.token.digest).exists()  # the lenient lookup

    assert tokens.verify_token(issued.plaintext) is None
    assert_unauthorized(raw_get(f"Bearer {issued.plaintext}"))
    assert SCIMToken.objects.get(pk=issued.token.pk).last_used_at is None


def test_verify_token_returns_none_for_unknown_token(team):
    fresh_token(team)

    assert tokens.verify_token(WELL_FORMED_UNKNOWN) is None


def test_verify_token_returns_none_for_malformed_token(team, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert tokens.verify_token("Bearer nonsense") is None


def test_state_reports_revoked_over_expired(team):
    issued = tokens.issue_token(team, expires_at=timezone.now() - timedelta(hours=1))
    SCIMToken.objects.filter(pk=issued.token.pk).update(revoked_at=timezone.now())

    assert SCIMToken.objects.get(pk=issued.token.pk).state == SCIMTokenState.REVOKED


def test_a_doubled_bearer_prefix_is_accepted(team):
    """An admin pasted "Bearer <token>" into an IdP field that adds "Bearer " itself."""
    response = raw_get(f"Bearer Bearer {fresh_token(team)}")

    assert response.status_code == 200


def test_a_doubled_prefix_with_a_bad_token_is_still_401(team):
    assert_unauthorized(raw_get("Bearer Bearer scim_" + "A" * 43))


# --- what a refusal tells the IdP admin ---------------------------------------

NOT_VALID = "The bearer token is not valid, has expired or was revoked."
ACCEPTED_FORMS = (
    "The Authorization header must be 'Bearer <token>' or '<token>' or "
    "'Basic <base64 of user:token>'."
)


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "A bearer token is required."),
        ("Basic dXNlcjpwYXNzd29yZA==", NOT_VALID),  # user:password, not a token
        ("Digest username=x", ACCEPTED_FORMS),
        ("Bearer scim_" + "\u00e9" * 43, "The bearer token is not valid."),
        ("Bearer not-a-token", NOT_VALID),
        (f"Bearer {WELL_FORMED_UNKNOWN}", NOT_VALID),
    ],
    ids=["missing", "basic", "digest", "not-ascii", "malformed", "unknown"],
)
def test_a_refused_token_is_told_what_is_wrong(team, authorization, detail):
    """The admin pasting the token reads the detail in the IdP's log: it names the fault."""
    response = raw_get(authorization)

    assert_unauthorized(response)
    assert response.json()["detail"] == detail


def test_a_disabled_team_is_told_to_contact_support(team):
    idp_client = IdPClient(fresh_token(team))
    SCIMTeamConfig.objects.filter(team=team).update(enabled=False)

    body = assert_scim_error(idp_client.get("/Users"), 403)

    assert body["detail"] == (
        "SCIM provisioning is not enabled for this team. Contact the site's support to enable it."
    )


def test_last_use_exactly_one_interval_old_is_rewritten(team, settings, monkeypatch):
    """At most once per interval: a use exactly one interval after the last one writes."""
    settings.SCIM_PROVISIONING_TOKEN_LAST_USED_INTERVAL = 60
    issued = tokens.issue_token(team)
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)  # the clock stands still
    SCIMToken.objects.filter(pk=issued.token.pk).update(last_used_at=now - timedelta(seconds=60))

    assert IdPClient(issued.plaintext).get("/Users").status_code == 200

    assert SCIMToken.objects.get(pk=issued.token.pk).last_used_at == now


def test_a_verified_token_comes_with_its_team_and_scim_settings_in_one_query(
    team, django_assert_num_queries
):
    issued = tokens.issue_token(team)
    SCIMToken.objects.filter(pk=issued.token.pk).update(last_used_at=timezone.now())

    with django_assert_num_queries(1):
        token = tokens.verify_token(issued.plaintext)
        assert (token.team, token.team.scim_config.enabled) == (team, True)
