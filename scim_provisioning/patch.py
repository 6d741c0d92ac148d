"""PATCH (RFC 7644 §3.5.2) applied to a canonical document.

A PATCH never touches the database directly: its operations are applied, in
order, to the resource's current document; the result is validated and saved
like a PUT. So all operations of one PATCH apply together or not at all, and
there is one way to turn a document into a record.

Dialects are read by general rules rather than per IdP: ``op`` is
case-insensitive; an operation without ``path`` carries an object whose keys
are themselves paths (plain, dotted ``name.givenName`` or URN-prefixed); a
value is coerced to the attribute's type; an unknown attribute is ignored
and logged, as IdPs send attributes a site does not store.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from scim2_filter_parser import ast

from . import value_filters
from .casefold import fold_keys, get_insensitive, has_insensitive
from .conf import app_settings
from .exceptions import InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget
from .filters import parse_filter
from .paths import AttributePath, SchemaURNs, parse_path
from .redaction import redact_path
from .resources.values import check_item_count, coerce
from .schemas import Attribute, Schema

logger = logging.getLogger("scim_provisioning")

_OPS = ("add", "replace", "remove")
_SERVER_OWNED = ("id", "meta", "schemas")


@dataclass(frozen=True)
class Target:
    """Where an operation points: an attribute, maybe narrowed and maybe a sub-attribute."""

    container: str | None  # None for the core schema, else an extension URN
    attribute: Attribute
    value_filter: ast.Filter | None
    sub_attribute: Attribute | None


#: Receives ``(op, target, value, has_value)`` for an attribute kept outside the document.
Delegate = Callable[[str, Target, Any, bool], None]


class PatchDocument:
    """Applies PatchOp operations to a document described by a core schema and extensions.

    One instance serves every request of a process (threaded servers share
    it), so it holds only the schemas: everything about one PATCH (the
    document, the delegates) travels through the calls.
    """

    def __init__(self, core: Schema, extensions: tuple[Schema, ...] = ()) -> None:
        self.core = core
        self.extensions = {schema.id.lower(): schema for schema in extensions}
        self.urns = SchemaURNs(core.id, tuple(schema.id for schema in extensions))

    def apply(
        self,
        document: dict[str, Any],
        body: Any,
        delegated: dict[str, Delegate] | None = None,
    ) -> dict[str, Any]:
        """A new document: ``document`` with every operation of ``body`` applied.

        Operations on an attribute named in ``delegated`` are handed to its
        delegate instead of the document: a group's members are applied as set
        operations in the database, never loaded into a document.
        """
        delegates = delegated or {}
        result = copy.deepcopy(document)
        for operation in _operations(body):
            op, path, value = _read_operation(operation)
            if path is None:
                self._apply_without_path(result, op, value, delegates)
            else:
                has_value = has_insensitive(operation, "value")
                self._apply_path(result, op, path, value, has_value, delegates)
        return result

    # -- paths -----------------------------------------------------------------------------

    def _apply_without_path(
        self, document: dict[str, Any], op: str, value: Any, delegates: dict[str, Delegate]
    ) -> None:
        if op == "remove":
            raise NoTarget("A 'remove' operation needs a 'path'.")
        if not isinstance(value, dict):
            raise InvalidValue("An operation without 'path' needs an object as its 'value'.")
        for key, item in value.items():
            if key.lower() in _SERVER_OWNED:
                continue  # Okta sends the resource's own "id" along; it is not a change.
            # A key is a path: an attribute, or an extension's URN for all its attributes.
            self._apply_path(document, op, key, item, True, delegates)

    def _apply_extension(
        self,
        document: dict[str, Any],
        op: str,
        extension: Schema,
        value: Any,
        delegates: dict[str, Delegate],
    ) -> None:
        """An operation on a whole extension: its attributes, one by one."""
        if op == "remove":
            document.pop(extension.id, None)
            return
        if not isinstance(value, dict):
            raise InvalidValue(f"The value for '{extension.id}' must be an object.")
        for key, item in value.items():
            if key.lower() not in _SERVER_OWNED:
                self._apply_path(document, op, f"{extension.id}:{key}", item, True, delegates)

    def _target(self, path: AttributePath) -> Target | None:
        """What ``path`` points at; ``None`` for an attribute we do not support."""
        if path.attribute is None or not self.urns.is_known(path.schema):
            return None  # the core schema's URN alone, or an extension we do not support
        container = path.schema
        schema = self.extensions[container.lower()] if container is not None else self.core
        name, filter_text, sub_name = path.attribute, path.value_filter, path.sub_attribute
        if name.lower() in _SERVER_OWNED or name.lower() == "externalid":
            if name.lower() == "externalid" and container is None:
                return Target(None, Attribute("externalId", case_exact=True), None, None)
            raise Mutability(f"'{name}' is set by the server and cannot be changed.")
        attribute = schema.attribute(name)
        if attribute is None and container is None:
            # An extension attribute named without its URN ("manager", "department"),
            # as older Entra mappings send it: found in the one extension that has it.
            owners = [e for e in self.extensions.values() if e.attribute(name) is not None]
            if len(owners) == 1:
                container, attribute = owners[0].id, owners[0].attribute(name)
        if attribute is None:
            return None
        if not attribute.writable:
            raise Mutability(f"'{attribute.name}' is read-only.")
        value_filter = None
        if filter_text is not None:
            if attribute.type != "complex":
                raise InvalidPath(f"'{attribute.name}' has no sub-attributes to filter on.")
            value_filter = parse_filter(filter_text)
        sub = None
        if sub_name is not None:
            sub = attribute.sub_attribute(sub_name)
            if sub is None:
                return None
            if not sub.writable:
                raise Mutability(f"'{attribute.name}.{sub.name}' is read-only.")
        return Target(container, attribute, value_filter, sub)

    def _apply_path(
        self,
        document: dict[str, Any],
        op: str,
        path: str,
        value: Any,
        operation_has_value: bool,
        delegates: dict[str, Delegate],
    ) -> None:
        parsed = parse_path(path, self.urns, value_filter=True)
        if parsed.attribute is None and parsed.schema is not None:
            extension = self.extensions.get(parsed.schema.lower())
            if extension is not None:
                self._apply_extension(document, op, extension, value, delegates)
                return
        target = self._target(parsed)
        if target is None:
            # The path is the IdP's text: a secret in its value filter must not be logged.
            logger.warning("SCIM PATCH ignored an unsupported attribute path %r", redact_path(path))
            return
        if op != "remove" and not operation_has_value:
            raise InvalidValue(f"The '{op}' operation on '{path}' needs a 'value'.")
        delegate = delegates.get(target.attribute.name)
        if delegate is not None and target.container is None:
            delegate(op, target, value, operation_has_value)
            return
        container: Any = document
        if target.container is not None:
            container = document.get(target.container)
            if not isinstance(container, dict):
                if op == "remove":
                    return
                container = document[target.container] = {}
        key = target.attribute.name
        if target.value_filter is not None:
            self._apply_filtered(container, op, target, value)
        elif target.sub_attribute is not None:
            self._apply_sub(container, op, target, value)
        elif op == "remove":
            self._remove(container, target.attribute, value if operation_has_value else None)
        else:
            self._set(container, op, target.attribute, value)
        if container.get(key) in (None, [], {}):
            container.pop(key, None)

    # -- operations ------------------------------------------------------------------------

    @staticmethod
    def _set(container: dict[str, Any], op: str, attribute: Attribute, value: Any) -> None:
        key = attribute.name
        new = coerce(attribute, value)
        current = container.get(key)
        if attribute.multi_valued and op == "add" and isinstance(current, list):
            # Linear: a set of the items already there, not a scan of the list per item.
            seen = {_fingerprint(item) for item in current}
            merged = list(current)
            for item in new or []:
                fingerprint = _fingerprint(item)
                if fingerprint not in seen:
                    seen.add(fingerprint)
                    merged.append(item)
            check_item_count(attribute, len(merged))
            new = merged
        elif (
            attribute.type == "complex" and not attribute.multi_valued and isinstance(current, dict)
        ):
            # RFC 7644 §3.5.2.1/3: sub-attributes not given are left as they are.
            new = {**current, **(new or {})}
        if attribute.multi_valued and new:
            new = _single_primary(new)
        container[key] = new

    @staticmethod
    def _remove(container: dict[str, Any], attribute: Attribute, value: Any) -> None:
        key = attribute.name
        if value is None or not attribute.multi_valued:
            container.pop(key, None)
            return
        # A value list names the items to remove (Entra, JumpCloud): only those go.
        doomed = {_identity(item) for item in coerce(attribute, value) or []}
        container[key] = [
            item for item in container.get(key) or [] if _identity(item) not in doomed
        ]

    @staticmethod
    def _apply_sub(container: dict[str, Any], op: str, target: Target, value: Any) -> None:
        key, sub = target.attribute.name, target.sub_attribute
        assert sub is not None
        current = container.get(key)
        if target.attribute.multi_valued:
            items = current if isinstance(current, list) else []
            if op == "remove":
                for item in items:
                    item.pop(sub.name, None)
                return
            new = coerce(sub, value)
            if not items:
                items = [{}]
            for item in items:
                item[sub.name] = new
            container[key] = items
            return
        current = dict(current) if isinstance(current, dict) else {}
        if op == "remove":
            current.pop(sub.name, None)
        else:
            current[sub.name] = coerce(sub, value)
        container[key] = current

    @staticmethod
    def _apply_filtered(container: dict[str, Any], op: str, target: Target, value: Any) -> None:
        if not target.attribute.multi_valued:
            # manager[value eq "x"] (Entra): on a single complex value a filter
            # selects that value or nothing, as on a list of at most one.
            key = target.attribute.name
            current = container.get(key)
            listed = {key: [current] if isinstance(current, dict) else []}
            as_list = replace(target, attribute=replace(target.attribute, multi_valued=True))
            PatchDocument._apply_filtered(listed, op, as_list, value)
            container[key] = listed[key][-1] if listed[key] else None
            return
        key, sub = target.attribute.name, target.sub_attribute
        items = list(container.get(key) or [])
        assert target.value_filter is not None
        value_filter, attribute = target.value_filter, target.attribute
        # Sub-attributes compare as the schema types them, as GET ?filter= does.
        matches = [
            i
            for i, item in enumerate(items)
            if isinstance(item, dict) and value_filters.matches(value_filter, item, attribute)
        ]
        if op == "remove":
            if sub is None:
                items = [item for i, item in enumerate(items) if i not in matches]
            else:
                for i in matches:
                    items[i].pop(sub.name, None)
            container[key] = items
            return
        if not matches:
            # emails[type eq "work"].value on a user without a work email: the
            # filter's equalities describe the item to add.
            seed = value_filters.equalities(target.value_filter)
            if seed is None:
                raise NoTarget(f"No value of '{key}' matches the filter.")
            new_item = coerce(target.attribute, [seed]) if seed else [{}]
            if not new_item:
                raise NoTarget(f"No value of '{key}' matches the filter.")
            items.append(new_item[0])
            check_item_count(target.attribute, len(items))
            matches = [len(items) - 1]
        for i in matches:
            if sub is not None:
                items[i] = {**items[i], sub.name: coerce(sub, value)}
            else:
                single = coerce(target.attribute, value)
                items[i] = {**items[i], **(single[0] if single else {})}
        container[key] = _single_primary(items, chosen=matches)


def _operations(body: Any) -> list[Any]:
    if not isinstance(body, dict):
        raise InvalidSyntax("The PATCH body must be a JSON object.")
    operations = get_insensitive(body, "operations")
    if not isinstance(operations, list):
        raise InvalidSyntax("The PATCH body needs an 'Operations' list.")
    if len(operations) > app_settings.MAX_PATCH_OPERATIONS:
        raise InvalidValue(
            f"The PATCH has {len(operations)} operations; "
            f"at most {app_settings.MAX_PATCH_OPERATIONS} are accepted."
        )
    return operations


def _read_operation(operation: Any) -> tuple[str, str | None, Any]:
    if not isinstance(operation, dict):
        raise InvalidSyntax("Each operation must be a JSON object.")
    fields = fold_keys(operation)
    op = fields.get("op")
    if not isinstance(op, str) or op.lower() not in _OPS:
        raise InvalidSyntax(f"'op' must be add, replace or remove, not {op!r}.")
    path = fields.get("path")
    if path is not None and (not isinstance(path, str) or not path.strip()):
        raise InvalidPath("'path' must be a non-empty string.")
    if path is not None and len(path) > app_settings.MAX_FILTER_LENGTH:
        # A path is an attribute and at most one value filter: the filter's bound.
        raise InvalidPath(f"'path' is longer than {app_settings.MAX_FILTER_LENGTH} characters.")
    return op.lower(), path, fields.get("value")


def _fingerprint(item: Any) -> str:
    """Equal items, equal fingerprints: the key that makes a merge of lists linear."""
    return json.dumps(item, sort_keys=True, default=str)


def _identity(item: Any) -> Any:
    if isinstance(item, dict) and "value" in item:
        return str(item["value"]).lower()
    return repr(item)


def _single_primary(items: list[Any], chosen: list[int] | None = None) -> list[Any]:
    """RFC 7643 §2.4: at most one item may be primary.

    The item the operation made primary wins (RFC 7644 §3.5.2: setting one value's
    ``primary`` to true sets the others' to false), whatever its place in the list;
    among ``chosen`` items, or when none of them is primary, the last one does.
    """
    primaries = [
        i for i, item in enumerate(items) if isinstance(item, dict) and item.get("primary")
    ]
    winners = [i for i in primaries if i in (chosen or ())] or primaries
    for i in primaries:
        if i != winners[-1]:
            items[i] = {**items[i], "primary": False}
    return items
