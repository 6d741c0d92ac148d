"""The host adapter: the only code that touches the host's user and team models.

The app keeps its own SCIM records and asks the adapter, named by
``SCIM_PROVISIONING_ADAPTER``, to find or create accounts and to switch team
memberships. :class:`DefaultAdapter` fits three common shapes by settings alone:

- a membership row per (team, user) with a boolean active flag
  (``SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = "is_active"``, the default);
- a membership row that exists while the person belongs to the team
  (``SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = None``): deactivation deletes
  the row, reactivation recreates it with ``MEMBERSHIP_DEFAULTS``;
- Django's stock ``auth.User`` (username-keyed, email not unique): the username
  is the address, or a free variant of it (``ada@acme.com-2``) when another
  account already holds that username.

Hosts of another shape subclass it and override what differs.

The contract: every hook receives the team first, as its
:class:`~scim_provisioning.models.SCIMTeamConfig` (``config``), except the two
permission hooks asked by the team page and API, for a team that may not have
SCIM set up yet, which receive the team itself. The team's primary key is
``config.team_id``; ``config.team`` is the team (one query).

The safety rules of DESIGN promise 6 ask the adapter, so a host can adapt
them to its own shape:

- ``email_verified(config, user, email)``: whether an existing account's owner
  proved the mailbox, before SCIM links the account to a team;
- ``may_provision(config, user)``: never staff or superusers, by default;
- ``team_membership(config, user)``: the team's own people (an *active*
  membership) are linked without further proof and keep the role the team
  gave them; a membership the site deactivated is no proof, and one with a
  manager role is never turned back on;
- ``held_by_other_team(config, user)``: another team's membership or SCIM
  record makes a password-less account no proof and the account not this
  team's alone;
- ``account_unused(config, user)``: an account nobody ever used may have its
  login moved by the team whose SCIM created it;
- ``is_last_manager(config, user)``: no SCIM request removes a team's last
  member who can manage its SCIM.

And two for the host's own policy: ``claim_seat(config, user, record)`` gives
the person a seat or refuses one with a message the IdP's admin reads (a seat
limit, say); ``may_remove_membership(config, user)`` lets a deactivation or a
removal happen or refuses it with a message (a 409).

DESIGN promise 3, the host's rules hold: the default hooks change memberships
through the host's model (``save()``/``delete()`` per row, see
:mod:`~scim_provisioning.host_rows`), so its guards and receivers run, and a
guard's refusal is a 409 with its message. The role (``MEMBERSHIP_ROLE_FIELD``)
may be of any field type (:mod:`~scim_provisioning.role_values`); the rule that
maps groups and ``roles`` onto it is the app's
(``provisioning/roles.py``), not a hook's: ``group_members_changed`` and
``user_roles_changed`` are told after it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Exists, F, Q, Value
from django.db.models.functions import Upper
from django.utils.module_loading import import_string

from . import host_rows
from .allauth_addresses import record_new_account_address, record_primary_address
from .conf import app_settings
from .emails import email_spellings
from .reads import HostRow, Read
from .role_values import RoleField, manager_roles, role_field, split_defaults

if TYPE_CHECKING:
    from .models import SCIMTeamConfig, SCIMUser

Team = models.Model
"""The host's team model (``SCIM_PROVISIONING_TEAM_MODEL``): any Django model."""

#: The role of a row :meth:`DefaultAdapter.membership_row` read, as ``MEMBERSHIP_ROLE_FIELD``
#: names it (``role__name`` through a join, in the row's own query).
_ROLE = "_scim_role"

# Numbered variants tried before random ones when an address is taken as a username.
_NUMBERED_USERNAMES = 9
_RANDOM_USERNAMES = 3


@dataclass(frozen=True)
class TeamMembership:
    """A person's membership of one team, as SCIM's link rules read it (``team_membership``)."""

    active: bool
    """Whether the person uses the team now; ``False``: the site (or SCIM) deactivated it."""
    manager: bool
    """Whether its role is one of ``MANAGER_ROLES`` (may manage the team's SCIM)."""


class DefaultAdapter:
    """Accounts keyed by email; memberships of the shape the ``MEMBERSHIP_*`` settings name."""

    # -- accounts -----------------------------------------------------------------------

    @property
    def user_model(self) -> type[AbstractBaseUser]:
        return get_user_model()

    @property
    def email_field(self) -> str:
        return self.user_model.get_email_field_name()

    def find_account(self, config: SCIMTeamConfig, email: str) -> AbstractBaseUser | None:
        """The host account whose email is ``email`` (case-insensitively), if any."""
        if len(email_spellings(email)) == 1:  # every create asks: compiled once
            found = _account_by_email(self.user_model, self.email_field).all(email=email)
            return found[0] if found else None
        return self._accounts_with_email(email).order_by("pk").first()

    def _accounts_with_email(self, email: str) -> models.QuerySet[Any]:
        """Accounts whose email is ``email``, compared as ``UPPER(email) = UPPER(%s)``.

        What ``__iexact`` means on PostgreSQL, written out so that every database
        can use an index on ``Upper(email)``, which hosts should have (the example
        site does): SQLite runs ``__iexact`` as a ``LIKE`` that no index serves,
        a scan of every account on each create (40 ms at 100,000 accounts, 0.4 ms
        on the index). Both sides are upper-cased in SQL: the database's idea of
        case, not Python's.
        """
        accounts = self.user_model._default_manager.alias(_scim_email_upper=Upper(self.email_field))
        spellings = email_spellings(email)  # an IDN domain as ASCII, and as the host may hold it
        if len(spellings) == 1:
            return accounts.filter(_scim_email_upper=Upper(Value(email)))
        return accounts.filter(_scim_email_upper__in=[Upper(Value(s)) for s in spellings])

    def create_account(
        self, config: SCIMTeamConfig, email: str, record: SCIMUser
    ) -> AbstractBaseUser:
        """A new account for a person provisioned by SCIM; it has no usable password.

        On a username-keyed user model (the stock ``auth.User``) the username is
        the address, or a free variant of it when another account already holds
        that username (see :meth:`_save_with_username`). On a django-allauth site
        the address is also the account's primary, unverified ``EmailAddress``
        (:mod:`~.allauth_addresses` says why unverified).
        """
        user = self.user_model(**{self.email_field: email})
        self._copy_profile(user, record)
        _set_unusable_password(user)
        if self._username_field == self.email_field:
            user.save()
        else:
            self._save_with_username(user, email)
        record_new_account_address(user, email)
        return user

    def update_account(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, record: SCIMUser, *, managed: bool
    ) -> None:
        """Follow the SCIM record's profile on the account, when the team alone manages it.

        An account that belongs to other teams too, or that existed before this
        team's IdP linked to it, is the person's own: SCIM leaves it alone.
        """
        if not managed:
            return
        if self._copy_profile(user, record):
            user.save(update_fields=["first_name", "last_name"])  # type: ignore[misc]

    def set_custom_attributes(
        self,
        config: SCIMTeamConfig,
        user: AbstractBaseUser,
        values: dict[str, Any],
        *,
        managed: bool,
    ) -> None:
        """Copy the host extension's values (``SCIM_PROVISIONING_USER_EXTENSION``) onto the account.

        Called after each write that changes them, with every declared attribute
        by name (``None``: no value, clear the field). The default sets each
        attribute's ``field`` on the user model, when the team alone manages the
        account (``managed``), as :meth:`update_account` does for names; a
        ``dateTime`` onto a ``DateField`` keeps its date. A field that cannot be
        empty (``null=False``, not text) keeps its value when the attribute has
        none: clearing it would be an ``IntegrityError``, a 500 the IdP retries.
        Override to store them elsewhere (a profile model, another service).
        """
        from .schemas import user_extension

        custom = user_extension()
        if custom is None:
            return
        fields = {}
        for name, field_name in custom.fields.items():
            if not field_name:
                continue
            field = user._meta.get_field(field_name)
            value = _field_value(field, values.get(name))
            _check_fits(field, value, f"{custom.urn}:{name}")
            fields[field_name] = (field, value)
        if not managed:
            return  # checked all the same: whether a value is refused never depends on who
        changed = []
        for field_name, (field, value) in fields.items():
            if value is None and not field.null:
                continue
            if getattr(user, field_name) != value:
                setattr(user, field_name, value)
                changed.append(field_name)
        if changed:
            user.save(update_fields=changed)

    def change_login_email(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, email: str
    ) -> None:
        """Give a managed account a new login email (checked by the caller first).

        A username-keyed account takes the address as its username too, or a
        free variant of it, as on create.
        """
        setattr(user, self.email_field, email)
        if self._username_field == self.email_field:
            user.save(update_fields=[self.email_field])
        else:
            self._save_with_username(user, email, update_fields=[self.email_field])
        record_primary_address(user, email)

    def email_in_use(
        self, config: SCIMTeamConfig, email: str, *, exclude: AbstractBaseUser
    ) -> bool:
        """Whether another account already signs in with ``email``."""
        return self._accounts_with_email(email).exclude(pk=exclude.pk).exists()

    def is_managed_by_team(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, record: SCIMUser
    ) -> bool:
        """Whether the team alone manages the account (DESIGN promise 6).

        True only when this team's SCIM created the account and no other team
        holds it (:meth:`held_by_other_team`).
        """
        if not record.created_account:
            return False
        return not self.held_by_other_team(config, user)

    def held_by_other_team(self, config: SCIMTeamConfig, user: AbstractBaseUser) -> bool:
        """Whether a team other than ``config``'s holds the account: a membership of it
        (active or not), or its SCIM record of the person.

        The record counts on its own: on a host whose membership row exists only
        while the person belongs (``MEMBERSHIP_ACTIVE_FIELD = None``), another
        team's IdP that deactivated the person left no row, and still holds them.
        Such an account is not one team's alone (:meth:`is_managed_by_team`), and
        its having no password proves nothing to another team (:meth:`email_verified`).
        """
        if type(self).memberships is DefaultAdapter.memberships and app_settings.MEMBERSHIP_MODEL:
            # Every PUT that changes a name or an address asks: compiled once per shape.
            read = _held_elsewhere(
                self.user_model, self._membership_model(), self._user_field, self._team_field
            )
            return bool(read.rows(user=user.pk, team=config.team_id))
        return _account_held_elsewhere(
            self.user_model,
            self.memberships(),
            self._user_field,
            self._team_field,
            user.pk,
            config.team_id,
        ).exists()

    def account_unused(self, config: SCIMTeamConfig, user: AbstractBaseUser) -> bool:
        """Whether nobody has used the account yet: no usable password, never signed in.

        Asked before the team whose SCIM created the account moves its login out
        of an address it did not give inside a verified domain (issue 21: a team
        pre-creates someone's account, the person adopts it, the team moves the
        login and locks them out). Nobody who could be locked out: no password was
        ever set (the person would have proved the mailbox to set one), nobody
        signed in (``last_login``, which ``django.contrib.auth.login`` sets for
        every way of signing in), and, with django-allauth, no address of it was
        verified. Locks the account's row and reads it afresh, so that a password
        set by a concurrent reset is seen, not overwritten by the move.
        """
        fields = ["password", *(["last_login"] if hasattr(user, "last_login") else [])]
        fresh = (
            self.user_model._default_manager.select_for_update()
            .only(*fields)
            .filter(pk=user.pk)
            .first()
        )
        if fresh is None or fresh.has_usable_password():
            return False
        if getattr(fresh, "last_login", None) is not None:
            return False
        if apps.is_installed("allauth.account"):
            from allauth.account.models import EmailAddress

            return not EmailAddress.objects.filter(user=user, verified=True).exists()
        return True

    def lock_account(self, config: SCIMTeamConfig, user: AbstractBaseUser) -> None:
        """Lock the account's row until the write commits, before SCIM links it to the team.

        Two teams' IdPs linking one account at once then take turns: the second
        sees the first's membership and record (:meth:`held_by_other_team`), so a
        password-less account is never linked by two teams on the strength of
        nobody holding it (DESIGN promise 8: writes lock what they decide on).
        """
        list(self.user_model._default_manager.select_for_update().filter(pk=user.pk).values("pk"))

    def may_provision(self, config: SCIMTeamConfig, user: AbstractBaseUser) -> bool:
        """Whether the team of ``config`` may link its IdP to ``user``.

        Never staff or superusers by default (DESIGN promise 6): a team's IdP
        that could claim them could deactivate or rename the site's
        operators. A host whose internal team provisions its own staff
        overrides this, e.g. ``return config.team.slug == "staff" or super()...``.
        A refusal is a 409 ``uniqueness`` and changes nothing.
        """
        return not (getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))

    def email_verified(self, config: SCIMTeamConfig, user: AbstractBaseUser, email: str) -> bool:
        """Whether ``user``'s owner proved control of the mailbox ``email``.

        Linking an existing account to a team needs it (DESIGN promise 6):
        otherwise someone who signed up with ``victim@acme.example`` without
        proving the address would receive the seat acme's IdP provisions
        ("pre-account hijacking"). Proof, by default:

        - the account has no usable password (nobody ever set one: whoever signs
          in will have to prove the mailbox to reset it) and no other team holds
          it (:meth:`held_by_other_team`): another team's owner who signs in by
          other means, or an account another team's SCIM created, proves nothing
          by having no password (issue 21);
        - ``SCIM_PROVISIONING_TRUST_HOST_EMAILS`` says the host verifies every
          address at sign-up, for accounts that signed up: not one another
          team's SCIM created;
        - with django-allauth installed, a verified ``EmailAddress`` of this
          account for ``email``.

        An account with an active membership of the team is linked without
        asking (``team_membership``). Override for other proofs.
        """
        from .models import SCIMUser

        if not user.has_usable_password() and not self.held_by_other_team(config, user):
            return True
        if (
            app_settings.TRUST_HOST_EMAILS
            and not SCIMUser.objects.filter(user_id=user.pk, created_account=True)
            .exclude(team_id=config.team_id)
            .exists()
        ):
            return True
        if apps.is_installed("allauth.account"):
            from allauth.account.models import EmailAddress

            spelled = Q()
            for spelling in email_spellings(email):
                spelled |= Q(email__iexact=spelling)
            return EmailAddress.objects.filter(spelled, user=user, verified=True).exists()
        return False

    def should_delete_account(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, record: SCIMUser
    ) -> bool:
        """Whether a SCIM DELETE also deletes the host account. Never, by default."""
        return False

    # -- seats --------------------------------------------------------------------------

    def claim_seat(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, record: SCIMUser
    ) -> str | None:
        """Give ``user`` a seat of the team, or refuse: ``None`` seats them, a message refuses.

        Asked inside the write's transaction, just before SCIM makes the
        membership active: on create (a new or a linked account, ``active``
        not false) and on reactivation (``active`` false to true, by PUT, PATCH
        or /Bulk). Never asked for deactivation or removal, which free a seat
        and are never refused. A linked account may already hold an active
        membership (the team's own person): it has its seat; refuse it nothing.

        A refusal changes nothing: the IdP receives a 400 ``invalidValue``
        whose ``detail`` is the message (its admin reads it in the
        provisioning log, so say what to do: "… all 10 seats are taken; free
        one or ask the site for more"), the team's managers see it among the
        refused people, and ``signals.user_refused`` is sent. Write the message
        for the IdP's admin; it is shown as given (at most 500 characters kept).

        A host that counts seats takes one here, in the write's transaction,
        with a conditional UPDATE rather than a read then a write, so that two
        concurrent requests cannot both take the last seat::

            taken = Team.objects.filter(pk=config.team_id).filter(
                Q(max_seats=None) | Q(seats_used__lt=F("max_seats"))
            ).update(seats_used=F("seats_used") + 1)
            return None if taken else "All of the team's seats are taken."

        If the request fails afterwards, the transaction rolls the seat back
        with everything else. The default seats everyone.
        """
        return None

    # -- memberships --------------------------------------------------------------------

    def memberships(self) -> models.QuerySet[Any]:
        """Every team's membership rows: the queryset the other membership hooks filter.

        The default reads ``SCIM_PROVISIONING_MEMBERSHIP_MODEL``. An adapter that
        keeps memberships elsewhere overrides this (its rows still need the
        ``MEMBERSHIP_*_FIELD`` fields) or every membership hook (then system
        check E005 steps aside).
        """
        label = app_settings.MEMBERSHIP_MODEL
        if not label:
            raise ImproperlyConfigured(
                "Set SCIM_PROVISIONING_MEMBERSHIP_MODEL, or name an adapter that needs none."
            )
        return apps.get_model(label)._default_manager.all()

    def team_memberships(self, team_id: Any) -> models.QuerySet[Any]:
        """The team's membership rows, active or not (of :meth:`memberships`)."""
        return self.memberships().filter(**{f"{self._team_field}_id": team_id})

    def locked_managers(self, team_id: Any) -> models.QuerySet[Any]:
        """The team's active memberships whose role is one of ``MANAGER_ROLES``, locked.

        Ordered by role, then row: the order an index on (team, role) yields,
        so that the few managers are found there rather than by reading every
        member (the example site has that index: deactivating one of 100,000
        members costs what it costs in a team of ten). Every lock of the
        managers takes them in this order, so that two never deadlock. Empty
        without a role field or manager roles.
        """
        rows = self._active_rows(team_id)
        field = role_field(rows.model)
        roles = manager_roles(field) if field is not None else []
        if field is None or not roles:
            return rows.none()
        return (
            locked(rows, field)
            .filter(**{f"{field.lookup}__in": roles})
            .order_by(field.field.attname, "pk")  # role_id: no join to a role model
        )

    def set_membership_active(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, active: bool
    ) -> None:
        """Create or switch the (team, user) membership; the seat follows ``active``.

        With no active field (``MEMBERSHIP_ACTIVE_FIELD = None``) the row is the
        seat: deactivation deletes it, (re)activation creates it with
        ``MEMBERSHIP_DEFAULTS``. Through the host's model (``save()``,
        ``delete()``, see :mod:`~scim_provisioning.host_rows`), so that its
        guards and receivers run: a guard's refusal is a 409 with its message.
        The row the write's rules read already (:meth:`membership_row`) is not
        read again.
        """
        row = self.membership_row(config, user, for_write=True)
        active_field = self._active_field
        if active_field is None:
            if row is not None and not active:
                host_rows.delete_row(row)
            if row is not None or not active:
                return
            values: dict[str, Any] = {}
        else:
            if row is not None:
                host_rows.update_row(row, **{active_field: active})
                return
            values = {active_field: active}
        self._new_membership(config, user, values).save()

    def create_membership(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, active: bool
    ) -> None:
        """Give an account SCIM has just created (in this request) its membership of the team.

        Asked instead of :meth:`set_membership_active` when the create made the
        account, so a host that knows no membership can exist yet (nothing of
        its own creates one when an account is saved) may save the new row
        without looking for one first: one statement fewer per create. Through
        the host's model all the same (``save()``: its guards and receivers
        run). The default looks first (:meth:`set_membership_active`), which
        suits every host, including one whose receivers give a new account
        memberships.
        """
        self.set_membership_active(config, user, active)

    def remove_membership(self, config: SCIMTeamConfig, user: AbstractBaseUser) -> None:
        """Remove the person from the team (a SCIM DELETE), through the host's ``delete()``."""
        row = self.membership_row(config, user, for_write=True)
        if row is not None:
            host_rows.delete_row(row)

    def may_remove_membership(self, config: SCIMTeamConfig, user: AbstractBaseUser) -> str | None:
        """Let SCIM deactivate or remove ``user``'s membership, or refuse with a message.

        Asked before every deactivation (PUT, PATCH, /Bulk) and removal
        (DELETE), after the last-manager rule, in the write's transaction.
        ``None`` lets it happen; a message refuses: the IdP receives a 409 whose
        ``detail`` is the message (write it for the IdP's admin: "Ada owns the
        workspace; transfer ownership on the site first"), nothing changes, and
        the team's managers see the refusal (reason ``host``) with
        ``signals.user_refused`` sent. The host's model may refuse too, by
        raising one of ``MEMBERSHIP_GUARD_EXCEPTIONS`` (or a ``ValidationError``
        or ``PermissionDenied``) from ``save()``, ``delete()`` or a receiver: the
        same 409. The default lets every change happen.
        """
        return None

    def team_membership(
        self, config: SCIMTeamConfig, user: AbstractBaseUser
    ) -> TeamMembership | None:
        """``user``'s membership of the team of ``config``, as SCIM's link rules read it;
        ``None`` when they hold none.

        Asked before SCIM links an existing account (DESIGN promise 6). An
        *active* membership is the team's own person: linked without further
        proof. A membership the site deactivated is no proof (the mailbox must be
        proven like anyone's), and when it holds a manager role
        (``MANAGER_ROLES``) the link is refused: SCIM never turns a role the site
        took away back on. Either way the membership existed before SCIM, so the
        role stays the team's (``SCIMUser.membership_existed``). Read from
        :meth:`membership_row`: one query, shared with the change that follows.
        """
        return self._as_membership(self.membership_row(config, user))

    def _as_membership(self, row: models.Model | None) -> TeamMembership | None:
        """A row :meth:`membership_row` read, as the membership rules read it."""
        if row is None:
            return None
        active_field = self._active_field
        field = role_field(row.__class__)
        return TeamMembership(
            active=bool(getattr(row, active_field)) if active_field else True,
            manager=field is not None and getattr(row, _ROLE) in manager_roles(field),
        )

    def membership_row(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, *, for_write: bool = False
    ) -> models.Model | None:
        """``user``'s membership row of the team (an instance of the host's model), or ``None``.

        Read once per adapter: :func:`get_adapter` gives every write an adapter
        of its own, so the rules a write asks before it changes a membership
        (:meth:`team_membership`, :meth:`is_last_manager`) and the change itself
        (:meth:`set_membership_active`, :meth:`remove_membership`) read the row
        once between them (issue 27). ``for_write``: the caller is about to save
        or delete the row; a later call reads it afresh. Not locked: the write
        locks its SCIM record, and the managers when one of them leaves.
        """
        key = (config.team_id, user.pk)
        rows: dict[Any, Any] = self.__dict__.setdefault("_membership_rows", {})
        if key in rows:
            return rows.pop(key) if for_write else rows[key]
        brought: dict[Any, Any] = self.__dict__.get("_membership_rows_brought", {})
        if key in brought:  # read with the locked record (membership_row_read)
            row = brought.pop(key)
            if not for_write:
                rows[key] = row
                return row
        if self._memberships_by_settings():
            # Every deactivation and removal asks: compiled once per membership shape.
            read = _membership_by_team_and_user(
                self._membership_model(),
                self._team_field,
                self._user_field,
                app_settings.MEMBERSHIP_ROLE_FIELD,
            )
            found_rows = read.all(team=config.team_id, user=user.pk)
            row = found_rows[0] if found_rows else None
        else:
            row = _membership_rows(
                self.team_memberships(config.team_id), self._user_field, user.pk
            ).first()
        if not for_write:
            rows[key] = row
        return row

    def membership_with_record(self) -> HostRow | None:
        """How a write reads the person's membership row with the SCIM record it locks, or
        ``None`` to have :meth:`membership_row` read it with a query of its own.

        A deactivation or a removal asks for the row (the rules, then the change):
        read with the locked record, it costs no statement of its own (issue 27).
        The default gives the settings' row (the first of the team's rows of the
        account, with its role) while the adapter keeps :meth:`memberships`,
        :meth:`team_memberships` and :meth:`membership_row` as they are; an adapter
        overriding one of them reads its rows its own way, and so does one that
        returns ``None`` here.
        """
        cls = type(self)
        if not self._memberships_by_settings() or cls.membership_row is not (
            DefaultAdapter.membership_row
        ):
            return None
        return _membership_host_row(
            self._membership_model(),
            self._team_field,
            self._user_field,
            app_settings.MEMBERSHIP_ROLE_FIELD,
        )

    def membership_row_read(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, row: models.Model | None
    ) -> None:
        """The write's locked read brought ``user``'s membership row
        (:meth:`membership_with_record`).

        :meth:`membership_row` gives it to the rules a write asks first (as if it
        had read it then); a change no rule read the row for (a reactivation,
        after the host's ``claim_seat``) reads it afresh, as it always did.
        """
        brought: dict[Any, Any] = self.__dict__.setdefault("_membership_rows_brought", {})
        brought[(config.team_id, user.pk)] = row

    def _membership_model(self) -> type[models.Model]:
        model: type[models.Model] = apps.get_model(str(app_settings.MEMBERSHIP_MODEL))
        return model

    def _memberships_by_settings(self) -> bool:
        """Whether the membership rows are the ``MEMBERSHIP_*`` settings' alone: the adapter
        keeps :meth:`memberships` and :meth:`team_memberships` as they are here."""
        cls = type(self)
        return (
            cls.memberships is DefaultAdapter.memberships
            and cls.team_memberships is DefaultAdapter.team_memberships
            and bool(app_settings.MEMBERSHIP_MODEL)
        )

    def is_last_manager(self, config: SCIMTeamConfig, user: AbstractBaseUser) -> bool:
        """Whether ``user``'s membership is the last active one that can manage the team's SCIM.

        Asked before SCIM deactivates or removes a membership (DESIGN promise 6:
        no SCIM request leaves a team without someone who can revoke its
        tokens). Only an active manager can be the last one (their row, read
        once with the change: :meth:`membership_row`, not the link rule's
        overridable :meth:`team_membership`); for one, the default locks the
        team's active manager memberships (``MANAGER_ROLES``,
        :meth:`locked_managers`) so that two concurrent requests cannot each
        remove "the other" manager.
        """
        membership = self._as_membership(self.membership_row(config, user))
        if membership is None or not (membership.active and membership.manager):
            return False
        managers = list(
            self.locked_managers(config.team_id).values_list(f"{self._user_field}_id", flat=True)
        )
        return managers == [user.pk]

    def group_members_changed(self, config: SCIMTeamConfig, user_ids: Iterable[Any]) -> None:
        """Groups changed for these SCIM users (ids of SCIMUser): map groups onto the host.

        Told after the app applied the team's role mappings
        (``SCIMTeamConfig.group_roles`` and ``user_roles``, see
        ``provisioning/roles.py``), in the write's transaction: overriding it
        adds to them, never replaces them. The default does nothing more.
        """

    def user_roles_changed(self, config: SCIMTeamConfig, user_ids: Iterable[Any]) -> None:
        """The ``roles`` of these SCIM users (ids of SCIMUser) changed, or their seat was
        (re)created with some: map them onto the host.

        Told after the app applied the team's role mappings, as
        :meth:`group_members_changed`, in the transaction of the user's write: a
        refusal (raise a :class:`~scim_provisioning.exceptions.Conflict`) undoes
        the write. The default does nothing more.
        """

    # -- permissions (the team page and API; the team may have no SCIM config yet) ------

    def can_manage_scim(self, team: Team, user: AbstractBaseUser | Any) -> bool:
        """Whether ``user`` may manage ``team``'s SCIM: see the base URL, issue and revoke tokens.

        The default: an active membership of the team whose ``MEMBERSHIP_ROLE_FIELD``
        is one of ``MANAGER_ROLES`` (owner and admin). Being staff grants nothing here
        (staff have the admin); with no role field configured, nobody may.
        ``user`` may be anonymous (then: no).
        """
        if not app_settings.MEMBERSHIP_ROLE_FIELD:
            return False
        field = role_field(self.memberships().model)
        roles = manager_roles(field) if field is not None else []
        if field is None or not roles:
            return False
        return self.is_team_member(team, user, **{f"{field.lookup}__in": roles})

    def is_team_member(self, team: Team, user: AbstractBaseUser | Any, **conditions: Any) -> bool:
        """Whether ``user`` actively belongs to ``team`` (and meets ``conditions``).

        A member refused something about the team gets a 403; anyone else a
        404, so that the team's existence is not revealed. ``user`` may be
        anonymous (then: no).
        """
        if not getattr(user, "is_authenticated", False):
            return False
        return bool(
            self._active_rows(team.pk).filter(**{self._user_field: user}, **conditions).exists()
        )

    # -- internals ----------------------------------------------------------------------

    @property
    def _team_field(self) -> str:
        return app_settings.MEMBERSHIP_TEAM_FIELD

    @property
    def _user_field(self) -> str:
        return app_settings.MEMBERSHIP_USER_FIELD

    @property
    def _active_field(self) -> str | None:
        return app_settings.MEMBERSHIP_ACTIVE_FIELD

    @property
    def _username_field(self) -> str:
        # Declared by every user model, though not in AbstractBaseUser's stubs.
        username_field: str = getattr(self.user_model, "USERNAME_FIELD")  # noqa: B009
        return username_field

    def _max_length(self, field: str) -> int | None:
        max_length: int | None = getattr(self.user_model._meta.get_field(field), "max_length", None)
        return max_length

    def _new_membership(
        self, config: SCIMTeamConfig, user: AbstractBaseUser, values: dict[str, Any]
    ) -> models.Model:
        """An unsaved membership of the team: ``values``, ``MEMBERSHIP_DEFAULTS`` and the role.

        The default role is written as the role field holds it: the ``Role`` row
        named so, for a role of a related model (``role__name``).
        """
        model = self.memberships().model
        field = role_field(model)
        defaults, role = split_defaults(field)
        membership = model(
            **{
                f"{self._team_field}_id": config.team_id,
                self._user_field: user,
                **values,
                **defaults,
            }
        )
        if field is not None and role is not None:
            assignable = field.values_for_rows([role])
            if role not in assignable:
                from .exceptions import Conflict

                raise Conflict(
                    f"MEMBERSHIP_DEFAULTS gives new members the role {role!r}, which "
                    f"{field.describe()} has no row for on this site. Ask the site's support."
                )
            field.assign(membership, assignable[role])
        return membership

    def _active_rows(self, team_id: Any) -> models.QuerySet[Any]:
        """The team's active memberships: with no active field, every row is one."""
        rows = self.team_memberships(team_id)
        if self._active_field is None:
            return rows
        return rows.filter(**{self._active_field: True})

    def _save_with_username(
        self, user: AbstractBaseUser, email: str, update_fields: list[str] | None = None
    ) -> None:
        """Save ``user`` with the username ``email``, or a free variant when it is taken.

        On the stock ``auth.User`` the username is unique and the email is not:
        another account may already have the address as its username (it
        signed up with it, then changed its email). ``email-2`` … ``email-10``,
        then short random suffixes, each cut to the field's max_length. The
        unique constraint decides (a concurrent request may take a name
        between the read and the write): each attempt is a savepoint. None
        free: a 409, never a 500 that the IdP would retry forever.
        """
        field = self._username_field
        max_length = self._max_length(field) or len(email)
        candidates = [email[:max_length]]
        for number in range(2, _NUMBERED_USERNAMES + 2):
            suffix = f"-{number}"
            candidates.append(email[: max_length - len(suffix)] + suffix)
        for _ in range(_RANDOM_USERNAMES):
            suffix = f"-{secrets.token_hex(3)}"
            candidates.append(email[: max_length - len(suffix)] + suffix)
        taken = set(
            self.user_model._default_manager.filter(**{f"{field}__in": candidates})
            .exclude(pk=user.pk)
            .values_list(field, flat=True)
        )
        for candidate in candidates:
            if candidate in taken:
                continue
            setattr(user, field, candidate)
            try:
                with transaction.atomic():
                    user.save(update_fields=[*update_fields, field] if update_fields else None)
            except IntegrityError:
                if self._accounts_with_email(email).exclude(pk=user.pk).exists():
                    raise  # the address's own account appeared: the caller links to it
                continue
            return
        from .exceptions import Uniqueness

        raise Uniqueness(
            f"No free username derived from '{email}' is left on this site: ask the site's support."
        )

    def _copy_profile(self, user: AbstractBaseUser, record: SCIMUser) -> bool:
        """Copy given and family names onto fields the user model has; True if any changed."""
        name = record.attributes.get("name") or {}
        changed = False
        for field, value in (
            ("first_name", name.get("givenName")),
            ("last_name", name.get("familyName")),
        ):
            if value is None or not hasattr(user, field):
                continue
            max_length = self._max_length(field) or len(value)
            value = value[:max_length]
            if getattr(user, field) != value:
                setattr(user, field, value)
                changed = True
        return changed


def _check_fits(field: Any, value: Any, path: str) -> None:
    """A 400 ``invalidValue`` when text is longer than the host field holds.

    Checked before anything is saved (issue 21): PostgreSQL refuses it with a
    DataError (a 500 after the SCIM record was written) and SQLite stores it
    whole, past the host's own limit.
    """
    from .exceptions import InvalidValue

    limit = getattr(field, "max_length", None)
    if limit is not None and isinstance(value, str) and len(value) > limit:
        raise InvalidValue(f"'{path}' is longer than the {limit} characters this site stores.")


def _field_value(field: Any, value: Any) -> Any:
    """``value`` as the model ``field`` holds it: a date of a dateTime, ``""`` for none in text."""
    from .resources.values import parse_day, parse_moment

    if isinstance(field, models.DateTimeField):
        return parse_moment(value) if value is not None else None
    if isinstance(field, models.DateField):
        return parse_day(value) if value is not None else None
    if value is None and isinstance(field, (models.CharField, models.TextField)) and not field.null:
        return ""
    if isinstance(value, list) and not isinstance(field, models.JSONField):
        return ", ".join(str(item) for item in value)
    return value


MEMBERSHIP_HOOKS = (
    "memberships",
    "set_membership_active",
    "remove_membership",
    "team_membership",
    "held_by_other_team",
    "is_last_manager",
    "is_managed_by_team",
    "can_manage_scim",
    "is_team_member",
)
"""The hooks of :class:`DefaultAdapter` that read the ``MEMBERSHIP_*`` settings.

(``team_memberships``, ``membership_row`` and ``locked_managers`` read them too, for
these hooks and for the role rule, which runs only with ``MEMBERSHIP_ROLE_FIELD`` set.)"""


def locked(rows: models.QuerySet[Any], field: RoleField) -> models.QuerySet[Any]:
    """``rows`` read ``FOR UPDATE``, locking only the memberships, not their role rows.

    A role named through a related model (``role__name``) joins its table: a
    plain ``FOR UPDATE`` would lock the shared ``Role`` rows too, serialising
    every team's writes on them.
    """
    if field.through_related_rows and connections[rows.db].features.has_select_for_update_of:
        return rows.select_for_update(of=("self",))
    return rows.select_for_update()


@lru_cache(maxsize=8)
def _account_by_email(model: type[AbstractBaseUser], field: str) -> Read:
    """:meth:`DefaultAdapter.find_account`'s query for one spelling, compiled once per
    user model and email field (:mod:`.reads`): what ``_accounts_with_email`` runs."""

    def build(email: str) -> models.QuerySet[Any]:
        accounts = model._default_manager.alias(_scim_email_upper=Upper(field))
        return accounts.filter(_scim_email_upper=Upper(Value(email))).order_by("pk")[:1]

    email_field = model._meta.get_field(field)
    assert isinstance(email_field, models.Field)  # a concrete column, not a relation
    return Read(model, build, {"email": email_field})


def _membership_rows(
    rows: models.QuerySet[Any], user_field: str, user: Any
) -> models.QuerySet[Any]:
    """The rows of ``rows`` of the account ``user`` (a pk), with their role (``_scim_role``),
    first row first: what :meth:`DefaultAdapter.membership_row` reads."""
    found = rows.filter(**{f"{user_field}_id": user})
    field = role_field(found.model)
    if field is not None:
        found = found.annotate(**{_ROLE: F(field.lookup)})
    return found.order_by("pk")  # no Meta ordering: it joined the team and user


@lru_cache(maxsize=8)
def _membership_by_team_and_user(
    model: type[models.Model], team_field: str, user_field: str, role: str | None
) -> Read:
    """:meth:`DefaultAdapter.membership_row`'s query, compiled once per membership model,
    team and user fields and role field (``role``: only its key here, :func:`role_field`
    reads it), for an adapter whose rows are the settings' (:mod:`.reads`)."""

    def build(team: Any, user: Any) -> models.QuerySet[Any]:
        rows = model._default_manager.filter(**{f"{team_field}_id": team})
        return _membership_rows(rows, user_field, user)[:1]

    team = model._meta.get_field(team_field)
    user = model._meta.get_field(user_field)
    assert isinstance(team, models.Field) and isinstance(user, models.Field)
    return Read(model, build, {"team": team, "user": user})


def _account_held_elsewhere(
    user_model: type[AbstractBaseUser],
    memberships: models.QuerySet[Any],
    user_field: str,
    team_field: str,
    user: Any,
    team: Any,
) -> models.QuerySet[Any]:
    """The account's row if another team holds it (:meth:`DefaultAdapter.held_by_other_team`):
    one query, a membership of another team or another team's SCIM record of it."""
    from .models import SCIMUser

    elsewhere = memberships.filter(**{f"{user_field}_id": user}).exclude(
        **{f"{team_field}_id": team}
    )
    records = SCIMUser.objects.filter(user_id=user).exclude(team_id=team)
    return user_model._default_manager.filter(pk=user).filter(Exists(elsewhere) | Exists(records))


@lru_cache(maxsize=8)
def _held_elsewhere(
    user_model: type[AbstractBaseUser],
    membership_model: type[models.Model],
    user_field: str,
    team_field: str,
) -> Read:
    """:func:`_account_held_elsewhere` compiled once per account model and membership shape."""
    from .models import SCIMUser

    def build(user: Any, team: Any) -> models.QuerySet[Any]:
        rows = _account_held_elsewhere(
            user_model, membership_model._default_manager.all(), user_field, team_field, user, team
        )
        return rows.order_by().values_list("pk", flat=True)[:1]

    pk = user_model._meta.pk
    team = SCIMUser._meta.get_field("team")
    assert isinstance(pk, models.Field) and isinstance(team, models.Field)
    return Read(user_model, build, {"user": pk, "team": team})


@lru_cache(maxsize=8)
def _membership_host_row(
    model: type[models.Model], team_field: str, user_field: str, role: str | None
) -> HostRow:
    """:meth:`DefaultAdapter.membership_with_record`'s row: made once per shape (the locked
    read is compiled once per :class:`~.reads.HostRow`)."""

    def rows(team: Any, user: Any) -> models.QuerySet[Any]:
        return _membership_rows(
            model._default_manager.filter(**{f"{team_field}_id": team}), user_field, user
        )

    return HostRow(model, rows, (_ROLE,) if role_field(model) is not None else ())


def _set_unusable_password(user: AbstractBaseUser) -> None:
    """What Django's ``set_unusable_password()`` does, for a tenth of its cost.

    Django's is ``"!"`` and 40 characters of ``get_random_string`` (40
    ``secrets.choice`` calls, 3% of a create, issue 27); this is ``"!"`` and
    40 characters of ``secrets.token_urlsafe`` (240 random bits, Django's has
    238): ``is_password_usable`` refuses any password that starts with ``"!"``,
    and no two accounts get the same one. A user model with its own
    ``set_unusable_password`` keeps it: that is the host's rule.
    """
    if type(user).set_unusable_password is not AbstractBaseUser.set_unusable_password:
        user.set_unusable_password()
        return
    user.password = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


@lru_cache(maxsize=8)
def _adapter_class(path: str) -> type[DefaultAdapter]:
    adapter: type[DefaultAdapter] = import_string(path)
    return adapter


def get_adapter() -> DefaultAdapter:
    """A new instance of the adapter named by ``SCIM_PROVISIONING_ADAPTER``.

    New on every call: a write keeps its own, which remembers the membership
    row it read (:meth:`DefaultAdapter.membership_row`) for that write alone.
    """
    return _adapter_class(app_settings.ADAPTER)()
