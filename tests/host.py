"""The host's membership rows, read through its settings: one helper for every test host.

The IdP conversation and tenant-isolation tests run against the example site
(a membership with an ``is_active`` flag) and against the hosts of
``tests/hosts/``: ``stock_user`` (stock ``auth.User``, a membership row only
while the person belongs), ``organizations`` (django-organizations, a boolean
``is_admin`` role) and ``seats`` (a role that is a foreign key, named by a
lookup such as ``role__name``). Their database assertions ask here, so the same
test holds on every shape.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from scim_provisioning.conf import app_settings


def _host_values(model: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as the model's fields: a lookup (``role__name``) becomes the related row."""
    fields = {}
    for name, value in values.items():
        field, _, rest = name.partition("__")
        if rest:
            related = model._meta.get_field(field).related_model
            value = related._default_manager.get(**{rest: value})
        fields[field] = value
    return fields


def _rows(team: Any, account: Any) -> Any:
    model = apps.get_model(app_settings.MEMBERSHIP_MODEL)
    account_id = getattr(account, "pk", account)
    return model._default_manager.filter(
        **{
            f"{app_settings.MEMBERSHIP_TEAM_FIELD}_id": team.pk,
            f"{app_settings.MEMBERSHIP_USER_FIELD}_id": account_id,
        }
    )


def seat(team: Any, account: Any) -> bool | None:
    """Whether ``account``'s membership of ``team`` is active; ``None`` when it has no row."""
    rows = list(_rows(team, account))
    assert len(rows) <= 1, rows
    if not rows:
        return None
    field = app_settings.MEMBERSHIP_ACTIVE_FIELD
    return True if field is None else getattr(rows[0], field)


def assert_seat(team: Any, account: Any, *, active: bool) -> None:
    """The account holds an active seat, or an inactive one (no row, on a host without a flag)."""
    if active or app_settings.MEMBERSHIP_ACTIVE_FIELD is not None:
        assert seat(team, account) is active
    else:
        assert seat(team, account) is None


def has_row(team: Any, account: Any) -> bool:
    """Whether any membership row (active or not) joins ``account`` to ``team``."""
    return seat(team, account) is not None


def seats(team: Any) -> int:
    """How many membership rows the team has, active or not."""
    model = apps.get_model(app_settings.MEMBERSHIP_MODEL)
    return model._default_manager.filter(
        **{f"{app_settings.MEMBERSHIP_TEAM_FIELD}_id": team.pk}
    ).count()


def give_seat(team: Any, account: Any, *, active: bool = True, **values: Any) -> None:
    """A membership the host made itself (before SCIM), with ``values`` (a role, say)."""
    model = apps.get_model(app_settings.MEMBERSHIP_MODEL)
    field = app_settings.MEMBERSHIP_ACTIVE_FIELD
    if field is None and not active:
        return
    fields = _host_values(model, {**app_settings.MEMBERSHIP_DEFAULTS, **values})
    if field is not None:
        fields[field] = active
    model._default_manager.get_or_create(
        **{
            f"{app_settings.MEMBERSHIP_TEAM_FIELD}_id": team.pk,
            f"{app_settings.MEMBERSHIP_USER_FIELD}_id": getattr(account, "pk", account),
        },
        defaults=fields,
    )


def role(team: Any, account: Any) -> Any:
    """The ``MEMBERSHIP_ROLE_FIELD`` of ``account``'s membership of ``team``, if it has a row
    (followed through a lookup such as ``role__name``)."""
    rows = list(_rows(team, account))
    assert len(rows) <= 1, rows
    if not rows:
        return None
    value = rows[0]
    for name in app_settings.MEMBERSHIP_ROLE_FIELD.split("__"):
        value = getattr(value, name)
    return value


def set_role(team: Any, account: Any, value: Any) -> None:
    """Give ``account``'s membership of ``team`` the role ``value``, as the site's owner would."""
    model = apps.get_model(app_settings.MEMBERSHIP_MODEL)
    _rows(team, account).update(**_host_values(model, {app_settings.MEMBERSHIP_ROLE_FIELD: value}))


def prove_mailbox(monkeypatch: Any, account: Any, email: str) -> None:
    """The person proved ``email`` on the site, as the host records such proof.

    Another team's IdP may link an account only then (DESIGN promise 6): since
    issue 21 an account a team's SCIM created, or that a team holds, proves
    nothing by having no password. Where the host has django-allauth, a verified
    address of the account; a host without it proves addresses its own way (its
    adapter's ``email_verified``), which ``monkeypatch`` stands in for.
    """
    account_id = getattr(account, "pk", account)
    if apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        # SCIM gives the accounts it creates an unverified address (issue 22): prove that one.
        if not EmailAddress.objects.filter(user_id=account_id, email__iexact=email).update(
            verified=True
        ):
            EmailAddress.objects.create(user_id=account_id, email=email, verified=True)
        return
    from scim_provisioning.adapters import get_adapter

    adapter = type(get_adapter())
    host_rule = adapter.email_verified

    def email_verified(self: Any, config: Any, user: Any, address: str) -> bool:
        proven = user.pk == account_id and address.lower() == email.lower()
        return proven or host_rule(self, config, user, address)

    monkeypatch.setattr(adapter, "email_verified", email_verified)
