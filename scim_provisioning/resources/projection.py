"""``attributes`` and ``excludedAttributes`` (RFC 7644 §3.4.2.5, §3.9).

Paths are matched case-insensitively and may carry a schema URN prefix
(``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``)
or name a sub-attribute (``name.givenName``). ``id`` and ``schemas`` are
returned always.
"""

from __future__ import annotations

import copy
from typing import Any

from ..exceptions import InvalidValue

ALWAYS_RETURNED = ("id", "schemas")
MAX_ATTRIBUTE_PATHS = 100

Selection = list[tuple[str, str | None]]


def parse_attribute_list(
    text: str | None, *, known_urns: tuple[str, ...], core_urn: str
) -> Selection:
    """``"userName,name.givenName"`` → ``[("username", None), ("name", "givenname")]`` (folded)."""
    if not text:
        return []
    paths = [p.strip() for p in text.split(",") if p.strip()]
    if len(paths) > MAX_ATTRIBUTE_PATHS:
        raise InvalidValue(f"At most {MAX_ATTRIBUTE_PATHS} attribute paths may be requested.")
    return [_split(path, known_urns, core_urn) for path in paths]


def _split(path: str, known_urns: tuple[str, ...], core_urn: str) -> tuple[str, str | None]:
    folded = path.lower()
    for urn in sorted(known_urns, key=len, reverse=True):
        urn_folded = urn.lower()
        if folded == urn_folded:
            return (urn_folded, None) if urn_folded != core_urn.lower() else ("*", None)
        if folded.startswith(urn_folded + ":"):
            rest = folded[len(urn_folded) + 1 :]
            if urn_folded == core_urn.lower():
                folded = rest
                break
            return urn_folded, rest.split(".")[0]
    top, _, sub = folded.partition(".")
    return top, (sub or None)


def project(resource: dict[str, Any], *, include: Selection, exclude: Selection) -> dict[str, Any]:
    """A copy of ``resource`` restricted by the two selections."""
    keys = {key.lower(): key for key in resource}
    if include and ("*", None) not in include:
        result = {key: resource[key] for key in ALWAYS_RETURNED if key in resource}
        for top, sub in include:
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
    for top, sub in exclude:
        key = keys.get(top)
        if key is None or key in ALWAYS_RETURNED:
            continue
        if sub is None:
            result.pop(key, None)
        else:
            _drop(result[key], sub)
    return result


def _sub_key(value: dict[str, Any], sub: str) -> str | None:
    return next((k for k in value if k.lower() == sub), None)


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
