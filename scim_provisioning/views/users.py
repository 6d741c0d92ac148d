"""``/Users`` and ``/Users/{id}``."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from rest_framework.request import Request
from rest_framework.response import Response

from ..exceptions import NotFound
from ..filters import FilterField, FilterMap, filter_to_q
from ..listing import list_response, read_page
from ..models import SCIMUser
from ..patch import PatchDocument
from ..provisioning import create_user, delete_user, team_users, update_user
from ..resources.projection import parse_attribute_list, project
from ..resources.users import merge_documents, read_user_document, record_document, user_to_scim
from ..schemas import (
    ENTERPRISE_USER_SCHEMA,
    ENTERPRISE_USER_SCHEMA_URN,
    USER_SCHEMA,
    USER_SCHEMA_URN,
)
from .base import SCIMView

_ENTERPRISE = ENTERPRISE_USER_SCHEMA_URN.lower()


def _json_string(path: str) -> FilterField:
    return FilterField(f"attributes__{path}")


#: Every filterable User attribute and where it lives. ``userName`` and
#: ``emails`` are compared folded, on indexed columns.
USER_FILTERS: FilterMap = {
    (None, "id", None): FilterField("pk", kind="uuid"),
    (None, "username", None): FilterField("user_name_ci", folded=True),
    (None, "externalid", None): FilterField("external_id", case_exact=True),
    (None, "active", None): FilterField("active", kind="boolean"),
    (None, "emails", None): FilterField("email", folded=True, empty=""),
    (None, "emails", "value"): FilterField("email", folded=True, empty=""),
    (None, "emails", "type"): FilterField("email_type", folded=True, empty=""),
    (None, "meta", "created"): FilterField("created", kind="datetime"),
    (None, "meta", "lastmodified"): FilterField("last_modified", kind="datetime"),
    **{
        (None, name.lower(), None): _json_string(name)
        for name in (
            "displayName",
            "nickName",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
        )
    },
    **{
        (None, "name", sub.lower()): _json_string(f"name__{sub}")
        for sub in (
            "formatted",
            "familyName",
            "givenName",
            "middleName",
            "honorificPrefix",
            "honorificSuffix",
        )
    },
    **{
        (_ENTERPRISE, name.lower(), None): _json_string(f"enterprise__{name}")
        for name in ("employeeNumber", "costCenter", "organization", "division", "department")
    },
    (_ENTERPRISE, "manager", None): FilterField("manager_id", kind="uuid"),
    (_ENTERPRISE, "manager", "value"): FilterField("manager_id", kind="uuid"),
}

_PATCHER = PatchDocument(USER_SCHEMA, (ENTERPRISE_USER_SCHEMA,))
_KNOWN_URNS = (USER_SCHEMA_URN, ENTERPRISE_USER_SCHEMA_URN)
_MANAGER_PATH = (_ENTERPRISE, "manager")


class UserViewMixin(SCIMView):
    def users(self) -> QuerySet[SCIMUser]:
        """The team's users, ready to be filtered on ``userName`` through its index."""
        return team_users(self.config).alias(user_name_ci=Lower("user_name"))

    def represent(self, records: list[SCIMUser]) -> list[dict[str, Any]]:
        """The records as SCIM JSON, projected by ``attributes``/``excludedAttributes``."""
        include = parse_attribute_list(
            self.query_param("attributes"), known_urns=_KNOWN_URNS, core_urn=USER_SCHEMA_URN
        )
        exclude = parse_attribute_list(
            self.query_param("excludedAttributes"), known_urns=_KNOWN_URNS, core_urn=USER_SCHEMA_URN
        )
        manager_display_name = _MANAGER_PATH in include
        return [
            project(
                user_to_scim(r, self.base_url, manager_display_name=manager_display_name),
                include=include,
                exclude=exclude,
            )
            for r in records
        ]

    def render(self, record: SCIMUser, status: int = 200, **headers: str) -> Response:
        (body,) = self.represent([record])
        return Response(body, status=status, headers={"ETag": record.etag, **headers})


class UserListView(UserViewMixin):
    """GET lists and filters the team's users; POST provisions one."""

    def get(self, request: Request) -> Response:
        users = self.users()
        text = self.query_param("filter")
        if text:
            users = users.filter(filter_to_q(text, USER_FILTERS, USER_SCHEMA_URN))
        page = read_page(self.query_param("startIndex"), self.query_param("count"))
        total = users.count()
        records: list[SCIMUser] = []
        if page.count and page.offset < total:
            records = list(
                users.select_related("manager").order_by("created", "id")[
                    page.offset : page.offset + page.count
                ]
            )
        include = parse_attribute_list(
            self.query_param("attributes"), known_urns=_KNOWN_URNS, core_urn=USER_SCHEMA_URN
        )
        exclude = parse_attribute_list(
            self.query_param("excludedAttributes"), known_urns=_KNOWN_URNS, core_urn=USER_SCHEMA_URN
        )
        resources = [
            project(user_to_scim(r, self.base_url), include=include, exclude=exclude)
            for r in records
        ]
        return Response(list_response(resources, total, page.start_index))

    def post(self, request: Request) -> Response:
        document = read_user_document(request.data)
        with transaction.atomic():
            record = create_user(self.config, document)
        location = f"{self.base_url}/Users/{record.id}"
        return self.render(record, status=201, Location=location)


class UserDetailView(UserViewMixin):
    """One user: GET, PUT (replace what is sent), PATCH, DELETE."""

    def get_record(self, pk: str, *, for_update: bool = False) -> SCIMUser:
        try:
            key = uuid.UUID(pk)
        except ValueError:
            key = None
        users = self.users().select_related("manager")
        if for_update:
            users = users.select_related("user").select_for_update(of=("self",))
        record = users.filter(pk=key).first() if key else None
        if record is None:
            raise NotFound(f"User {pk} not found.")
        return record

    def get(self, request: Request, pk: str) -> Response:
        record = self.get_record(pk)
        if self.if_none_match(record.etag):
            return Response(status=304, headers={"ETag": record.etag})
        return self.render(record)

    def put(self, request: Request, pk: str) -> Response:
        sent = read_user_document(request.data)
        with transaction.atomic():
            record = self.get_record(pk, for_update=True)
            self.check_if_match(record.etag)
            record = update_user(
                self.config, record, merge_documents(record_document(record), sent)
            )
        return self.render(record)

    def patch(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            record = self.get_record(pk, for_update=True)
            self.check_if_match(record.etag)
            document = _PATCHER.apply(record_document(record), request.data)
            record = update_user(self.config, record, document)
        return self.render(record)

    def delete(self, request: Request, pk: str) -> Response:
        with transaction.atomic():
            record = self.get_record(pk, for_update=True)
            self.check_if_match(record.etag)
            delete_user(self.config, record)
        return Response(status=204)
