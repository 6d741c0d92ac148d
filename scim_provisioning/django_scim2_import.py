"""Moving a site off django-scim2 without re-provisioning anyone.

A site on django-scim2 keeps its SCIM state on the host's user model, through
``django_scim.models.AbstractSCIMUserMixin``: ``scim_id`` (the host primary key
as text, which the IdP stored as the person's SCIM ``id``), ``scim_external_id``
and ``scim_username`` (what the IdP sent as ``externalId`` and ``userName``).
:func:`import_django_scim2_users` gives a team's members the SCIM records of
this app, so that after the switch:

- the IdP's lookups (``userName eq``, ``externalId eq``) find the people it
  provisioned, and it neither creates them twice nor loses them;
- the ids it stored keep resolving, *within this team only*: the old
  ``scim_id`` becomes the record's ``legacy_id`` (unique per team), which
  ``/Users/{id}`` consults when ``{id}`` is not one of this app's UUIDs.

Nothing on the host changes (no account, no membership); no signal is sent.
The import is idempotent: an account that already has a record in the team is
left as it is. Records are created as *not managed* by the team
(``created_account=False``): the accounts existed before this app, so SCIM
will not change their login email (DESIGN promise 6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.functions import Lower

from .adapters import get_adapter
from .conf import app_settings
from .exceptions import SCIMError
from .models import SCIMUser
from .resources.documents import Document
from .resources.users import state_from_document
from .scope import TeamScope
from .urns import USER_SCHEMA_URN

#: The django-scim2 user fields this import reads.
SCIM_ID, EXTERNAL_ID, USER_NAME = "scim_id", "scim_external_id", "scim_username"

__all__ = [
    "DjangoSCIM2NotInUse",
    "ImportPlan",
    "PlannedRecord",
    "import_django_scim2_users",
]


class DjangoSCIM2NotInUse(Exception):
    """django-scim2 is not installed, or the user model is not built on its mixin."""


@dataclass(frozen=True)
class PlannedRecord:
    """One SCIM record the import creates for a member of the team."""

    account_pk: Any
    user_name: str
    external_id: str | None
    legacy_id: str | None
    active: bool


@dataclass
class ImportPlan:
    """What an import does (dry run) or did (``applied``) for one team."""

    to_create: list[PlannedRecord] = field(default_factory=list)
    #: Accounts that already have a SCIM record in the team: left unchanged.
    existing: list[str] = field(default_factory=list)
    #: ``(account, reason)`` for the members not imported.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    applied: bool = False

    def summary(self) -> str:
        """One line for the operator."""
        verb = "created" if self.applied else "to create"
        return (
            f"{len(self.to_create)} SCIM user(s) {verb}, {len(self.existing)} already there, "
            f"{len(self.skipped)} skipped"
        )


def _require_django_scim2_user_model() -> type[Any]:
    try:
        from django_scim.models import AbstractSCIMUserMixin
    except ImportError as exc:
        raise DjangoSCIM2NotInUse(
            "django-scim2 is not installed: pip install 'django-scim-provisioning[django-scim2]'."
        ) from exc
    user_model = get_user_model()
    if not issubclass(user_model, AbstractSCIMUserMixin):
        raise DjangoSCIM2NotInUse(
            f"{user_model._meta.label} is not built on django-scim2's AbstractSCIMUserMixin: "
            "there is no django-scim2 state to import."
        )
    return user_model


def _team_members(team: Any) -> dict[Any, bool]:
    """``{account pk: membership active}`` for every member of ``team``, active or not.

    Read through the default adapter's memberships: deactivated members are
    imported too (as ``active: false``), since the IdP knows them. With no
    active field (``MEMBERSHIP_ACTIVE_FIELD = None``) every row is an active member.
    """
    rows = get_adapter().team_memberships(team.pk)
    user_column = f"{app_settings.MEMBERSHIP_USER_FIELD}_id"
    active_field = app_settings.MEMBERSHIP_ACTIVE_FIELD
    if active_field is None:
        return dict.fromkeys(rows.values_list(user_column, flat=True), True)
    return {pk: bool(active) for pk, active in rows.values_list(user_column, active_field)}


def _document(account: Any, email_field: str, user_name: str) -> Document:
    """The SCIM User document the IdP would have sent, from the account's fields."""
    document: Document = {"schemas": [USER_SCHEMA_URN], "userName": user_name}
    email = (getattr(account, email_field, "") or "").strip()
    if email:
        document["emails"] = [{"value": email, "type": "work", "primary": True}]
    name = {
        key: value
        for key, value in (
            ("givenName", getattr(account, "first_name", "")),
            ("familyName", getattr(account, "last_name", "")),
        )
        if value
    }
    if name:
        document["name"] = name
    return document


def import_django_scim2_users(team: Any, *, apply: bool = False) -> ImportPlan:
    """Plan, and with ``apply`` create, SCIM records for ``team``'s django-scim2 members.

    A member is imported when django-scim2 holds an IdP identity for them
    (``scim_username`` or ``scim_external_id``); the others were never
    provisioned through it and have nothing for the IdP to find. ``userName``
    is ``scim_username`` (else the account's username); a second member with
    the same ``userName`` (case-insensitively) or ``scim_id`` in the team is
    skipped, with its reason. ``apply`` writes every record in one transaction.

    Raises :class:`DjangoSCIM2NotInUse` when the host has no django-scim2 state.
    """
    user_model = _require_django_scim2_user_model()
    email_field = user_model.get_email_field_name()
    members = _team_members(team)
    records = TeamScope.of(team).filter(SCIMUser.objects.all())
    linked = set(records.values_list("user_id", flat=True))
    taken_names = set(records.annotate(folded=Lower("user_name")).values_list("folded", flat=True))
    taken_ids = set(records.exclude(legacy_id=None).values_list("legacy_id", flat=True))

    plan = ImportPlan()
    documents: dict[Any, Document] = {}
    accounts = user_model._default_manager.filter(pk__in=list(members)).order_by("pk")
    for account in accounts:
        label = str(account.get_username())
        if account.pk in linked:
            plan.existing.append(label)
            continue
        user_name = (getattr(account, USER_NAME) or "").strip()
        external_id = (getattr(account, EXTERNAL_ID) or "").strip() or None
        if not user_name and not external_id:
            plan.skipped.append((label, "never provisioned through django-scim2"))
            continue
        user_name = user_name or label
        legacy_id = (getattr(account, SCIM_ID) or "").strip() or None
        if user_name.lower() in taken_names:
            plan.skipped.append((label, f"userName '{user_name}' is taken in this team"))
            continue
        if legacy_id is not None and legacy_id in taken_ids:
            plan.skipped.append((label, f"scim_id '{legacy_id}' is taken in this team"))
            continue
        document = _document(account, email_field, user_name)
        try:
            state_from_document(document)
        except SCIMError as exc:
            plan.skipped.append((label, str(exc.detail)))
            continue
        taken_names.add(user_name.lower())
        if legacy_id is not None:
            taken_ids.add(legacy_id)
        documents[account.pk] = document
        plan.to_create.append(
            PlannedRecord(
                account_pk=account.pk,
                user_name=user_name,
                external_id=external_id,
                legacy_id=legacy_id,
                active=members[account.pk],
            )
        )
    if apply:
        _create(team, plan.to_create, documents)
        plan.applied = True
    return plan


def _create(team: Any, planned: list[PlannedRecord], documents: dict[Any, Document]) -> None:
    """Write the planned records; the per-team unique constraints back the plan."""
    with transaction.atomic():
        for item in planned:
            state = state_from_document(documents[item.account_pk])
            record = SCIMUser.objects.create(
                team_id=team.pk,
                user_id=item.account_pk,
                user_name=state.user_name,
                external_id=item.external_id,
                legacy_id=item.legacy_id,
                email=state.email,
                attributes=state.attributes,
                active=item.active,
                created_account=False,
            )
            record.write_values(replace=False)
