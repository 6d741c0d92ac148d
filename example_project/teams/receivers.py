"""The example site listens to scim_provisioning's signals to keep its seat count."""

from django.dispatch import receiver

from scim_provisioning import signals

from .models import Membership, Team


@receiver(signals.user_provisioned)
@receiver(signals.user_deactivated)
@receiver(signals.user_reactivated)
@receiver(signals.user_deprovisioned)
def recount_seats(sender, event, **kwargs):
    """Seats follow the IdP: recount the team's active members after each change.

    A recount, not an increment: it stays right whatever else changes a
    membership (the admin, a failed request), and on the (team, is_active)
    index it is one index-only count.
    """
    seats = Membership.objects.filter(team_id=event.team_id, is_active=True).count()
    Team.objects.filter(pk=event.team_id).update(seats_used=seats)
