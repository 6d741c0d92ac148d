"""The team role a person's IdP groups and ``roles`` give them, written onto the host.

One rule for both sources, on the role of the membership
(``MEMBERSHIP_ROLE_FIELD``, of any type: see :mod:`~scim_provisioning.role_values`).
The team's mappings read as one list, ``group_roles`` (group displayName →
role) then ``user_roles`` (a value of the user's ``roles`` → role), names and
values compared case-insensitively: a person gets the first listed role that
one of their groups or role values grants, and one granted none falls back to
the default role (``MEMBERSHIP_DEFAULTS``, else the field's default). Groups
and role values that no mapping names grant nothing.

What it never does:

- change a role nobody maps (an owner's);
- change the role of a membership that existed before SCIM first linked the
  account to the team (DESIGN promise 6; remembered per team and account,
  :class:`~scim_provisioning.models.SCIMMemberBeforeSCIM`, so a DELETE and a
  new POST do not launder it);
- take the manager role from the team's last active SCIM manager (a 409).

It runs here, not in the adapter, so that a host overriding the adapter's
``group_members_changed`` or ``user_roles_changed`` (told afterwards) cannot
lose the mapping or the last-manager rule by not calling ``super()``. Roles are
written through the host's model (``save()`` per row, see
:mod:`~scim_provisioning.host_rows`): its guards and receivers run, and a
guard's refusal is a 409 with its message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from .. import timeline
from ..adapters import DefaultAdapter, get_adapter, locked
from ..conf import app_settings
from ..exceptions import Conflict
from ..host_rows import saves_need_the_model
from ..models import SCIMGroupMembership, SCIMTeamConfig, SCIMUser, SCIMUserValue
from ..role_values import RoleField, default_role, manager_roles, role_field
from ..scope import TeamScope
from .refusals import host_refusals

logger = logging.getLogger("scim_provisioning")


def mappings_in_use(config: SCIMTeamConfig) -> bool:
    """Whether the team maps groups or ``roles`` onto roles (else nothing here runs)."""
    return bool(app_settings.MEMBERSHIP_ROLE_FIELD and (config.group_roles or config.user_roles))


def apply_team_roles(config: SCIMTeamConfig, user_ids: Iterable[Any]) -> None:
    """Grant these SCIM users (ids of SCIMUser) the team role their groups and ``roles`` give.

    A fixed number of statements whatever the number of users: a read per
    mapping in use, one of the people and one of the roles they hold (plus the
    managers, locked, when someone may be demoted; plus the role rows, for a
    role of a related model), then one UPDATE per role, or, when the host's
    membership model has a ``save()`` or save receivers of its own, one read of
    the rows that change and a ``save()`` of each; and the timeline's INSERT of
    the roles that changed.
    """
    adapter = get_adapter()
    field = role_field(adapter.memberships().model) if mappings_in_use(config) else None
    if field is None:
        return
    group_roles = _mapping(field, config.group_roles)
    user_roles = _mapping(field, config.user_roles)
    scope = config.scope
    people = _newcomers(scope, user_ids)
    if not people or not (group_roles or user_roles):
        return
    records = [person.scim_user_id for person, _ in people.values()]

    default = default_role(field)
    ranking = list(dict.fromkeys([*group_roles.values(), *user_roles.values()]))
    managed = list(dict.fromkeys([*ranking, *([] if default is None else [default])]))
    grants: list[tuple[Any, Any]] = []
    if group_roles:
        grants += [
            (account_id, group_roles[name])
            for account_id, name in SCIMGroupMembership.objects.filter(
                scope.q("group__"), user_id__in=records
            )
            .annotate(group_name=Lower("group__display_name"))
            .filter(group_name__in=list(group_roles))
            .values_list("user__user_id", "group_name")
        ]
    if user_roles:
        # SCIMUserValue holds each role value lower-cased (roles are not caseExact).
        grants += [
            (account_id, user_roles[value])
            for account_id, value in SCIMUserValue.objects.filter(
                user_id__in=records, attribute="roles", value__in=list(user_roles)
            ).values_list("user__user_id", "value")
        ]
    granted: dict[Any, Any] = {}
    for account_id, role in grants:  # the first listed role wins
        if account_id not in granted or ranking.index(role) < ranking.index(granted[account_id]):
            granted[account_id] = role
    by_role: dict[Any, list[Any]] = {}
    for account_id in people:
        given = granted.get(account_id, default)
        if given is not None:
            by_role.setdefault(given, []).append(account_id)
    if not by_role:
        return
    keep_a_manager_through_roles(adapter, scope, field, by_role, managed)
    user_column = f"{app_settings.MEMBERSHIP_USER_FIELD}_id"
    rows = adapter.team_memberships(scope.team_id)
    held = dict(  # the roles before: only a managed role changes, and the timeline says how
        rows.filter(**{f"{user_column}__in": list(people)}).values_list(user_column, field.lookup)
    )
    changes = [
        (account_id, held[account_id], role)
        for role, account_ids in by_role.items()
        for account_id in account_ids
        if account_id in held and held[account_id] in managed and held[account_id] != role
    ]
    if not changes:
        return
    _write(adapter, scope, field, changes, people, managed)
    timeline.record(
        timeline.role_entry(scope, people[account_id][0], old, new)
        for account_id, old, new in changes
    )


def keep_a_manager_through_roles(
    adapter: DefaultAdapter,
    scope: TeamScope,
    field: RoleField,
    by_role: dict[Any, list[Any]],
    managed: list[Any],
) -> None:
    """Refuse role changes that would demote the team's last active SCIM managers (a 409).

    Locks the team's active manager memberships in the order every lock of
    them takes (role, then row, as ``is_last_manager``), so two never deadlock.
    """
    managers_roles = manager_roles(field)
    demoting = {
        account
        for role, accounts in by_role.items()
        if role not in managers_roles
        for account in accounts
    }
    if not demoting or not managers_roles:
        return
    managers = list(
        adapter.locked_managers(scope.team_id).values_list(
            f"{app_settings.MEMBERSHIP_USER_FIELD}_id", field.lookup
        )
    )
    # Only a role the mappings manage is ever changed (an owner's stays).
    remaining = [a for a, role in managers if a not in demoting or role not in managed]
    if managers and not remaining:
        raise Conflict(
            "This change would take the manager role from the last active member who "
            "can manage this team's SCIM (its tokens and settings). Give another member "
            "that role on the site first."
        )


def _mapping(field: RoleField, mapping: Any) -> dict[str, Any]:
    """A team's mapping, keys lower-cased, roles as the field holds them, in its order.

    A role the field cannot hold is left out and logged: the admin and the team
    API refuse to store one, and ``check --database`` (E008) names those stored
    before the field changed.
    """
    folded = {}
    for key, role in (mapping or {}).items():
        try:
            folded[str(key).lower()] = field.clean(role)
        except ValidationError as error:
            logger.warning("SCIM role mapping %r ignored: %s", key, " ".join(error.messages))
    return folded


def _newcomers(scope: TeamScope, user_ids: Iterable[Any]) -> dict[Any, tuple[timeline.Person, str]]:
    """These SCIM users of the team by account, with their address, except members from
    before SCIM."""
    return {
        account_id: (timeline.Person(pk, user_name, account_id), email)
        for pk, user_name, account_id, email in scope.filter(SCIMUser.objects.all())
        .filter(pk__in=list(user_ids), membership_existed=False)
        .values_list("pk", "user_name", "user_id", "email")
    }


def _write(
    adapter: DefaultAdapter,
    scope: TeamScope,
    field: RoleField,
    changes: list[tuple[Any, Any, Any]],
    people: dict[Any, tuple[timeline.Person, str]],
    managed: list[Any],
) -> None:
    """Write the new roles: one UPDATE per role, or each row through the host's model."""
    assignable = field.values_for_rows({new for _, _, new in changes})
    missing = [new for _, _, new in changes if new not in assignable]
    if missing:
        raise Conflict(
            f"The team's role mappings name the role {missing[0]!r}, which {field.describe()} "
            "has no row for on this site. Ask the site's support to fix the mapping."
        )
    user_column = f"{app_settings.MEMBERSHIP_USER_FIELD}_id"
    rows = adapter.team_memberships(scope.team_id)
    by_account = {account_id: new for account_id, _, new in changes}
    if not saves_need_the_model(rows.model, [field.field.name]):
        by_role: dict[Any, list[Any]] = {}
        for account_id, new in by_account.items():
            by_role.setdefault(new, []).append(account_id)
        for new, account_ids in by_role.items():
            rows.filter(
                **{f"{user_column}__in": account_ids, f"{field.lookup}__in": managed}
            ).update(**{field.field.name: assignable[new]})
        return
    # Locked, and read again: a role the site changed meanwhile (to one nobody maps) stays.
    changing = locked(rows, field).filter(
        **{f"{user_column}__in": list(by_account), f"{field.lookup}__in": managed}
    )
    for membership in changing:
        account_id = getattr(membership, user_column)
        person, email = people[account_id]
        field.assign(membership, assignable[by_account[account_id]])
        with host_refusals(
            scope,
            email=email,
            user_name=person.user_name,
            resource_id=str(person.scim_user_id),
            user_id=account_id,
        ):
            membership.save(update_fields=[field.field.name])
