"""The team's seat count, kept by increments: one statement per change, whatever the team's size.

``Team.seats_used`` is the number of active memberships. It changes only here,
by an UPDATE of the team's row relative to itself, never by a recount (which
reads every membership: deactivating one of 100,000 members would scan them
all):

- :func:`take` is the one that may refuse: a conditional UPDATE that adds the
  seat only while one is free (``max_seats`` empty or above ``seats_used``).
  The database decides, not a read before the write, so two requests for the
  last seat cannot both get it: the second waits for the first's row lock
  and then finds no free seat. The SCIM adapter takes seats with it, once it
  knows the person holds none already (from the membership row it reads for
  the change anyway: see ``scim_adapter.TeamsAdapter.claim_seat``).
- :func:`add` and :func:`release` follow a change made elsewhere (the admin,
  a shell, a cascade), unconditionally: staff may go over the limit.

Every call runs in the caller's transaction: if it rolls back, the seat
count does too.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import F

from .models import Team


def take(team_id: Any) -> bool:
    """Take one of the team's seats if one is free; whether one was taken.

    One statement, written as SQL because it runs on every create and
    reactivation: the ORM spends 0.25 ms of Python building this UPDATE each
    time (0.72 ms when it also checked the person's membership in a NOT EXISTS),
    the database 0.01 ms running it.
    """
    return _update(
        "seats_used = seats_used + 1 WHERE id = %s"
        " AND (max_seats IS NULL OR seats_used < max_seats)",
        team_id,
    )


def add(team_id: Any) -> None:
    """Count one more active member, free seat or not."""
    Team.objects.filter(pk=team_id).update(seats_used=F("seats_used") + 1)


def release(team_id: Any) -> None:
    """Count one active member fewer (every deactivation and removal: SQL, as :func:`take`)."""
    _update("seats_used = seats_used - 1 WHERE id = %s AND seats_used > 0", team_id)


def _update(change: str, team_id: Any) -> bool:
    """``UPDATE`` the team's row by ``change`` (SQL after SET), in the caller's transaction."""
    sql = f"UPDATE {connection.ops.quote_name(Team._meta.db_table)} SET {change}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [team_id])
        return cursor.rowcount == 1


def recount(team_id: Any) -> int:
    """Set the count from the memberships themselves.

    For data written around the models (``bulk_create``, ``QuerySet.update``,
    raw SQL), which no increment follows. Reads every active membership.
    """
    from .models import Membership

    seats = Membership.objects.filter(team_id=team_id, is_active=True).count()
    Team.objects.filter(pk=team_id).update(seats_used=seats)
    return seats
