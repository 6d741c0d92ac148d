"""``attributes`` and ``excludedAttributes`` (RFC 7644 §3.4.2.5, §3.9).

Paths are matched case-insensitively and may carry a schema URN prefix
(``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``)
or name a sub-attribute (``name.givenName``). ``id`` and ``schemas`` are
returned always.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ..casefold import key_insensitive
from ..exceptions import InvalidPath, InvalidValue
from ..paths import SchemaURNs, parse_path

ALWAYS_RETURNED = ("id", "schemas")
MAX_ATTRIBUTE_PATHS = 100

Path = tuple[str, "str | None"]


@dataclass(frozen=True)
class Selection:
    """The attributes a request asked for (``include``) or asked to leave out (``exclude``).

    Paths are folded to ``(top-level key, sub-attribute)``; an extension
    attribute is ``(extension URN, attribute)``.
    """

    include: tuple[Path, ...] = ()
    exclude: tuple[Path, ...] = ()

    @classmethod
    def parse(cls, attributes: Any, excluded: Any, *, urns: SchemaURNs) -> Selection:
        """From query parameters (comma-separated) or a ``.search`` body (lists)."""
        return cls(include=_parse_list(attributes, urns), exclude=_parse_list(excluded, urns))

    @property
    def _restricted(self) -> bool:
        return bool(self.include) and ("*", None) not in self.include

    def returns(self, top: str) -> bool:
        """Whether the top-level attribute ``top`` (default-returned) appears in the output."""
        top = top.lower()
        if self._restricted:
            return any(t == top for t, _ in self.include)
        return (top, None) not in self.exclude

    def requested(self, top: str, sub: str | None = None) -> bool:
        """Whether ``top`` (or ``top.sub``) was named in ``attributes`` (``returned: request``)."""
        top, sub = top.lower(), (sub.lower() if sub else None)
        return any(t == top and (s is None or sub is None or s == sub) for t, s in self.include)

    def apply(self, resource: dict[str, Any]) -> dict[str, Any]:
        """``resource`` restricted by the selection (itself when nothing was selected)."""
        if not self.include and not self.exclude:
            return resource  # built fresh for this response: no copy needed
        keys = {key.lower(): key for key in resource}
        if self._restricted:
            result = {key: resource[key] for key in ALWAYS_RETURNED if key in resource}
            for top, sub in self.include:
                key = keys.get(top)
                if key is None:
                    continue
                if sub is None:
                    result[key] = copy.deepcopy(resource[key])
                else:
                    picked = _pick(resource[key], sub)
                    if picked is not None:
                        result[key] = _merge(result.get(key), picked)
            return result
        result = copy.deepcopy(resource)
        for top, sub in self.exclude:
            key = keys.get(top)
            if key is None or key in ALWAYS_RETURNED or key not in result:
                continue
            if sub is None:
                result.pop(key)
            else:
                _drop(result[key], sub)
        return result


def _parse_list(value: Any, urns: SchemaURNs) -> tuple[Path, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        paths = value.split(",")
    elif isinstance(value, list) and all(isinstance(p, str) for p in value):
        paths = value
    else:
        raise InvalidValue("Attribute lists are comma-separated strings or lists of strings.")
    paths = [p.strip() for p in paths if p.strip()]
    if len(paths) > MAX_ATTRIBUTE_PATHS:
        raise InvalidValue(f"At most {MAX_ATTRIBUTE_PATHS} attribute paths may be requested.")
    return tuple(_folded(path, urns) for path in paths)


def _folded(text: str, urns: SchemaURNs) -> Path:
    """``text`` as a :data:`Path`; one that is no attribute path names no key of a resource."""
    try:
        path = parse_path(text, urns)
    except InvalidPath:
        return text.lower(), None  # ignored, as an unknown attribute is
    if path.attribute is None:  # a schema URN alone: the core one is every attribute
        return (path.schema.lower(), None) if path.schema is not None else ("*", None)
    top, sub = path.attribute.lower(), path.sub_attribute
    if path.schema is not None:
        # An extension's attributes sit under its URN: the attribute is the "sub" of it.
        return path.schema.lower(), top
    return top, sub.lower() if sub is not None else None


def _sub_key(value: dict[str, Any], sub: str) -> str | None:
    return key_insensitive(value, sub)


def _pick(value: Any, sub: str) -> Any:
    if isinstance(value, dict):
        key = _sub_key(value, sub)
        return {key: copy.deepcopy(value[key])} if key else None
    if isinstance(value, list):
        return [_pick(item, sub) or {} for item in value]
    return None


def _merge(existing: Any, picked: Any) -> Any:
    if existing is None:
        return picked
    if isinstance(existing, dict):
        return {**existing, **picked}
    return [{**a, **b} for a, b in zip(existing, picked, strict=True)]


def _drop(value: Any, sub: str) -> None:
    if isinstance(value, dict):
        key = _sub_key(value, sub)
        if key:
            value.pop(key)
    elif isinstance(value, list):
        for item in value:
            _drop(item, sub)
