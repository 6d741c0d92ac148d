"""Factories for host and SCIM state. Tests that speak SCIM create state through the API;
these are for what exists before the IdP arrives (teams, accounts, other teams' records)."""

from __future__ import annotations

import factory
from django.conf import settings
from django.contrib.auth import get_user_model

from scim_provisioning.models import SCIMTeamConfig, SCIMUser

from .host import give_seat


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = settings.SCIM_PROVISIONING_TEAM_MODEL  # the example's teams.Team, or a test host's
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

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """On a username-keyed user model (the stock ``auth.User``), the username is the email."""
        username = model_class.USERNAME_FIELD
        if username != model_class.get_email_field_name():
            kwargs.setdefault(username, kwargs["email"])
        return super()._create(model_class, *args, **kwargs)


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
            give_seat(self.team, self.user, active=self.active)
