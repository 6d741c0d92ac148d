"""Users: SCIM documents applied to records, accounts and seats.

Deprovisioning loses nothing (DESIGN promise 4): ``active: false`` switches
the team membership off and keeps every record; ``DELETE`` removes the
membership and the SCIM record and keeps the host account.

No account takeover (promise 6): a team's IdP controls the team's seats and
gains control over an account only with proof.

- The login email moves only by the login rule of :mod:`.logins` (this team
  alone manages the account, the new address is inside its verified domains,
  and the current login is one it gave inside a domain verified at that
  moment, or nobody ever used the account); otherwise the SCIM record follows
  the IdP and the login stays.
- An existing account is linked only when its owner proved the mailbox (the
  adapter's ``email_verified``) or it holds an *active* membership of this
  team; staff and superusers never (``may_provision``); and never a manager
  membership the site deactivated, which SCIM would turn back on. A refusal
  is a 409 ``uniqueness`` that changes nothing and is recorded
  (SCIMLinkRefusal) for the team's managers to see.
- A person takes a seat only if the host's adapter gives them one
  (``claim_seat``, asked on create and reactivation): a refusal is a 400
  ``invalidValue`` with the host's message that changes nothing and is
  recorded like a refused link.
- A team always keeps a manager: no request deactivates or removes the last
  active membership that can manage its SCIM (the adapter's
  ``is_last_manager``; a 409). A membership that existed before SCIM first
  linked the account keeps its role whatever groups or ``roles`` say
  (``membership_existed``, remembered per team and account in
  ``SCIMMemberBeforeSCIM`` so that a DELETE and a new POST keep it).
- The host's rules hold (promise 3): the adapter's ``may_remove_membership``
  and the membership model's own guards may refuse a deactivation or a
  removal; a refusal is a 409 with the host's message, recorded for the team's
  managers (``HostRefused``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import IntegrityError
from django.db.models import OuterRef, Q
from django.db.models.functions import Lower
from rest_framework.exceptions import PermissionDenied

from .. import guard, signals, timeline
from ..adapters import get_adapter
from ..authentication import DISABLED, Acting, confirmed, unchecked
from ..conf import app_settings
from ..emails import is_valid_email
from ..exceptions import (
    Conflict,
    HostRefused,
    InvalidValue,
    LinkRefused,
    ManagerRefused,
    SeatRefused,
    Uniqueness,
)
from ..models import (
    HeldChangeKind,
    SCIMGroupMembership,
    SCIMLinkRefusal,
    SCIMLinkRefusalReason,
    SCIMMemberBeforeSCIM,
    SCIMTeamConfig,
    SCIMUser,
    SCIMUserValue,
)
from ..reads import (
    USER_RECORD_INSERT,
    USER_RECORD_SAVE,
    Delete,
    Found,
    Question,
    Update,
    before_create,
    delete_receivers,
)
from ..resources.documents import Document
from ..resources.users import UserState, state_from_document
from ..scope import TeamScope
from ..signals import EventType, SCIMEvent
from . import extension, held
from .common import RunAgain, insert_unique
from .logins import login_domain_given, move_login
from .refusals import clear_refusals, host_refusals
from .roles import apply_team_roles

logger = logging.getLogger("scim_provisioning")


def team_users(scope: TeamScope) -> Any:
    """Every SCIM user of the team: the scope every user query starts from."""
    return scope.filter(SCIMUser.objects.all())


def _check_email(config: SCIMTeamConfig, email: str, domains: set[str]) -> None:
    """Refuse an address that is none, or outside the team's verified ``domains`` (if any)."""
    _check_address(email)
    _check_domain(config, email, domains)


def _check_address(email: str) -> None:
    """Refuse an address that is none, or not one address (before any query uses it)."""
    if not email:
        raise InvalidValue(
            "An email address is required: send 'emails' or a 'userName' that is an email address."
        )
    if not is_valid_email(email):
        raise InvalidValue(f"'{email}' is not an email address.")


def _check_domain(config: SCIMTeamConfig, email: str, domains: set[str]) -> None:
    """Refuse an address outside the team's verified ``domains`` (if any)."""
    if not config.allows_email(email, domains):
        raise InvalidValue(
            f"'{email}' is outside this team's verified email domains "
            f"({', '.join(sorted(domains))}). Verify the domain on the team's SCIM page, "
            "or ask the site's support to add it."
        )


def _before_create(acting: Acting, email: str) -> tuple[SCIMTeamConfig, set[str], bool]:
    """What a create must know before it writes, in one read (:func:`~..reads.before_create`):
    the team's config, its verified domains, and whether ``email`` has a refusal to
    clear once the person is seated.

    A token not checked yet is checked in that read, which brings the team's config
    (issue 27: the token's full lookup is not run); a token no longer valid is a 401
    or 403 before anything is written. The domains bound what the IdP may create
    (DESIGN promise 6); a refusal (a link or a seat refused before) is the rare case,
    so its DELETE is spent only when there is one. The userName is not read here:
    the unique constraint decides it when the record is inserted
    (:func:`.common.insert_unique`).
    """
    scope, digest = unchecked(acting)
    read = before_create(scope.team_id, email, digest)
    config = confirmed(acting, read)
    if not read.found:  # the team itself is gone (its tokens with it)
        raise PermissionDenied(DISABLED)
    return config, config.staff_domains() | read.proven_domains, read.refused


def _check_user_name_free(config: SCIMTeamConfig, user_name: str, record: SCIMUser | None) -> None:
    taken = (
        team_users(config.scope)
        .alias(user_name_ci=Lower("user_name"))
        .filter(user_name_ci=user_name.lower())
    )
    if record is not None:
        taken = taken.exclude(pk=record.pk)
    if taken.exists():
        raise Uniqueness(f"A user with userName '{user_name}' already exists in this team.")


def _resolve_manager(
    config: SCIMTeamConfig, manager_id: str | None, record: SCIMUser | None
) -> uuid.UUID | None:
    """The id of the manager a document names, checked to be another user of this team."""
    if manager_id is None:
        return None
    if record is not None and str(record.manager_id) == str(manager_id).lower():
        return record.manager_id  # unchanged: no lookup needed to validate it again
    try:
        key = uuid.UUID(str(manager_id))
    except ValueError:
        key = None
    if key is None or not team_users(config.scope).filter(pk=key).exists():
        raise InvalidValue(f"The manager '{manager_id}' is not a user of this team.")
    if record is not None and key == record.pk:
        raise InvalidValue("A user cannot be their own manager.")
    return key


def _write(record: SCIMUser, state: UserState, manager_id: uuid.UUID | None) -> None:
    record.user_name = state.user_name
    record.external_id = state.external_id
    record.email = state.email
    record.attributes = state.attributes
    record.manager_id = manager_id
    if state.active is not None:
        record.active = state.active


def _check_may_link(
    adapter: Any, config: SCIMTeamConfig, account: Any, email: str, user_name: str
) -> bool:
    """Refuse to link the team's new record to an existing ``account`` it may not claim.

    Returns whether the account already holds a membership of the team (active
    or not): its role stays the team's.
    """
    # Two teams linking one account at once take turns: the second sees the first.
    adapter.lock_account(config, account)
    # One read: a record of this account, or of this userName (an IdP's retry of
    # a create is both), before the rules below could refuse anything else.
    folded = user_name.lower()
    taken = list(
        team_users(config.scope)
        .annotate(user_name_ci=Lower("user_name"))
        .filter(Q(user=account) | Q(user_name_ci=folded))
        .values_list("user_name_ci", flat=True)
    )
    if folded in taken:
        raise Uniqueness(_USER_NAME_TAKEN.format(user_name=user_name))
    if taken:
        raise Uniqueness(f"'{email}' is already provisioned in this team under another userName.")
    if not adapter.may_provision(config, account):
        raise LinkRefused(
            f"'{email}' belongs to a staff account of this site, which an IdP cannot "
            "provision. Unassign it in the IdP, or ask the site's support.",
            team_id=config.team_id,
            email=email,
            reason=SCIMLinkRefusalReason.STAFF,
        )
    membership = adapter.team_membership(config, account)
    if membership is not None and membership.active:
        return True  # the team's own person: no proof needed
    if not adapter.email_verified(config, account, email):
        raise LinkRefused(
            f"An account with '{email}' already exists on this site and its owner has not "
            "verified that address, so this team's IdP cannot link to it. Ask the person "
            "to verify the address on the site (or to join the team there), then retry.",
            team_id=config.team_id,
            email=email,
            reason=SCIMLinkRefusalReason.UNVERIFIED,
        )
    if membership is not None and membership.manager:
        raise LinkRefused(
            _DEACTIVATED_MANAGER.format(email=email),
            team_id=config.team_id,
            email=email,
            reason=SCIMLinkRefusalReason.DEACTIVATED,
        )
    return membership is not None


_USER_NAME_TAKEN = "A user with userName '{user_name}' already exists in this team."

# SCIM never turns a manager the site deactivated back on (DESIGN promise 6), and
# does not hand them the default role instead either, which would rewrite the role
# the site gave them: a team manager decides on the site, then the IdP's retry goes through.
_DEACTIVATED_MANAGER = (
    "'{email}' holds a manager role in this team that the site deactivated, and SCIM "
    "does not turn a manager back on. Ask one of the team's managers to reactivate them "
    "on the site (or to change their role), then retry."
)


def _note_who_deactivates(adapter: Any, config: SCIMTeamConfig, record: SCIMUser) -> None:
    """Before the record's ``active`` changes: remember whether the site switched the
    membership off first, and refuse a reactivation that would switch a manager it
    deactivated back on (:class:`ManagerRefused`, recorded like a refused link)."""
    if record.active:
        membership = adapter.team_membership(config, record.user)
        record.deactivated_by_site = membership is not None and not membership.active
    elif record.deactivated_by_site:
        membership = adapter.team_membership(config, record.user)
        if membership is not None and not membership.active and membership.manager:
            raise ManagerRefused(
                _DEACTIVATED_MANAGER.format(email=record.email),
                team_id=config.team_id,
                email=record.email,
                reason=SCIMLinkRefusalReason.DEACTIVATED,
                user_name=record.user_name,
                resource_id=str(record.pk),
                user_id=record.user_id,
            )
        record.deactivated_by_site = False


def _keep_a_manager(adapter: Any, config: SCIMTeamConfig, account: Any) -> None:
    """Refuse to deactivate or remove the team's last membership that can manage its SCIM."""
    if adapter.is_last_manager(config, account):
        raise Conflict(
            "This user is the last active member who can manage this team's SCIM "
            "(its tokens and settings): deactivating or removing them would leave "
            "nobody to do so. Give another member that role on the site first."
        )


def _check_may_remove(
    adapter: Any, config: SCIMTeamConfig, account: Any, record: SCIMUser, *, creating: bool = False
) -> None:
    """Refuse to deactivate or remove a membership the team or the host must keep.

    The team's last manager (a 409), then the host's own word
    (``may_remove_membership``): its message is a :class:`HostRefused`, a 409
    recorded for the team's managers.
    """
    _keep_a_manager(adapter, config, account)
    refusal = adapter.may_remove_membership(config, account)
    if refusal is None:
        return
    raise HostRefused(str(refusal), **_who(config, record, account, creating=creating))


def _who(config: SCIMTeamConfig, record: SCIMUser, account: Any, *, creating: bool) -> Any:
    """Who a refusal is about, as :class:`~.exceptions.Refused` records them."""
    return {
        "team_id": config.team_id,
        "email": record.email,
        "reason": SCIMLinkRefusalReason.HOST,
        "user_name": record.user_name,
        # A refused create leaves no record and no new account behind.
        "resource_id": "" if creating else str(record.pk),
        "user_id": None if creating and record.created_account else account.pk,
    }


def _host_rules(
    config: SCIMTeamConfig, record: SCIMUser, account: Any, *, creating: bool = False
) -> Any:
    """A write to the host's membership: its model's refusal is a recorded 409 about ``record``."""
    who = _who(config, record, account, creating=creating)
    del who["reason"]
    return host_refusals(TeamScope(who.pop("team_id")), **who)


def _member_before_scim(config: SCIMTeamConfig, account: Any) -> bool:
    """Whether the account belonged to the team before its IdP first linked it (any record)."""
    return SCIMMemberBeforeSCIM.objects.filter(team_id=config.team_id, user=account).exists()


def _remember_member_before_scim(config: SCIMTeamConfig, account: Any) -> None:
    """Remember, per team and account, that the account was a member before SCIM linked it.

    Outlives the record: after a DELETE and a new POST the membership the IdP
    creates is SCIM's, but the person's role stays the team's (issue 21).
    """
    SCIMMemberBeforeSCIM.objects.bulk_create(
        [SCIMMemberBeforeSCIM(team_id=config.team_id, user=account)], ignore_conflicts=True
    )


def _claim_seat(
    adapter: Any, config: SCIMTeamConfig, account: Any, record: SCIMUser, *, creating: bool
) -> None:
    """Ask the adapter for the person's seat; its refusal is a :class:`SeatRefused`.

    Asked last, just before the membership is switched on: a host that takes
    the seat with an UPDATE of its team's row holds that row's lock from here
    to the commit, so the shorter the better.
    """
    refusal = adapter.claim_seat(config, account, record)
    if refusal is None:
        return
    raise SeatRefused(
        str(refusal),
        team_id=config.team_id,
        email=record.email,
        reason=SCIMLinkRefusalReason.SEAT,
        user_name=record.user_name,
        # A refused create leaves no record and no new account behind.
        resource_id="" if creating else str(record.pk),
        user_id=None if creating and record.created_account else account.pk,
    )


def create_user(acting: Acting, document: Document) -> SCIMUser:
    """POST /Users: link the person's existing account or create one, and seat them.

    ``acting``: the team's config, or the request's token guard when its token is
    not checked yet (checked by the create's first read, :func:`_before_create`).
    """
    state = state_from_document(document)
    _check_address(state.email)
    config, domains, refused = _before_create(acting, state.email)
    _check_domain(config, state.email, domains)
    manager_id = _resolve_manager(config, state.manager_id, None)
    adapter = get_adapter()

    record = SCIMUser(team_id=config.team_id, active=True)
    _write(record, state, manager_id)
    account = adapter.find_account(config, state.email)
    if account is None:
        try:
            account = adapter.create_account(config, state.email, record)
        except IntegrityError as exc:
            # A concurrent request (an IdP retry, another team's IdP) created the
            # account first: the write runs again and links to it like any existing
            # account. No savepoint spent on every create for this rare race (two
            # statements, issue 27): the whole write rolls back and runs once more.
            raise RunAgain from exc
        record.created_account = True
        record.login_domain = login_domain_given(state.email, domains)
    member = False
    if not record.created_account:
        member = _check_may_link(adapter, config, account, state.email, state.user_name)
        record.membership_existed = member or _member_before_scim(config, account)
        if not record.active:
            _check_may_remove(adapter, config, account, record, creating=True)
    record.user = account  # type: ignore[assignment]  # an AUTH_USER_MODEL instance
    # The userName's unique constraint decides (no read before): taken, the
    # write ends in a 409 and its transaction, account included, rolls back.
    insert_unique(USER_RECORD_INSERT, record, _USER_NAME_TAKEN.format(user_name=state.user_name))
    if member:
        _remember_member_before_scim(config, account)
    values = record.write_values(replace=False)
    if record.active:
        _claim_seat(adapter, config, account, record, creating=True)
    if refused:
        # Linked or seated now: whatever was refused before (a link, a seat) is no longer.
        clear_refusals(config.scope, state.email)
    extension.after_change(config, record, None, created=True)
    with _host_rules(config, record, account, creating=True):
        if record.created_account:
            adapter.create_membership(config, account, record.active)
        else:
            adapter.set_membership_active(config, account, record.active)
    timeline.record([timeline.created_entry(record)])
    if any(row.attribute == "roles" for row in values):  # what _role_keys reads
        _user_roles_changed(adapter, config, record, recreated=False)
    _send(EventType.USER_PROVISIONED, record)
    return record


def _adapter_for(config: SCIMTeamConfig, record: SCIMUser, locked: Found | None) -> Any:
    """The write's adapter, told the membership row its locked read brought, if it did."""
    adapter = get_adapter()
    if locked is not None and locked.host_row_read:
        adapter.membership_row_read(config, record.user, locked.host_row)
    return adapter


def update_user(
    config: SCIMTeamConfig, record: SCIMUser, document: Document, *, locked: Found | None = None
) -> SCIMUser:
    """PUT or PATCH /Users/{id}: ``document`` is the complete new state of the record.

    ``locked``: what the write's locked read brought with the record (the
    person's membership row, :meth:`~..adapters.DefaultAdapter.membership_with_record`).
    """
    state = state_from_document(document)
    domains: set[str] | None = None
    if state.email != record.email:
        domains = config.domain_names()
        _check_email(config, state.email, domains)
    if state.user_name.lower() != record.user_name.lower():
        _check_user_name_free(config, state.user_name, record)
    manager_id = _resolve_manager(config, state.manager_id, record)
    was_active, old_email, old_name = record.active, record.email, record.attributes.get("name")
    old_values = record.value_items()
    old_extension = extension.before_change(record)
    before = timeline.snapshot(record)
    adapter = _adapter_for(config, record, locked)
    if state.active is not None and state.active != was_active:
        _note_who_deactivates(adapter, config, record)
    # The IdP reactivates a person whose deactivation the guard holds: the hold
    # ends, and the membership, which never changed, needs no write.
    cancelled = bool(state.active and not was_active and record.deprovision_held)
    if cancelled:
        held.cancel(config.scope, record)
    _write(record, state, manager_id)
    record.touch()
    account = record.user
    if state.email != old_email or record.attributes.get("name") != old_name:
        # Before the record's UPDATE: a login moved sets the record's login_domain,
        # saved with the rest (issue 27: one UPDATE of the row, not two).
        _follow_on_account(adapter, config, record, account, state.email, domains)
    # No savepoint of its own: the userName was checked free above, so only a
    # concurrent request's commit can break a constraint here, and the write's
    # transaction turns that into a 409 after its rollback (writes.py). Compiled
    # once: the ORM's building of save()'s UPDATE was a sixth of a PATCH (issue 27).
    USER_RECORD_SAVE.run(record)
    new_values = record.value_items()
    if new_values != old_values:
        record.write_values()
    extension.after_change(config, record, old_extension, created=False)
    _send(EventType.USER_UPDATED, record)
    if record.active != was_active and not cancelled:
        if record.active:
            _claim_seat(adapter, config, account, record, creating=False)
            if locked is None or locked.may_have("refused") or record.email != old_email:
                clear_refusals(config.scope, record.email)
        else:
            _check_may_remove(adapter, config, account, record)
        if not record.active and _held(config, record, HeldChangeKind.DEACTIVATE):
            pass  # the membership stays until a manager releases the deactivation
        else:
            with _host_rules(config, record, account):
                adapter.set_membership_active(config, account, record.active)
            if record.active:
                _send(EventType.USER_REACTIVATED, record)
            else:
                _send(EventType.USER_DEACTIVATED, record)
    timeline.record(timeline.update_entries(record, before, was_active))
    roles = _role_keys(new_values)
    # A reactivation may have recreated the seat with the default role (no active
    # field: the row is the seat), which the person's groups and roles then set again.
    recreated = record.active and not was_active and app_settings.MEMBERSHIP_ACTIVE_FIELD is None
    if roles != _role_keys(old_values) or (roles and record.active and not was_active):
        _user_roles_changed(adapter, config, record, recreated=recreated)
    elif recreated and config.group_roles:
        apply_team_roles(config, [record.pk])
    return record


def _refusals_of_record() -> Any:
    return SCIMLinkRefusal.objects.filter(team_id=OuterRef("team_id"), email=OuterRef("email"))


#: What a PUT's and a PATCH's locked read asks (``ResourceType.asked_before_update``):
#: whether the person's address has a refusal, which a reactivation clears (its DELETE
#: spent only then, or when the same write changes the address: issue 27). As a create's
#: (:func:`_before_create`), read before the write; a refusal recorded meanwhile, after
#: another request's rollback, stays for the managers to see.
ASKED_BEFORE_UPDATE = (Question("refused", _refusals_of_record),)


def _follow_on_account(
    adapter: Any,
    config: SCIMTeamConfig,
    record: SCIMUser,
    account: Any,
    email: str,
    domains: set[str] | None,
) -> None:
    """Let the account follow the record's email and names, if this team alone manages it.

    The login moves only by the login rule (:mod:`.logins`); the SCIM record
    follows the IdP regardless. ``domains``: the team's verified domains, when
    the caller read them already. The caller saves ``record`` after (a moved
    login changes its ``login_domain``).
    """
    managed = adapter.is_managed_by_team(config, account, record)
    if managed:
        move_login(adapter, config, record, account, email, domains)
    adapter.update_account(config, account, record, managed=managed)


def _held(config: SCIMTeamConfig, record: SCIMUser, kind: HeldChangeKind) -> bool:
    """Whether the guard holds this deprovisioning of ``record`` (then recorded as held).

    A person whose membership the site switched off already loses nothing and
    is not counted; a held person's DELETE stays held (counted once).
    """
    if record.deprovision_held:
        held.hold(config.scope, record, kind)
        return True
    if record.deactivated_by_site or (kind == HeldChangeKind.DELETE and not record.active):
        return False
    inactive_already = 1 if kind == HeldChangeKind.DEACTIVATE else 0
    if guard.let_through(config, already_inactive=inactive_already):
        return False
    held.hold(config.scope, record, kind)
    return True


def delete_user(config: SCIMTeamConfig, record: SCIMUser, *, locked: Found | None = None) -> None:
    """DELETE /Users/{id}: the seat and the SCIM record go; the account stays.

    Beyond the team's deprovisioning guard only the record goes (the IdP sees
    the 404 of a deleted resource): the membership waits for a manager.
    ``locked``: as :func:`update_user`'s.
    """
    adapter = _adapter_for(config, record, locked)
    account = record.user
    _check_may_remove(adapter, config, account, record)
    if _held(config, record, HeldChangeKind.DELETE):
        _delete_record(record, locked)
        return
    delete_account = adapter.should_delete_account(config, account, record)
    with _host_rules(config, record, account):
        adapter.remove_membership(config, account)
    timeline.record([timeline.user_entry(record, timeline.TimelineAction.REMOVED)])
    event = _event(EventType.USER_DEPROVISIONED, record)
    _delete_record(record, locked)
    if delete_account:
        account.delete()
    signals.send_event(SCIMUser, event)


#: What pointing at a SCIM user goes with it: its values and group memberships
#: (CASCADE), and its reports' manager (SET_NULL). A test holds this to the models.
_GOES_WITH_A_USER = ("values", "group_memberships", "reports")


def _group_memberships_pointing() -> Any:
    return SCIMGroupMembership.objects.filter(user_id=OuterRef("pk"))


def _reports_pointing() -> Any:
    return SCIMUser.objects.filter(manager_id=OuterRef("pk"))


#: What a DELETE's locked read asks (``ResourceType.asked_before_delete``): whether the
#: person is in a group, whether they manage anyone. Most people neither, so those
#: statements are rarely spent (issue 27); nearly everyone has values (an email): their
#: DELETE is not asked about. The answers hold until the commit: a row that would point
#: at the record waits for its lock (PostgreSQL's foreign key check), SQLite's writers
#: take turns.
ASKED_BEFORE_DELETE = (
    Question("group_memberships", _group_memberships_pointing),
    Question("reports", _reports_pointing),
)


def _values_of(pk: Any) -> Any:
    return SCIMUserValue.objects.filter(user_id=pk)


def _group_memberships_of(pk: Any) -> Any:
    return SCIMGroupMembership.objects.filter(user_id=pk)


def _reports_of(pk: Any) -> Any:
    return SCIMUser.objects.filter(manager_id=pk), {"manager": None}


def _user_by_pk(pk: Any) -> Any:
    return SCIMUser.objects.filter(pk=pk)


_USER_PK = {"pk": SCIMUser._meta.pk}
_DELETE_VALUES = Delete(SCIMUserValue, _values_of, _USER_PK)
_DELETE_GROUP_MEMBERSHIPS = Delete(SCIMGroupMembership, _group_memberships_of, _USER_PK)
_CLEAR_MANAGER = Update(SCIMUser, _reports_of, _USER_PK)
_DELETE_USER = Delete(SCIMUser, _user_by_pk, _USER_PK, related_deleted_first=True)


def _delete_record(record: SCIMUser, locked: Found | None) -> None:
    """Delete the SCIM record as ``record.delete()`` does, by the same statements (its
    values, its group memberships, its reports' manager, the record), compiled once:
    ~1 ms of the ORM's collector less per DELETE (issue 27). ``locked``: the locked
    read, whose answers to :data:`ASKED_BEFORE_DELETE` spare the statements of what
    does not point at the record. A delete receiver of the record's
    model leaves it to ``record.delete()``, which asks none (compiled queries off, the
    ORM builds the same statements)."""
    if delete_receivers(SCIMUser):
        record.delete()
        return
    found = locked or Found(record)
    _DELETE_VALUES.run(pk=record.pk)
    if found.may_have("group_memberships"):
        _DELETE_GROUP_MEMBERSHIPS.run(pk=record.pk)
    if found.may_have("reports"):
        _CLEAR_MANAGER.run(pk=record.pk)
    _DELETE_USER.run(pk=record.pk)


def _event(action: EventType, record: SCIMUser) -> SCIMEvent:
    return SCIMEvent(
        action=action,
        team_id=record.team_id,
        resource_type="User",
        resource_id=str(record.pk),
        user_id=record.user_id,
        display=record.user_name,
    )


def _send(action: EventType, record: SCIMUser) -> None:
    signals.send_event(SCIMUser, _event(action, record))


def _role_keys(items: list[tuple[str, str, str, bool]]) -> set[str]:
    """The ``roles`` among a record's ``value_items()``: all that role mappings read."""
    return {value for attribute, _, value, _ in items if attribute == "roles"}


def _user_roles_changed(
    adapter: Any, config: SCIMTeamConfig, record: SCIMUser, *, recreated: bool
) -> None:
    """Apply the team's role mappings to the record's new ``roles``, then tell the adapter.

    In the write's transaction. Nothing to apply for a team without
    ``user_roles`` (no statement then), unless the seat was just recreated
    with the default role: its groups' role comes back.
    """
    if config.user_roles or (recreated and config.group_roles):
        apply_team_roles(config, [record.pk])
    adapter.user_roles_changed(config, [record.pk])


# -- held deprovisionings, released by a manager (:mod:`.held`) --------------------------


def deactivate_held(config: SCIMTeamConfig, record: SCIMUser) -> None:
    """Apply a held deactivation of ``record`` (locked, inactive already) as the IdP's
    request would have: the last manager and the host's rules, the membership, the
    timeline, ``user_deactivated``."""
    adapter = get_adapter()
    account = record.user
    _check_may_remove(adapter, config, account, record)
    with _host_rules(config, record, account):
        adapter.set_membership_active(config, account, False)
    record.deprovision_held = False
    record.save(update_fields=["deprovision_held"])
    timeline.record([timeline.user_entry(record, timeline.TimelineAction.DEACTIVATED)])
    _send(EventType.USER_DEACTIVATED, record)


def delete_held(config: SCIMTeamConfig, change: Any, record: SCIMUser | None) -> None:
    """Apply a held DELETE: remove the membership of the record the IdP deleted.

    ``record`` is the SCIM record if it still exists (never, after a DELETE);
    the account is the held row's. A person the IdP provisioned again since
    (a new record of the team links the account) keeps the membership.
    """
    adapter = get_adapter()
    account = change.user
    if team_users(config.scope).filter(user=account).exists():
        return
    gone = record or SCIMUser(
        pk=change.scim_user_id,
        team_id=config.team_id,
        user=account,
        user_name=change.user_name,
        email=change.email,
        active=True,
    )
    _check_may_remove(adapter, config, account, gone)
    delete_account = adapter.should_delete_account(config, account, gone)
    with _host_rules(config, gone, account):
        adapter.remove_membership(config, account)
    timeline.record([timeline.user_entry(gone, timeline.TimelineAction.REMOVED)])
    event = _event(EventType.USER_DEPROVISIONED, gone)
    if delete_account:
        account.delete()
    signals.send_event(SCIMUser, event)
