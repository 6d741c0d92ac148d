"""Factories for the example site's own models, which other test hosts do not have.

``tests/factories.py`` stays importable on every host (``tests/hosts/``); these
need ``example_project.teams``.
"""

from __future__ import annotations

import factory

from example_project.teams.models import Membership

from .factories import TeamFactory, UserFactory


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER
    is_active = True
