"""Factories for host and SCIM state. Tests that speak SCIM create state through the API;
these are for what exists before the IdP arrives (teams, accounts, other teams' records)."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from example_project.teams.models import Membership, Team
from scim_provisioning.models import SCIMTeamConfig, SCIMUser


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class SCIMTeamConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SCIMTeamConfig

    team = factory.SubFactory(TeamFactory)
    enabled = True
    verified_domains = factory.LazyFunction(list)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.django.Password(None)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER
    is_active = True


class SCIMUserFactory(factory.django.DjangoModelFactory):
    """A person already provisioned in a team: account, active membership and SCIM record."""

    class Meta:
        model = SCIMUser
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    user_name = factory.LazyAttribute(lambda o: o.user.email)
    email = factory.LazyAttribute(lambda o: o.user.email.lower())
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    active = True
    created_account = True
    attributes = factory.LazyAttribute(
        lambda o: {
            "name": {"givenName": o.user.first_name, "familyName": o.user.last_name},
            "emails": [{"value": o.user.email, "type": "work", "primary": True}],
            "displayName": f"{o.user.first_name} {o.user.last_name}",
        }
    )

    @factory.post_generation
    def values(self, create, extracted, **kwargs):
        if create:
            self.write_values(replace=False)

    @factory.post_generation
    def membership(self, create, extracted, **kwargs):
        if create:
            Membership.objects.get_or_create(
                team=self.team, user=self.user, defaults={"is_active": self.active}
            )
