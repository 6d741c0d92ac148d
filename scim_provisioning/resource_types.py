"""The resource types this server offers, each in one place.

A :class:`ResourceType` gathers what the generic views need for one SCIM
resource: its schemas, where its attributes live for filters and ``sortBy``,
how records become SCIM JSON, and what POST, PUT, PATCH and DELETE do.
``/ResourceTypes`` is published from :data:`RESOURCE_TYPES` too.
"""

from __future__ import annotations

import uuid
from functools import cached_property, lru_cache
from typing import Any

from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from .authentication import TokenGuard, with_token_check
from .exceptions import NotFound
from .extension_values import filter_map, sort_map
from .filters import FilterField, FilterMap, MultiValued, SortMap
from .models import SCIMGroupMembership, SCIMTeamConfig, SCIMToken, SCIMUserValue
from .patch import PatchDocument
from .paths import Key, SchemaURNs
from .prepared import PreparedQuery
from .provisioning.groups import create_group, delete_group, team_groups, update_group
from .provisioning.members import MemberOperations, replacement
from .provisioning.users import create_user, delete_user, team_users, update_user
from .resources.documents import merge_documents
from .resources.groups import group_document, read_group_document
from .resources.projection import Selection
from .resources.representation import represent_groups, represent_users, with_groups
from .resources.users import read_user_document, record_document
from .schemas import (
    ENTERPRISE_USER_SCHEMA_URN,
    GROUP_SCHEMA,
    USER_SCHEMA,
    Schema,
    user_extension,
    user_extensions,
)

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
        return Selection.parse(attributes, excluded, urns=self.schema_urns)

    def queryset(self, config: SCIMTeamConfig) -> QuerySet:
        """The team's records: every query about this type starts here."""
        raise NotImplementedError

    def for_update(self, config: SCIMTeamConfig) -> QuerySet:
        """The team's records, locked for a read-modify-write."""
        return self.queryset(config).select_for_update(of=("self",))

    def find(
        self,
        config: SCIMTeamConfig,
        pk: str,
        *,
        for_update: bool = False,
        guard: TokenGuard | None = None,
    ) -> Any:
        """The team's record whose id is ``pk``, else ``None``.

        ``pk`` is one of our UUIDs or, for a type with legacy ids, the id another
        SCIM server gave the record before the site moved here (django-scim2's
        ``scim_id``); both are looked up in the team's records only.
        ``for_update`` locks the record for a read-modify-write; a read's ``guard``
        checks the request's token in the same query (the caller confirms it).
        """
        digest = guard.unchecked_digest if guard else None
        try:
            key: uuid.UUID | None = uuid.UUID(pk)
        except ValueError:
            key = None
        # The common case, compiled once: our own id.
        record = None if key is None else self.by_id(config, key, digest, for_update=for_update)
        if record is None and self.legacy_id_field is not None:
            if for_update:
                records = self.for_update(config)
            else:
                records = self.queryset(config)
                if digest:
                    records = with_token_check(records, digest, timezone.now())
            record = _get(records, {self.legacy_id_field: pk})
        return record

    def not_found(self, pk: str) -> NotFound:
        """The 404 of an id that names no record of the team, another team's included."""
        return NotFound(f"{self.name} {pk} not found.")

    def location(self, base_url: str, pk: Any) -> str:
        """The absolute URL of the record with SCIM id ``pk`` (``Location``, ``meta.location``)."""
        return f"{base_url}{self.endpoint}/{pk}"

    def by_id(
        self,
        config: SCIMTeamConfig,
        pk: uuid.UUID,
        token_digest: str | None,
        *,
        for_update: bool = False,
    ) -> Any:
        """The team's record ``pk`` or ``None``, in one query compiled once per process.

        With ``token_digest``, the record carries ``_scim_token_ok``: whether that
        token may still be used (see :class:`~.authentication.TokenGuard`).
        ``for_update`` locks it (writes, whose token is checked before they start).
        """
        if for_update:
            rows = self._by_id_locked.all(team_id=config.team_id, pk=pk)
        elif token_digest is None:
            rows = self._by_id.all(team_id=config.team_id, pk=pk)
        else:
            rows = self._by_id_checked.all(
                team_id=config.team_id, pk=pk, digest=token_digest, now=timezone.now()
            )
        return rows[0] if rows else None

    @cached_property
    def _by_id(self) -> PreparedQuery:
        return self._prepared_by_id(check_token=False)

    @cached_property
    def _by_id_checked(self) -> PreparedQuery:
        return self._prepared_by_id(check_token=True)

    @cached_property
    def _by_id_locked(self) -> PreparedQuery:
        return self._prepared_by_id(check_token=False, for_update=True)

    def _prepared_by_id(self, *, check_token: bool, for_update: bool = False) -> PreparedQuery:
        """The record-by-id query.

        With the token's validity annotated when ``check_token``; locked, for a
        write, and without what an answer links to, when ``for_update``.
        """
        model = self.queryset(SCIMTeamConfig(team_id=0)).model
        parameters = {"team_id": model._meta.get_field("team"), "pk": model._meta.pk}
        if check_token:
            parameters["digest"] = SCIMToken._meta.get_field("digest")
            parameters["now"] = SCIMToken._meta.get_field("expires_at")

        def build(team_id: Any, pk: Any, **token: Any) -> QuerySet:
            config = SCIMTeamConfig(team_id=team_id)
            if for_update:
                return self.for_update(config).filter(pk=pk)
            records = self.with_links(self.queryset(config).filter(pk=pk))
            if token:
                records = with_token_check(records, token["digest"], token["now"])
            return records

        return PreparedQuery(model, build, parameters)

    def represent(self, records: list[Any], base_url: str, selection: Selection) -> list[dict]:
        """SCIM JSON of ``records``, in a fixed number of queries whatever their number."""
        raise NotImplementedError

    def with_links(self, records: QuerySet) -> QuerySet:
        """The query of one record by id, reading what its answer links to as well (if cheap)."""
        return records

    def create(self, config: SCIMTeamConfig, body: Any) -> Any:
        raise NotImplementedError

    def replace(self, config: SCIMTeamConfig, record: Any, body: Any) -> Any:
        raise NotImplementedError

    def patch(self, config: SCIMTeamConfig, record: Any, body: Any) -> Any:
        raise NotImplementedError

    def delete(self, config: SCIMTeamConfig, record: Any) -> None:
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

    def queryset(self, config: SCIMTeamConfig) -> QuerySet:
        # No select_related("manager"): the self-join made PostgreSQL sort a
        # deep page on disk; the manager's id is a column, and its name is
        # loaded for the page only when asked for.
        return team_users(config).alias(user_name_ci=Lower("user_name"))

    def for_update(self, config: SCIMTeamConfig) -> QuerySet:
        return super().for_update(config).select_related("user")

    def represent(self, records: list[Any], base_url: str, selection: Selection) -> list[dict]:
        return represent_users(records, base_url, selection)

    def with_links(self, records: QuerySet) -> QuerySet:
        return with_groups(records)

    def create(self, config: SCIMTeamConfig, body: Any) -> Any:
        return create_user(config, read_user_document(body))

    def replace(self, config: SCIMTeamConfig, record: Any, body: Any) -> Any:
        document = merge_documents(record_document(record), read_user_document(body))
        return update_user(config, record, document)

    def patch(self, config: SCIMTeamConfig, record: Any, body: Any) -> Any:
        return update_user(config, record, self._patcher.apply(record_document(record), body))

    def delete(self, config: SCIMTeamConfig, record: Any) -> None:
        delete_user(config, record)


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

    def queryset(self, config: SCIMTeamConfig) -> QuerySet:
        return team_groups(config).alias(display_name_ci=Lower("display_name"))

    def represent(self, records: list[Any], base_url: str, selection: Selection) -> list[dict]:
        return represent_groups(records, base_url, selection)

    def create(self, config: SCIMTeamConfig, body: Any) -> Any:
        return create_group(config, read_group_document(body))

    def replace(self, config: SCIMTeamConfig, record: Any, body: Any) -> Any:
        sent = read_group_document(body)
        # Okta's "link group" PUT has no members: they stay as they are.
        change = replacement(sent.pop("members")) if "members" in sent else None
        return update_group(config, record, merge_documents(group_document(record), sent), change)

    def patch(self, config: SCIMTeamConfig, record: Any, body: Any) -> Any:
        members = MemberOperations()  # this request's: the patcher is shared
        document = self._patcher.apply(group_document(record), body, {"members": members})
        return update_group(config, record, document, members.change)

    def delete(self, config: SCIMTeamConfig, record: Any) -> None:
        delete_group(config, record)


def _get(records: QuerySet, lookup: dict[str, Any]) -> Any | None:
    """The record ``lookup`` names among ``records``, or ``None``."""
    try:
        # get(), not first(): no ORDER BY to compile or run.
        return records.get(**lookup)
    except records.model.DoesNotExist:
        return None


USERS = UserType()
GROUPS = GroupType()
#: Every published resource type, by name, in the order ``/ResourceTypes`` lists them.
RESOURCE_TYPES: dict[str, ResourceType] = {t.name: t for t in (USERS, GROUPS)}
