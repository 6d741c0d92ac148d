"""Internationalised addresses: one way to read, store and compare an address (issue 22).

RFC 6531 §3.3 lets a local part hold any UTF-8 character beyond ASCII's
``atext``; IdPs and mail systems send such addresses. The domain is compared
in its ASCII (IDNA, "punycode") form, the local part as sent (lower-cased, the
case rule of every address here). Everything else Django's ``EmailValidator``
refuses is still refused.
"""

from __future__ import annotations

import pytest

from scim_provisioning.emails import canonical_email, email_domain, is_valid_email
from scim_provisioning.models import SCIMUser
from tests.conftest import assert_scim_error
from tests.host import seat

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
UNICODE_LOCAL = "unicodé.名前@acme-proto.example"
IDN = "jürgen@bücher.example"


def _user(address: str) -> dict:
    return {
        "schemas": [USER_SCHEMA],
        "userName": address,
        "emails": [{"value": address, "type": "work", "primary": True}],
    }


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [
        (UNICODE_LOCAL, UNICODE_LOCAL),
        ("Unicodé.名前@ACME-Proto.example", UNICODE_LOCAL),
        (IDN, "jürgen@xn--bcher-kva.example"),
        ("jürgen@XN--BCHER-KVA.example", "jürgen@xn--bcher-kva.example"),
        ("JÜRGEN@BÜCHER.EXAMPLE", "jürgen@xn--bcher-kva.example"),
        ("  ada@acme.example ", "ada@acme.example"),
    ],
)
def test_an_address_is_read_one_way(sent, canonical):
    assert canonical_email(sent) == canonical
    assert is_valid_email(sent)


@pytest.mark.parametrize(
    "text",
    [
        "a@acme.example@globex.example",  # two @: never the last one as the separator
        "a b@acme.example",
        "ada@",
        "@acme.example",
        "a..b@acme.example",
        ".ada@acme.example",
        "ada@acme",  # no top-level domain
        "ada@-acme.example",
        "ad\x00a@acme.example",  # NUL
        "ad\ud800a@acme.example",  # a lone surrogate
        "ada@ac\ud800me.example",
        "ad\u200ba@acme.example",  # a zero-width space (format character)
        "ad\u3000a@acme.example",  # an ideographic space
        "ada@bü cher.example",
        "ada@" + "ü" * 70 + ".example",  # a label longer than 63 octets once encoded
        "",
    ],
)
def test_anything_else_is_still_not_an_address(text):
    assert canonical_email(text) is None
    assert not is_valid_email(text)


def test_the_domain_of_an_idn_address_is_its_ascii_form():
    assert email_domain("jürgen@Bücher.example") == "xn--bcher-kva.example"


def test_a_team_verifies_an_idn_domain_in_its_ascii_form():
    """DomainNameValidator(accept_idna=False) refused it before: verified domains compare as
    ASCII, as addresses do."""
    from scim_provisioning.domains import clean_domain

    assert clean_domain("@Bücher.example.") == "xn--bcher-kva.example"


@pytest.mark.django_db
def test_an_rfc_6531_address_round_trips(idp, team):
    """Refused with "is not an email address" since EmailValidator took over (ASCII only)."""
    response = idp.post("/Users", _user(UNICODE_LOCAL))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["userName"] == UNICODE_LOCAL
    assert body["emails"][0]["value"] == UNICODE_LOCAL
    fetched = idp.get(f"/Users/{body['id']}").json()
    assert (fetched["userName"], fetched["emails"][0]["value"]) == (UNICODE_LOCAL, UNICODE_LOCAL)
    found = idp.get("/Users", {"filter": f'userName eq "{UNICODE_LOCAL}"'}).json()
    assert [r["id"] for r in found["Resources"]] == [body["id"]]
    record = SCIMUser.objects.get(pk=body["id"])
    assert record.email == UNICODE_LOCAL
    assert seat(team, record.user) is True


@pytest.mark.django_db
def test_an_idn_address_is_stored_with_its_ascii_domain(idp):
    response = idp.post("/Users", _user(IDN))

    assert response.status_code == 201, response.content
    assert response.json()["emails"][0]["value"] == IDN  # the IdP's value, as sent
    record = SCIMUser.objects.get(pk=response.json()["id"])
    assert record.email == "jürgen@xn--bcher-kva.example"


@pytest.mark.django_db
def test_an_idn_address_links_the_account_holding_its_ascii_form(idp, team):
    from tests.factories import UserFactory

    account = UserFactory(email="jürgen@xn--bcher-kva.example", password=None)

    response = idp.post("/Users", _user("Jürgen@BÜCHER.example"))

    assert response.status_code == 201, response.content
    assert SCIMUser.objects.get(pk=response.json()["id"]).user == account


@pytest.mark.django_db
def test_a_verified_idn_domain_admits_its_unicode_spelling(idp, team):
    config = team.scim_config
    config.verified_domains = ["bücher.example"]
    config.save()

    assert idp.post("/Users", _user(IDN)).status_code == 201
    body = assert_scim_error(idp.post("/Users", _user("ada@acme.example")), 400, "invalidValue")
    assert "xn--bcher-kva.example" in body["detail"]


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_unicode_local_part_is_refused(idp):
    body = '{"schemas": ["%s"], "userName": "ada", "emails": [{"value": "%s"}]}'
    response = idp.post("/Users", body % (USER_SCHEMA, "unicod\\ud800@acme.example"))

    assert_scim_error(response, 400, "invalidValue")
    assert not SCIMUser.objects.exists()


@pytest.mark.django_db
def test_support_finds_a_person_by_either_spelling_of_their_domain(idp, team):
    from scim_provisioning import timeline

    body = {**_user(IDN), "userName": "jurgen"}
    created = idp.post("/Users", body).json()["id"]

    for typed in ("jürgen@BÜCHER.example", "jürgen@xn--bcher-kva.example"):
        found = timeline.team_timeline(team, person=typed)
        assert {str(e.scim_user_id) for e in found} == {created}, typed
