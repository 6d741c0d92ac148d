"""The example site's SCIM adapter: the default one, with the team's seat limit.

A person takes a seat when SCIM switches their membership on (create, link,
reactivation) and only while the team has one free (``Team.max_seats``);
otherwise the IdP is told so, in words its admin can act on. Deactivation and
removal free the seat. The count (``Team.seats_used``) changes by one in the
request's own transaction (see :mod:`.seats`), so it stays exact and costs
the same at 100 members as at 100,000.
"""

from __future__ import annotations

from typing import Any

from scim_provisioning.adapters import DefaultAdapter
from scim_provisioning.conf import app_settings

from . import seats
from .models import Membership, Team


class TeamsAdapter(DefaultAdapter):
    """:class:`~scim_provisioning.adapters.DefaultAdapter`, counting and limiting seats."""

    def create_account(self, config: Any, email: str, record: Any) -> Any:
        """The default's new account, remembered: it holds no membership (:meth:`claim_seat`)."""
        user = super().create_account(config, email, record)
        # Per write: every write gets an adapter of its own (get_adapter).
        self.__dict__.setdefault("_new_accounts", set()).add(user.pk)
        return user

    def claim_seat(self, config: Any, user: Any, record: Any) -> str | None:
        # A person who holds a seat already (the team's own, linked; or switched
        # back on in the admin before the IdP reactivates them) takes none; anyone
        # else takes a free one, or is refused: one conditional UPDATE.
        if self._holds_seat(config, user) or seats.take(config.team_id):
            return None
        team = Team.objects.only("name", "max_seats").get(pk=config.team_id)
        return (
            f"The team '{team.name}' has no free seat: all {team.max_seats} are taken. "
            "Deactivate someone, or ask the site to raise the team's seat limit, then retry."
        )

    def set_membership_active(self, config: Any, user: Any, active: bool) -> None:
        """Switch the membership through its ``save()``; a seat switched off is counted there.

        A seat switched on was counted by :meth:`claim_seat` already
        (``count_seat=False``). Through the model, not a queryset ``update()``,
        so that the site's own rules and receivers run for SCIM as for its pages.
        The row is the one SCIM's rules read before (``membership_row``): not read twice.
        """
        membership = self.membership_row(config, user, for_write=True)
        if membership is None:
            self.create_membership(config, user, active)
        elif membership.is_active != active:
            membership.is_active = active
            membership.save(update_fields=["is_active"], count_seat=not active)

    def create_membership(self, config: Any, user: Any, active: bool) -> None:
        """Save the new membership of an account SCIM just created: it holds none (this
        site gives an account no membership of its own accord), so no look first.

        Its seat was counted by :meth:`claim_seat` already (``count_seat=False``).
        """
        defaults = app_settings.MEMBERSHIP_DEFAULTS
        membership = Membership(team_id=config.team_id, user=user, is_active=active, **defaults)
        membership.save(count_seat=False)

    def _holds_seat(self, config: Any, user: Any) -> bool:
        """Whether ``user`` holds an active membership of the team: no statement of its own.

        An account this write created holds none (this site gives an account no
        membership of its own accord). Any other's row is the one SCIM's link and
        reactivation rules read, and the change that follows saves
        (``membership_row``, read once per write): read here first, it is not
        read again. Not locked, like that row: the write locks the person's SCIM
        record, so two SCIM writes about them take turns.
        """
        if user.pk in self.__dict__.get("_new_accounts", ()):
            return False
        membership = self.membership_row(config, user)
        return membership is not None and membership.is_active
