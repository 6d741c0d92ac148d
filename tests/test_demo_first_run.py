"""The demo's first run (issue 24): its owners can sign in, and "Log in" lands somewhere real.

"Log in" led to /accounts/profile/, a 404, and the seeded owners had no password.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from example_project.teams.models import Membership

from .example_factories import MembershipFactory
from .factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parent.parent / "README.md"


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_prints_each_owners_sign_in_and_it_works():
    printed = dict(re.findall(r"^Owner of (\w+): (\S+ / \S+)$", _seed(), re.MULTILINE))

    assert set(printed) == {"acme", "globex"}
    email, password = printed["acme"].split(" / ")
    assert get_user_model().objects.get(email=email).check_password(password)


def test_the_readme_names_the_credentials_seed_demo_sets():
    email, password = re.search(r"^Owner of acme: (\S+) / (\S+)$", _seed(), re.M).groups()

    first_screen = README.read_text()[:2500]
    assert "make demo" in first_screen
    assert email in first_screen and password in first_screen


def test_seeding_again_gives_an_owner_without_a_password_the_demo_one():
    _seed()
    owner = get_user_model().objects.get(email="owner@acme.example")
    owner.set_unusable_password()
    owner.save()

    again = _seed()

    password = re.search(r"^Owner of acme: \S+ / (\S+)$", again, re.M).group(1)
    owner.refresh_from_db()
    assert owner.check_password(password)


def test_log_in_lands_the_owner_on_the_team_page():
    password = re.search(r"^Owner of acme: \S+ / (\S+)$", _seed(), re.M).group(1)

    response = Client().post(
        "/accounts/login/", {"username": "owner@acme.example", "password": password}, follow=True
    )

    assert response.redirect_chain[-1] == ("/teams/acme/scim/", 302)
    assert response.status_code == 200


def test_someone_managing_several_teams_or_none_lands_on_the_list_of_their_teams():
    several = UserFactory(email="both@example.com")
    for slug in ("one", "two"):
        MembershipFactory(team=TeamFactory(slug=slug), user=several, role=Membership.Role.OWNER)
    member = UserFactory(email="member@example.com")
    MembershipFactory(team=TeamFactory(slug="three"), user=member, role=Membership.Role.MEMBER)

    for user in (several, member):
        client = Client()
        client.force_login(user)
        response = client.get("/teams/")
        assert (response.status_code, response["Location"]) == (302, "/")
