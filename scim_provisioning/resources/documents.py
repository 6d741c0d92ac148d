"""Documents: the canonical form of a resource body, whatever its resource type.

A document has canonical attribute names, coerced values and only writable
attributes; an extension's attributes sit under the extension's URN. Keys
present are what the IdP sent; a ``None`` value clears. Unknown attributes
and read-only ones (``id``, ``meta``, ``groups``) are ignored, so a client may
send back what it read.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import InvalidSyntax, InvalidValue
from ..schemas import Attribute, Schema
from .values import coerce

Document = dict[str, Any]

#: A common attribute (RFC 7643 §3.1), so it is in no schema.
EXTERNAL_ID = Attribute("externalId", case_exact=True)


def _read_attributes(schema: Schema, body: dict[str, Any]) -> Document:
    document: Document = {}
    for key, value in body.items():
        attribute = schema.attribute(key)
        if attribute is not None and attribute.writable:
            document[attribute.name] = coerce(attribute, value)
    return document


def read_document(body: Any, schema: Schema, extensions: tuple[Schema, ...] = ()) -> Document:
    """The canonical document of a POST or PUT body."""
    if not isinstance(body, dict):
        raise InvalidSyntax("The body must be a JSON object.")
    document = _read_attributes(schema, body)
    by_urn = {extension.id.lower(): extension for extension in extensions}
    for key, value in body.items():
        folded = key.lower()
        if folded == "externalid":
            document["externalId"] = coerce(EXTERNAL_ID, value)
        elif folded in by_urn:
            extension = by_urn[folded]
            if value is None:
                document[extension.id] = None
            elif isinstance(value, dict):
                document[extension.id] = _read_attributes(extension, value)
            else:
                raise InvalidValue(f"'{extension.id}' must be an object.")
    return document


def merge_documents(current: Document, sent: Document) -> Document:
    """PUT semantics: each attribute the IdP sent replaces ours; the others stay.

    IdPs send partial templates (OneLogin) or echo our GET (Okta), so an
    attribute left out is not a request to clear it; ``null`` is. ``active``
    left out never deactivates anyone, and a group PUT without ``members``
    (Okta's "link group") leaves the members as they are.
    """
    return {**current, **sent}


def fits(value: str | None, model: Any, field: str, attribute: str) -> str | None:
    """``value`` if it fits the column ``model.field``; else a 400 ``invalidValue``."""
    limit = model._meta.get_field(field).max_length
    if value is not None and limit is not None and len(value) > limit:
        raise InvalidValue(f"'{attribute}' is longer than {limit} characters.")
    return value


def meta(record: Any, resource_type: str, location: str) -> dict[str, Any]:
    """A resource's ``meta`` (RFC 7643 §3.1) from the record's timestamps and version."""
    return {
        "resourceType": resource_type,
        "created": _timestamp(record.created),
        "lastModified": _timestamp(record.last_modified),
        "location": location,
        "version": record.etag,
    }


def _timestamp(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")
