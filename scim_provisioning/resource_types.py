"""The resource types this server offers, each in one place.

A :class:`ResourceType` gathers what the generic views need for one SCIM
resource: its schemas, where its attributes live for filters and ``sortBy``,
how records become SCIM JSON, and what POST, PUT, PATCH and DELETE do.
``/ResourceTypes`` is published from :data:`RESOURCE_TYPES` too.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Lower

from . import reads
from .adapters import get_adapter
from .authentication import Acting, config_of
from .exceptions import NotFound
from .extension_values import filter_map, sort_map
from .filters import FilterField, FilterMap, MultiValued, SortMap
from .models import SCIMGroup, SCIMGroupMembership, SCIMTeamConfig, SCIMUser, SCIMUserValue
from .patch import PatchDocument
from .paths import Key, SchemaURNs
from .provisioning.groups import create_group, delete_group, team_groups, update_group
from .provisioning.members import MemberOperations, replacement
from .provisioning.users import (
    ASKED_BEFORE_DELETE,
    ASKED_BEFORE_UPDATE,
    create_user,
    delete_user,
    team_users,
    update_user,
)
from .reads import GroupRow
from .resources.documents import merge_documents
from .resources.groups import group_document, read_group_document
from .resources.projection import Selection
from .resources.representation import represent_groups, represent_users
from .resources.users import read_user_document, record_document
from .schemas import (
    ENTERPRISE_USER_SCHEMA_URN,
    GROUP_SCHEMA,
    USER_SCHEMA,
    Schema,
    user_extension,
    user_extensions,
)
from .scope import TeamScope

_ENTERPRISE = ENTERPRISE_USER_SCHEMA_URN.lower()
_META: dict[Key, FilterField] = {
    (None, "meta", "created"): FilterField("created", kind="datetime"),
    (None, "meta", "lastmodified"): FilterField("last_modified", kind="datetime"),
}
_META_SORTS: dict[Key, str] = {
    (None, "id", None): "pk",
    (None, "meta", "created"): "created",
    (None, "meta", "lastmodified"): "last_modified",
}
#: Neither ``attributes`` nor ``excludedAttributes``: what ``Selection.parse`` gives then.
_EVERY_ATTRIBUTE = Selection()


class ResourceType:
    """One SCIM resource type; subclasses say what each operation means."""

    name: str
    endpoint: str
    description: str
    schema: Schema
    extensions: tuple[Schema, ...] = ()
    filters: FilterMap
    sorts: SortMap
    #: Column holding ids another SCIM server gave these records, which an IdP may still
    #: send in ``/{type}/{id}`` (see :mod:`scim_provisioning.django_scim2_import`).
    legacy_id_field: str | None = None

    @property
    def schema_urns(self) -> SchemaURNs:
        """The schema URNs this type's attribute paths may start with."""
        return SchemaURNs(self.schema.id, tuple(e.id for e in self.extensions))

    def selection(self, attributes: Any, excluded: Any) -> Selection:
        if not attributes and not excluded:
            return _EVERY_ATTRIBUTE  # most requests: no schema's URNs to gather
        return Selection.parse(attributes, excluded, urns=self.schema_urns)

    #: The records' model (the team's rows of it are :meth:`queryset`).
    model: type[SCIMUser] | type[SCIMGroup]

    def queryset(self, scope: TeamScope) -> QuerySet:
        """The team's records: every query about this type starts here."""
        raise NotImplementedError

    def for_update(self, scope: TeamScope) -> QuerySet:
        """The team's records, locked for a read-modify-write."""
        return self.queryset(scope).select_for_update(of=("self",))

    def find(self, scope: TeamScope, pk: str, *, for_update: bool = False) -> Any:
        """The team's record whose id is ``pk``, else ``None``; ``for_update`` locks it.

        For what needs the record alone; a GET reads with :meth:`read`, a write
        locks with :meth:`lock`.
        """
        if for_update:
            return self.lock(scope, pk, linked=False).record
        return self.read(scope, pk, None).record

    def lock(
        self,
        scope: TeamScope,
        pk: str,
        *,
        linked: bool,
        token_digest: str | None = None,
        questions: tuple[reads.Question, ...] = (),
    ) -> reads.Found:
        """The team's record ``pk`` locked for a write.

        ``linked``: read what the write's answer links to in the same query
        (:attr:`~.reads.Found.groups`), for a write that answers with the record.
        With ``token_digest`` (a token not checked yet), the token is checked and
        the team's config read in the same query, as :meth:`read` checks it; the
        caller confirms it (:meth:`~.authentication.TokenGuard.confirm_write`).
        ``questions``: answered in the same query (:meth:`~.reads.Found.may_have`).
        A record found by its legacy id checks nothing (a rare path: the full
        check follows) and answers no question.
        """
        key = _uuid(pk)
        found = reads.Found(None)
        if key is not None:
            found = reads.locked_by_id(
                self,
                scope.team_id,
                key,
                linked=linked,
                host_row=self.host_row(),
                digest=token_digest,
                questions=questions,
            )
        if found.record is None and self.legacy_id_field is not None:
            found = reads.record_by_legacy_id(
                self, scope.team_id, pk, None, locked=True, linked=linked
            )
        return found

    def host_row(self) -> reads.HostRow | None:
        """The host's row a write reads with the record it locks (:class:`~.reads.HostRow`)."""
        return None

    #: What a PUT's or PATCH's locked read asks (:class:`~.reads.Question`): rows its
    #: write changes by a statement spent only when they exist.
    asked_before_update: tuple[reads.Question, ...] = ()
    #: What a DELETE's locked read asks, likewise.
    asked_before_delete: tuple[reads.Question, ...] = ()

    def read(self, scope: TeamScope, pk: str, token_digest: str | None) -> reads.Found:
        """The team's record whose id is ``pk``, as a :class:`~.reads.Found` (its record or None).

        ``pk`` is one of our UUIDs or, for a type with legacy ids, the id another
        SCIM server gave the record before the site moved here (django-scim2's
        ``scim_id``); both are looked up in the team's records only. With
        ``token_digest``, the token is checked in the same query (the caller
        confirms it with :class:`~.authentication.TokenGuard`).
        """
        key = _uuid(pk)
        # The common case, compiled once: our own id.
        found = reads.Found(None)
        if key is not None:
            found = reads.record_by_id(self, scope.team_id, key, token_digest)
        if found.record is None and self.legacy_id_field is not None:
            found = reads.record_by_legacy_id(self, scope.team_id, pk, token_digest, locked=False)
        return found

    def not_found(self, pk: str) -> NotFound:
        """The 404 of an id that names no record of the team, another team's included."""
        return NotFound(f"{self.name} {pk} not found.")

    def location(self, base_url: str, pk: Any) -> str:
        """The absolute URL of the record with SCIM id ``pk`` (``Location``, ``meta.location``)."""
        return f"{base_url}{self.endpoint}/{pk}"

    #: Whether a record's answer lists its groups: a read of one or a few records reads
    #: them in its own query (:mod:`.reads`).
    links_groups = False

    def represent(
        self,
        records: list[Any],
        base_url: str,
        selection: Selection,
        *,
        groups: Mapping[Any, tuple[GroupRow, ...]] | None = None,
    ) -> list[dict]:
        """SCIM JSON of ``records``, in a fixed number of queries whatever their number.

        ``groups``: each user's groups by id, when a read brought them (:class:`~.reads.Found`,
        :class:`~.reads.Page`); read here otherwise.
        """
        raise NotImplementedError

    def create(self, acting: Acting, body: Any) -> Any:
        """A new record of ``acting``'s team from ``body``, in the caller's transaction; a
        token not checked yet is checked before anything is written (a 401 or 403)."""
        raise NotImplementedError

    def replace(
        self, config: SCIMTeamConfig, record: Any, body: Any, *, locked: reads.Found | None = None
    ) -> Any:
        """``locked``: what the write's locked read brought with ``record``."""
        raise NotImplementedError

    def patch(
        self, config: SCIMTeamConfig, record: Any, body: Any, *, locked: reads.Found | None = None
    ) -> Any:
        raise NotImplementedError

    def delete(
        self, config: SCIMTeamConfig, record: Any, *, locked: reads.Found | None = None
    ) -> None:
        raise NotImplementedError


def _json(path: str) -> FilterField:
    return FilterField(f"attributes__{path}")


_USER_STRINGS = (
    "displayName",
    "nickName",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
)
_NAME_PARTS = (
    "formatted",
    "familyName",
    "givenName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
)
_ENTERPRISE_STRINGS = ("employeeNumber", "costCenter", "organization", "division", "department")


def _user_values(attribute: str) -> MultiValued:
    return MultiValued(
        SCIMUserValue,
        link="user",
        where={"attribute": attribute},
        fields={
            "value": FilterField("value", folded=True),
            # A value without a type is kept with type "": no type to compare or order.
            "type": FilterField("type", folded=True, empty=""),
            "primary": FilterField("primary", kind="boolean"),
        },
    )


class UserType(ResourceType):
    name = "User"
    endpoint = "/Users"
    description = "User Account"
    legacy_id_field = "legacy_id"
    schema = USER_SCHEMA
    _filters: FilterMap = {
        (None, "id", None): FilterField("pk", kind="uuid"),
        (None, "username", None): FilterField("user_name_ci", folded=True),
        (None, "externalid", None): FilterField("external_id", case_exact=True),
        (None, "active", None): FilterField("active", kind="boolean"),
        (None, "emails", None): _user_values("emails"),
        # Okta's "unique identifier field: email" sends `email eq "..."`.
        (None, "email", None): _user_values("emails"),
        (None, "phonenumbers", None): _user_values("phoneNumbers"),
        (None, "roles", None): _user_values("roles"),
        (None, "groups", None): MultiValued(
            SCIMGroupMembership,
            link="user",
            fields={
                "value": FilterField("group_id", kind="uuid"),
                "display": FilterField("group__display_name"),
            },
        ),
        **_META,
        **{(None, n.lower(), None): _json(n) for n in _USER_STRINGS},
        **{(None, "name", n.lower()): _json(f"name__{n}") for n in _NAME_PARTS},
        **{(_ENTERPRISE, n.lower(), None): _json(f"enterprise__{n}") for n in _ENTERPRISE_STRINGS},
        (_ENTERPRISE, "manager", None): FilterField("manager_id", kind="uuid"),
        (_ENTERPRISE, "manager", "value"): FilterField("manager_id", kind="uuid"),
    }
    _sorts: SortMap = {
        **_META_SORTS,
        (None, "username", None): "user_name_ci",
        (None, "externalid", None): "external_id",
        (None, "active", None): "active",
        (None, "emails", None): "email",
        (None, "emails", "value"): "email",
        **{(None, n.lower(), None): f"attributes__{n}" for n in _USER_STRINGS},
        **{(None, "name", n.lower()): f"attributes__name__{n}" for n in _NAME_PARTS},
        **{
            (_ENTERPRISE, n.lower(), None): f"attributes__enterprise__{n}"
            for n in _ENTERPRISE_STRINGS
        },
    }

    # The host's own extension comes from settings: what depends on it is
    # derived from the schemas in force, once per distinct set of schemas.
    @property
    def extensions(self) -> tuple[Schema, ...]:  # type: ignore[override]
        return user_extensions()

    @property
    def filters(self) -> FilterMap:  # type: ignore[override]
        custom = user_extension()
        return {**self._filters, **filter_map(custom)} if custom else self._filters

    @property
    def sorts(self) -> SortMap:  # type: ignore[override]
        custom = user_extension()
        return {**self._sorts, **sort_map(custom)} if custom else self._sorts

    @property
    def _patcher(self) -> PatchDocument:
        return _user_patcher(self.extensions)

    model = SCIMUser

    def queryset(self, scope: TeamScope) -> QuerySet:
        # No select_related("manager"): the self-join made PostgreSQL sort a
        # deep page on disk; the manager's id is a column, and its name is
        # loaded for the page only when asked for.
        return team_users(scope).alias(user_name_ci=Lower("user_name"))

    def for_update(self, scope: TeamScope) -> QuerySet:
        return super().for_update(scope).select_related("user")

    links_groups = True

    def represent(
        self,
        records: list[Any],
        base_url: str,
        selection: Selection,
        *,
        groups: Mapping[Any, tuple[GroupRow, ...]] | None = None,
    ) -> list[dict]:
        return represent_users(records, base_url, selection, groups=groups)

    def create(self, acting: Acting, body: Any) -> Any:
        # The token is checked in the create's first read (issue 27: one statement fewer).
        return create_user(acting, read_user_document(body))

    def host_row(self) -> reads.HostRow | None:
        # The person's membership: a deactivation's and a removal's rules and change read it.
        return get_adapter().membership_with_record()

    asked_before_update = ASKED_BEFORE_UPDATE
    asked_before_delete = ASKED_BEFORE_DELETE

    def replace(
        self, config: SCIMTeamConfig, record: Any, body: Any, *, locked: reads.Found | None = None
    ) -> Any:
        document = merge_documents(record_document(record), read_user_document(body))
        return update_user(config, record, document, locked=locked)

    def patch(
        self, config: SCIMTeamConfig, record: Any, body: Any, *, locked: reads.Found | None = None
    ) -> Any:
        document = self._patcher.apply(record_document(record), body)
        return update_user(config, record, document, locked=locked)

    def delete(
        self, config: SCIMTeamConfig, record: Any, *, locked: reads.Found | None = None
    ) -> None:
        delete_user(config, record, locked=locked)


@lru_cache(maxsize=8)
def _user_patcher(extensions: tuple[Schema, ...]) -> PatchDocument:
    return PatchDocument(USER_SCHEMA, extensions)


class GroupType(ResourceType):
    name = "Group"
    endpoint = "/Groups"
    description = "Group"
    schema = GROUP_SCHEMA
    filters: FilterMap = {
        (None, "id", None): FilterField("pk", kind="uuid"),
        (None, "displayname", None): FilterField("display_name_ci", folded=True),
        (None, "externalid", None): FilterField("external_id", case_exact=True),
        (None, "members", None): MultiValued(
            SCIMGroupMembership,
            link="group",
            fields={
                "value": FilterField("user_id", kind="uuid"),
                "display": FilterField("user__user_name"),
            },
        ),
        **_META,
    }
    sorts: SortMap = {
        **_META_SORTS,
        (None, "displayname", None): "display_name_ci",
        (None, "externalid", None): "external_id",
    }
    _patcher = PatchDocument(GROUP_SCHEMA)

    model = SCIMGroup

    def queryset(self, scope: TeamScope) -> QuerySet:
        return team_groups(scope).alias(display_name_ci=Lower("display_name"))

    def represent(
        self,
        records: list[Any],
        base_url: str,
        selection: Selection,
        *,
        groups: Mapping[Any, tuple[GroupRow, ...]] | None = None,
    ) -> list[dict]:
        return represent_groups(records, base_url, selection)

    def create(self, acting: Acting, body: Any) -> Any:
        return create_group(config_of(acting), read_group_document(body))

    def replace(
        self, config: SCIMTeamConfig, record: Any, body: Any, *, locked: reads.Found | None = None
    ) -> Any:
        sent = read_group_document(body)
        # Okta's "link group" PUT has no members: they stay as they are.
        change = replacement(sent.pop("members")) if "members" in sent else None
        return update_group(config, record, merge_documents(group_document(record), sent), change)

    def patch(
        self, config: SCIMTeamConfig, record: Any, body: Any, *, locked: reads.Found | None = None
    ) -> Any:
        members = MemberOperations()  # this request's: the patcher is shared
        document = self._patcher.apply(group_document(record), body, {"members": members})
        return update_group(config, record, document, members.change)

    def delete(
        self, config: SCIMTeamConfig, record: Any, *, locked: reads.Found | None = None
    ) -> None:
        delete_group(config, record)


def _uuid(pk: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(pk)
    except ValueError:
        return None


USERS = UserType()
GROUPS = GroupType()
#: Every published resource type, by name, in the order ``/ResourceTypes`` lists them.
RESOURCE_TYPES: dict[str, ResourceType] = {t.name: t for t in (USERS, GROUPS)}
