"""Adapters that exercise the hooks a host can override."""

from scim_provisioning.adapters import DefaultAdapter


class DeletingAdapter(DefaultAdapter):
    """A host whose accounts belong to one team only: SCIM DELETE removes the account."""

    def should_delete_account(self, config, user, record):
        return True
