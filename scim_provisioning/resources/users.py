"""User resources: SCIM JSON ⇄ :class:`~scim_provisioning.models.SCIMUser`.

A *document* is the canonical form of what an IdP sent: canonical attribute
names, coerced values, only writable attributes, the enterprise extension
under its URN. Keys present are what the IdP sent; a ``None`` value clears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..emails import canonical_email
from ..exceptions import InvalidValue
from ..models import SCIMUser
from ..schemas import USER_SCHEMA, user_extension, user_extensions
from ..urns import ENTERPRISE_USER_SCHEMA_URN, USER_SCHEMA_URN
from .documents import Document, fits, meta, read_document

#: Attributes kept in columns of SCIMUser rather than in ``attributes``.
_COLUMN_ATTRIBUTES = ("userName", "externalId", "active")
#: Accepted and dropped on the floor: never stored, logged or echoed.
_DISCARDED_ATTRIBUTES = ("password",)
_ENTERPRISE_KEY = "enterprise"


def read_user_document(body: Any) -> Document:
    """The canonical document of a User body (POST/PUT), ignoring what we do not know."""
    return read_document(body, USER_SCHEMA, user_extensions())


def primary_email(document: Document) -> str:
    """The person's email: primary, else work, else first, else ``userName``.

    OneLogin's Core Schema connector sends no ``emails`` at all, so a
    ``userName`` that looks like an email stands in for it.
    """
    emails = [e for e in document.get("emails") or [] if e.get("value")]
    chosen = (
        next((e for e in emails if e.get("primary")), None)
        or next((e for e in emails if (e.get("type") or "").lower() == "work"), None)
        or (emails[0] if emails else None)
    )
    if chosen is not None:
        return _as_stored(chosen["value"])
    user_name = (document.get("userName") or "").strip()
    return _as_stored(user_name) if "@" in user_name else ""


def _as_stored(address: str) -> str:
    """The address in its one spelling (:func:`~..emails.canonical_email`); one that is not
    an address is kept, lower-cased, for the write to refuse naming it."""
    return canonical_email(address) or address.strip().lower()


@dataclass(frozen=True)
class UserState:
    """Everything a document says about a record, ready to be written to it."""

    user_name: str
    external_id: str | None
    active: bool | None
    email: str
    attributes: dict[str, Any]
    manager_id: str | None


def record_document(record: SCIMUser) -> Document:
    """The record's current writable state as a canonical document (for PATCH)."""
    document: Document = {"userName": record.user_name, "active": record.active}
    if record.external_id is not None:
        document["externalId"] = record.external_id
    stored = dict(record.attributes)
    enterprise = dict(stored.pop(_ENTERPRISE_KEY, None) or {})
    document.update(stored)
    if record.manager_id is not None:
        enterprise["manager"] = {"value": str(record.manager_id)}
    if enterprise:
        document[ENTERPRISE_USER_SCHEMA_URN] = enterprise
    return document


def state_from_document(document: Document) -> UserState:
    """Validate a full document and split it into columns and stored attributes."""
    user_name = (document.get("userName") or "").strip()
    if not user_name:
        raise InvalidValue("'userName' is required.")
    fits(user_name, SCIMUser, "user_name", "userName")
    email = fits(primary_email(document), SCIMUser, "email", "emails")
    attributes = {
        key: value
        for key, value in document.items()
        if key not in _COLUMN_ATTRIBUTES
        and key not in _DISCARDED_ATTRIBUTES
        and key != ENTERPRISE_USER_SCHEMA_URN
        and value not in (None, [], {}, "")
    }
    custom = user_extension()
    if custom is not None and custom.urn in attributes:
        # The host's extension is stored under its URN, without the values cleared.
        values = {k: v for k, v in attributes.pop(custom.urn).items() if v not in (None, [], "")}
        if values:
            attributes[custom.urn] = values
    enterprise = dict(document.get(ENTERPRISE_USER_SCHEMA_URN) or {})
    manager = enterprise.pop("manager", None) or {}
    enterprise = {k: v for k, v in enterprise.items() if v not in (None, "")}
    if enterprise:
        attributes[_ENTERPRISE_KEY] = enterprise
    external_id = fits(document.get("externalId"), SCIMUser, "external_id", "externalId")
    return UserState(
        user_name=user_name,
        external_id=external_id.strip() if external_id and external_id.strip() else None,
        active=document.get("active"),
        email=email or "",
        attributes=attributes,
        manager_id=(manager.get("value") or None),
    )


def user_to_scim(
    record: SCIMUser,
    base_url: str,
    *,
    groups: list[dict[str, Any]] | None = None,
    manager_display_name: bool = False,
) -> dict[str, Any]:
    """The SCIM representation of a record, before attribute projection.

    The manager's ``displayName`` is ``returned: request`` (it costs a join
    and clients compare the manager they set with the one they read back), so
    it is included only when ``manager_display_name`` says it was asked for.

    Run once per user of a page: the stored attributes are read in one pass,
    straight into the resource, and nothing is looked up per row but the
    site's extension (remembered, :func:`~..schemas.user_extension`).
    """
    schemas = [USER_SCHEMA_URN]
    resource: dict[str, Any] = {"schemas": schemas, "id": str(record.id)}
    if record.external_id is not None:
        resource["externalId"] = record.external_id
    resource["userName"] = record.user_name
    enterprise: dict[str, Any] | None = None
    extension = None
    custom_urn = None
    for key, value in record.attributes.items():
        if key == _ENTERPRISE_KEY:
            enterprise = dict(value) if value else None
        elif key[:4] == "urn:":
            # The host's extension sits under its URN; the values of one the site
            # no longer declares stay stored, unpublished.
            if custom_urn is None:
                custom = user_extension()
                custom_urn = custom.urn if custom is not None else ""
            if key == custom_urn:
                extension = value
        else:
            resource[key] = value
    resource["active"] = record.active
    if groups is not None:
        resource["groups"] = groups
    if record.manager_id is not None:
        enterprise = enterprise if enterprise is not None else {}
        enterprise["manager"] = {
            "value": str(record.manager_id),
            "$ref": f"{base_url}/Users/{record.manager_id}",
        }
        if manager_display_name and record.manager is not None:
            enterprise["manager"]["displayName"] = _display_name(record.manager)
    if enterprise:
        schemas.append(ENTERPRISE_USER_SCHEMA_URN)
        resource[ENTERPRISE_USER_SCHEMA_URN] = enterprise
    if extension and custom_urn:
        schemas.append(custom_urn)
        resource[custom_urn] = extension
    resource["meta"] = meta(record, "User", f"{base_url}/Users/{record.id}")
    return resource


def _display_name(record: SCIMUser) -> str:
    return record.attributes.get("displayName") or record.user_name
