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


class TeamRecordingAdapter(DefaultAdapter):
    """The default behaviour, recording which team each hook was given (DESIGN: every
    hook receives the team first) and, for the role hook, which records; a custom
    ``user_roles_changed`` is told of every change of ``roles``, mapped or not."""

    calls: list[tuple] = []  # reset by the tests that name this adapter

    def find_account(self, config, email):
        self.calls.append(("find_account", config.team_id, email))
        return super().find_account(config, email)

    def create_account(self, config, email, record):
        self.calls.append(("create_account", config.team_id, email))
        return super().create_account(config, email, record)

    def email_in_use(self, config, email, *, exclude):
        self.calls.append(("email_in_use", config.team_id, email))
        return super().email_in_use(config, email, exclude=exclude)

    def change_login_email(self, config, user, email):
        self.calls.append(("change_login_email", config.team_id, email))
        super().change_login_email(config, user, email)

    def update_account(self, config, user, record, *, managed):
        self.calls.append(("update_account", config.team_id, managed))
        super().update_account(config, user, record, managed=managed)

    def set_custom_attributes(self, config, user, values, *, managed):
        self.calls.append(("set_custom_attributes", config.team_id, values))
        super().set_custom_attributes(config, user, values, managed=managed)

    def claim_seat(self, config, user, record):
        self.calls.append(("claim_seat", config.team_id, user.pk, record.user_name))
        return super().claim_seat(config, user, record)

    def user_roles_changed(self, config, user_ids):
        self.calls.append(("user_roles_changed", config.team_id, [str(i) for i in user_ids]))
        super().user_roles_changed(config, user_ids)


class NeverManagedAdapter(DefaultAdapter):
    """A host that never counts an account as one team's alone: only the account a
    team's SCIM has just created is that team's to write (DESIGN promise 6)."""

    def is_managed_by_team(self, config, user, record):
        return False


class KeeperProtectingAdapter(DefaultAdapter):
    """A host that protects one member with its own words (``may_remove_membership``)."""

    def may_remove_membership(self, config, user):
        if user.email == "keeper@acme.com":
            return "The keeper stays in the team: ask the site's owner."
        return None


class GroupListeningAdapter(DefaultAdapter):
    """A host that listens to group changes without calling ``super()``: the role rule
    must not depend on it (it lived in the default hook)."""

    heard: list = []

    def group_members_changed(self, config, user_ids):
        type(self).heard = [str(pk) for pk in user_ids]


class MembershipBlindAdapter(DefaultAdapter):
    """A host whose link rule never counts a membership as proof (``team_membership``
    says none): the last-manager rule must not lean on that hook."""

    def team_membership(self, config, user):
        return None
