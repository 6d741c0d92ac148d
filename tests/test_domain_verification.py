"""Self-serve domain verification: a team proves an email domain with a DNS TXT record.

The resolver is replaced by a fake DNS (no test needs the internet); the
code under test still calls dnspython's ``Resolver.resolve`` and maps its
exceptions to the messages people see.
"""

from __future__ import annotations

import dns.exception
import dns.resolver
import pytest
from django.urls import reverse

from example_project.teams.models import Membership
from scim_provisioning.models import SCIMTeamConfig, SCIMTeamDomain, SCIMUser

from .conftest import patch_op
from .factories import UserFactory
from .team_helpers import logged_in, member_of

pytestmark = pytest.mark.django_db


class FakeDNS:
    """TXT records by name; a name mapped to an exception class raises it."""

    def __init__(self) -> None:
        self.records: dict[str, object] = {}
        self.lifetimes: list[float] = []

    def install(self, monkeypatch) -> FakeDNS:
        fake = self

        def resolve(resolver, name, rdtype="A", *args, **kwargs):
            assert rdtype == "TXT"
            fake.lifetimes.append(resolver.lifetime)
            found = fake.records.get(str(name), dns.resolver.NXDOMAIN)
            if isinstance(found, type) and issubclass(found, Exception):
                raise found()
            return [_TXT(value) for value in found]

        monkeypatch.setattr(dns.resolver.Resolver, "resolve", resolve)
        return self


class _TXT:
    def __init__(self, value: str) -> None:
        # Publishers split long values into 255-byte strings.
        raw = value.encode()
        self.strings = [raw[:20], raw[20:]]


@pytest.fixture
def fake_dns(monkeypatch) -> FakeDNS:
    return FakeDNS().install(monkeypatch)


def api(path: str = "", slug: str = "acme") -> str:
    return f"/api/teams/{slug}/scim/{path}"


def _add(client, domain="acme.example", slug="acme") -> dict:
    response = client.post(
        api("domains/", slug), {"domain": domain}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def _check(client, domain="acme.example", slug="acme") -> dict:
    response = client.post(api(f"domains/{domain}/check/", slug))
    assert response.status_code == 200, response.content
    return response.json()


def test_adding_a_domain_gives_a_random_txt_record_per_team_and_domain(
    team, other_team, owner_client
):
    acme = _add(owner_client, "Acme.Example.")
    other = _add(owner_client, "acme.test")
    globex = _add(logged_in(member_of(other_team, "owner")), "acme.example", slug="globex")

    assert acme["domain"] == "acme.example" and acme["verified"] is False
    assert acme["txt_name"] == "_scim-verification.acme.example"
    assert acme["txt_value"].startswith("scim-verification=") and len(acme["txt_value"]) > 40
    assert len({acme["txt_value"], other["txt_value"], globex["txt_value"]}) == 3
    assert _add(owner_client, "acme.example")["txt_value"] == acme["txt_value"]  # idempotent
    assert SCIMTeamDomain.objects.filter(team=team).count() == 2


@pytest.mark.parametrize("domain", ["not a domain", "acme", "@", "a@b.example", ""])
def test_an_invalid_domain_is_a_400(team, owner_client, domain):
    response = owner_client.post(
        api("domains/"), {"domain": domain}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "domain" in response.json()
    assert not SCIMTeamDomain.objects.exists()


def test_a_published_record_verifies_the_domain(team, owner, owner_client, fake_dns, settings):
    settings.SCIM_PROVISIONING_DOMAIN_CHECK_TIMEOUT = 3
    claim = _add(owner_client)
    fake_dns.records[claim["txt_name"]] = ["v=spf1 -all", claim["txt_value"]]

    body = _check(owner_client)

    assert body["verified"] is True
    assert body["message"] == "acme.example is verified."
    assert body["domain"]["verified_by"] == owner.get_username()
    stored = SCIMTeamDomain.objects.get()
    assert stored.verified_by == owner and stored.verified_at is not None
    assert fake_dns.lifetimes == [3.0]
    assert SCIMTeamConfig.objects.get(team=team).domain_names() == {"acme.example"}


@pytest.mark.parametrize(
    ("published", "message"),
    [
        (dns.resolver.NXDOMAIN, "No TXT record found at _scim-verification.acme.example"),
        (dns.resolver.NoAnswer, "No TXT record found at _scim-verification.acme.example"),
        (["scim-verification=somebody-elses"], "do not contain this team's value"),
        (dns.exception.Timeout, "did not answer"),
        (dns.resolver.NoNameservers, "DNS error while looking up _scim-verification.acme.example"),
    ],
)
def test_a_failed_check_says_what_it_found(team, owner_client, fake_dns, published, message):
    claim = _add(owner_client)
    fake_dns.records[claim["txt_name"]] = published

    body = _check(owner_client)

    assert body["verified"] is False
    assert message in body["message"]
    stored = SCIMTeamDomain.objects.get()
    assert stored.verified_at is None and stored.last_check_message == body["message"]
    assert SCIMTeamConfig.objects.get(team=team).domain_names() == set()


def test_a_recheck_without_the_record_withdraws_the_verification(team, owner_client, fake_dns):
    claim = _add(owner_client)
    fake_dns.records[claim["txt_name"]] = [claim["txt_value"]]
    assert _check(owner_client)["verified"] is True

    del fake_dns.records[claim["txt_name"]]

    assert _check(owner_client)["verified"] is False
    assert SCIMTeamDomain.objects.get().verified_at is None


def test_a_dns_error_on_recheck_keeps_the_verification(team, owner_client, fake_dns):
    claim = _add(owner_client)
    fake_dns.records[claim["txt_name"]] = [claim["txt_value"]]
    _check(owner_client)
    fake_dns.records[claim["txt_name"]] = dns.exception.Timeout

    body = _check(owner_client)

    assert body["verified"] is True and "did not answer" in body["message"]
    assert SCIMTeamDomain.objects.get().verified_at is not None


def test_another_teams_value_proves_nothing(team, other_team, owner_client, fake_dns):
    acme = _add(owner_client)
    globex_owner = logged_in(member_of(other_team, "owner"))
    _add(globex_owner, "acme.example", slug="globex")
    fake_dns.records[acme["txt_name"]] = [acme["txt_value"]]

    assert _check(globex_owner, slug="globex")["verified"] is False
    assert _check(owner_client)["verified"] is True


def test_another_teams_manager_cannot_see_check_or_remove_the_domains(
    team, other_team, owner_client, fake_dns
):
    _add(owner_client)
    outsider = logged_in(member_of(other_team, "owner"))

    assert outsider.post(api("domains/acme.example/check/")).status_code == 404
    assert outsider.post(api("domains/acme.example/remove/")).status_code == 404
    assert outsider.get(api()).status_code == 404
    assert SCIMTeamDomain.objects.get().last_checked_at is None


def test_a_plain_member_cannot_add_a_domain(team):
    response = logged_in(member_of(team)).post(
        api("domains/"), {"domain": "acme.example"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert not SCIMTeamDomain.objects.exists()


def test_removing_a_domain(team, owner_client):
    _add(owner_client)

    assert owner_client.post(api("domains/acme.example/remove/")).json() == {"removed": 1}
    assert owner_client.post(api("domains/acme.example/remove/")).status_code == 404
    assert not SCIMTeamDomain.objects.exists()


def test_the_status_lists_the_domains(team, owner_client):
    claim = _add(owner_client)

    assert owner_client.get(api()).json()["domains"] == [claim]


# --- what a verified domain changes ---------------------------------------------------


@pytest.fixture
def verified(team, owner_client, fake_dns):
    claim = _add(owner_client)
    fake_dns.records[claim["txt_name"]] = [claim["txt_value"]]
    assert _check(owner_client)["verified"] is True


def test_a_proven_domain_bounds_what_the_idp_may_create(verified, idp):
    response = idp.post("/Users", {"userName": "ceo@globex.example"})

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"
    assert "acme.example" in response.json()["detail"]
    assert idp.post("/Users", {"userName": "ada@acme.example"}).status_code == 201


def test_a_proven_domain_lets_the_login_follow_a_rename_inside_it(verified, idp):
    ada = idp.post("/Users", {"userName": "ada@acme.example"}).json()

    idp.patch(
        f"/Users/{ada['id']}",
        patch_op({"op": "replace", "path": "userName", "value": "ada.l@acme.example"}),
    )

    assert SCIMUser.objects.get(pk=ada["id"]).user.email == "ada.l@acme.example"


def test_a_pending_domain_changes_nothing(team, owner_client, idp):
    _add(owner_client)

    assert idp.post("/Users", {"userName": "someone@elsewhere.example"}).status_code == 201


def test_staff_set_and_proven_domains_count_together(team, verified, idp):
    SCIMTeamConfig.objects.filter(team=team).update(verified_domains=["acme.test"])

    assert idp.post("/Users", {"userName": "a@acme.test"}).status_code == 201
    assert idp.post("/Users", {"userName": "b@acme.example"}).status_code == 201
    assert idp.post("/Users", {"userName": "c@globex.example"}).status_code == 400


# --- the team page and the admin page --------------------------------------------------


def test_the_team_page_flow(team, owner_client, fake_dns):
    page = "/teams/acme/scim/"
    owner_client.post(page, {"action": "add_domain", "domain": "acme.example"})
    claim = SCIMTeamDomain.objects.get()
    assert claim.txt_value in owner_client.get(page).content.decode()

    failed = owner_client.post(
        page, {"action": "check_domain", "domain": "acme.example"}, follow=True
    )
    assert "No TXT record found" in failed.content.decode()
    fake_dns.records[claim.txt_name] = [claim.txt_value]
    passed = owner_client.post(
        page, {"action": "check_domain", "domain": "acme.example"}, follow=True
    )

    assert "acme.example is verified." in passed.content.decode()
    assert SCIMTeamDomain.objects.get().verified_at is not None


def test_the_team_page_refuses_an_invalid_domain(team, owner_client):
    response = owner_client.post("/teams/acme/scim/", {"action": "add_domain", "domain": "nope"})

    assert response.status_code == 400
    assert "is not a domain name" in response.content.decode()


@pytest.fixture
def staff_client():
    staff = UserFactory(is_staff=True, is_superuser=True)
    return logged_in(staff), staff


def test_staff_add_check_and_verify_directly_in_the_admin(team, staff_client, fake_dns):
    client, staff = staff_client
    url = reverse("admin:scim_provisioning_scimteamconfig_scim", args=[team.pk])

    client.post(url, {"action": "add_domain", "domain": "acme.example"})
    claim = SCIMTeamDomain.objects.get()
    page = client.get(url).content.decode()
    assert 'id="scim-domains"' in page and claim.txt_value in page
    checked = client.post(url, {"action": "check_domain", "domain": "acme.example"}, follow=True)
    assert "No TXT record found" in checked.content.decode()
    client.post(url, {"action": "verify_domain", "domain": "acme.example"})

    claim.refresh_from_db()
    assert claim.verified_by == staff and claim.verified_at is not None
    assert SCIMTeamConfig.objects.get(team=team).domain_names() == {"acme.example"}


def test_a_team_owner_is_not_let_into_the_admin_domain_actions(team, owner_client):
    url = reverse("admin:scim_provisioning_scimteamconfig_scim", args=[team.pk])

    response = owner_client.post(url, {"action": "verify_domain", "domain": "acme.example"})

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not SCIMTeamDomain.objects.exists()
    assert Membership.objects.filter(team=team, role="owner").exists()
