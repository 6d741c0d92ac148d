"""Query plans that keep requests flat at 100,000 people, where the planner needs help.

SQLite plans without statistics unless someone runs ``ANALYZE``, which Django never
does: between two indexes it guesses. These tests read the plan of the queries
where it guessed wrong (seen in ``make bench``: POST /Groups naming 100 members
took 28 ms at 1,000 people and 86 ms at 100,000).
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from scim_provisioning.models import SCIMTeamConfig
from scim_provisioning.provisioning.users import team_users

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.ci_may_skip,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="a SQLite plan; PostgreSQL plans from statistics"
    ),
]


def test_members_named_by_id_are_found_by_team_and_id_not_by_walking_the_team(team):
    config = SCIMTeamConfig.objects.get(team=team)
    wanted = [uuid.uuid4() for _ in range(100)]

    plan = team_users(config.scope).filter(pk__in=wanted).values_list("pk", "user_name").explain()

    assert "(team_id=? AND id=?)" in plan, plan
