"""Adapters that exercise the hooks a host can override."""

from scim_provisioning.adapters import DefaultAdapter


class DeletingAdapter(DefaultAdapter):
    """A host whose accounts belong to one team only: SCIM DELETE removes the account."""

    def should_delete_account(self, config, user, record):
        return True


class OneTeamAccountsAdapter(DefaultAdapter):
    """A host that deletes an account on SCIM DELETE only when SCIM created it and no
    other team holds it: the hook sees the account, the team and the record."""

    def should_delete_account(self, config, user, record):
        others = self.memberships().filter(user=user).exclude(team_id=config.team_id)
        return record.created_account and record.team_id == config.team_id and not others.exists()
