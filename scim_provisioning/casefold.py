"""Names matched whatever their case: attribute names, URNs, parameters (RFC 7643 §2.1).

The one way this package looks a name up case-insensitively. Two rules hold for
every caller:

- Case is folded with :meth:`str.lower`, not :meth:`str.casefold`: SCIM's names
  are ASCII, and ``"ß"`` must not come to equal ``"ss"``.
- Of keys equal but for case (``{"Operations": […], "operations": […]}``), the
  **last** wins, as the last of two equal keys does in JSON itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
V = TypeVar("V")


def key_insensitive(keys: Iterable[Any], name: str) -> Any:
    """The key of ``keys`` equal to ``name`` whatever its case, as spelled there; ``None``
    when there is none."""
    folded, found = name.lower(), None
    for key in keys:
        if isinstance(key, str) and key.lower() == folded:
            found = key
    return found


def get_insensitive(mapping: Mapping[Any, V], name: str, default: V | None = None) -> V | None:
    """``mapping[name]`` whatever the case of the key; ``default`` when there is none."""
    key = key_insensitive(mapping, name)
    return default if key is None else mapping[key]


def has_insensitive(keys: Iterable[Any], name: str) -> bool:
    """Whether ``keys`` holds ``name`` whatever its case."""
    return key_insensitive(keys, name) is not None


def fold_keys(mapping: Mapping[Any, V]) -> dict[str, V]:
    """``mapping`` with its keys in lower case, to read several names from it."""
    return {str(key).lower(): value for key, value in mapping.items()}


def find_insensitive(items: Iterable[T], name: str, key: Callable[[T], str]) -> T | None:
    """The item of ``items`` whose ``key(item)`` equals ``name`` whatever its case."""
    folded = name.lower()
    for item in items:
        if key(item).lower() == folded:
            return item
    return None
