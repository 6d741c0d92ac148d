"""The host's own User extension, declared in ``SCIM_PROVISIONING_USER_EXTENSION``.

The setting becomes a :class:`Schema` like the enterprise extension's, so
``/Schemas``, the ``ResourceType``, POST/PUT/PATCH, projection and value
checks all come from the same machinery; only where each attribute goes on
the host (its ``field``) is kept beside the schema. The setting is validated
by the system checks (:func:`problems`), which say what is wrong and how to
fix it; here it is read as the checks let it through.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from ..conf import app_settings
from ..urns import EXTENSION_URN_PREFIX
from .attributes import Attribute, Schema

#: The attribute types a host may declare (RFC 7643 §2.3, complex and binary aside).
TYPES = ("string", "boolean", "integer", "decimal", "dateTime", "reference")
URN_PATTERN = re.compile(rf"^{re.escape(EXTENSION_URN_PREFIX)}[A-Za-z0-9_.-]+:2\.0:User$")
_KEYS = {"name", "type", "multiValued", "caseExact", "field", "description"}


@dataclass(frozen=True)
class UserExtension:
    """The host's extension: its schema, and the host field each attribute maps to."""

    schema: Schema
    #: Attribute name → field of the user model it is copied onto (``None``: the
    #: adapter's :meth:`~scim_provisioning.adapters.DefaultAdapter.set_custom_attributes`
    #: decides alone).
    fields: dict[str, str | None]

    @property
    def urn(self) -> str:
        return self.schema.id


def user_extension() -> UserExtension | None:
    """The extension the settings declare, else ``None``; built once per distinct setting."""
    global _last
    declared = app_settings.USER_EXTENSION
    if not declared:
        return None
    # Asked for once per user of a page: the setting object it was last built
    # from answers without serialising the setting again.
    last = _last
    if last is not None and last[0] is declared:
        return last[1]
    extension = _build(json.dumps(declared, sort_keys=True, default=str))
    _last = (declared, extension)
    return extension


#: The setting object last read and what it built (one tuple: read and written whole).
_last: tuple[Any, UserExtension] | None = None


@receiver(setting_changed)
def _forget_last(*, setting: str, **kwargs: Any) -> None:
    # Nothing built from one value of the setting outlives a change of it (tests change it).
    global _last
    if setting.startswith("SCIM_PROVISIONING_"):
        _last = None


@lru_cache(maxsize=8)
def _build(declared_json: str) -> UserExtension:
    declared = json.loads(declared_json)
    attributes = tuple(
        Attribute(
            item["name"],
            type=item.get("type", "string"),
            multi_valued=bool(item.get("multiValued", False)),
            case_exact=bool(item.get("caseExact", False)),
            description=item.get("description") or f"{item['name']} (the site's own attribute).",
        )
        for item in declared.get("attributes", ())
    )
    schema = Schema(
        id=declared["urn"],
        name=declared.get("name") or declared["urn"].split(":")[-3],
        description=declared.get("description") or "The site's own user attributes.",
        attributes=attributes,
    )
    fields = {item["name"]: item.get("field") for item in declared.get("attributes", ())}
    return UserExtension(schema=schema, fields=fields)


def problems(declared: Any, taken: set[str]) -> list[tuple[str, str]]:
    """What is wrong with the setting ``declared``, as ``(message, hint)`` pairs.

    ``taken`` holds the lower-case attribute names of the core schema and the
    other extensions: an unprefixed PATCH path must name one attribute only.
    Whether a ``field`` exists on the user model is checked by the caller.
    """
    if not isinstance(declared, dict):
        return [("must be a dict.", 'Give {"urn": ..., "name": ..., "attributes": [...]}.')]
    found: list[tuple[str, str]] = []
    urn = declared.get("urn")
    if not isinstance(urn, str) or not URN_PATTERN.match(urn):
        found.append(
            (
                f"has the URN {urn!r}, which is no User extension URN.",
                f"Use {EXTENSION_URN_PREFIX}<name>:2.0:User.",
            )
        )
    attributes = declared.get("attributes")
    if not isinstance(attributes, list) or not attributes:
        return [*found, ("declares no attributes.", 'Give "attributes": a list of dicts.')]
    seen: set[str] = set()
    for item in attributes:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            found.append((f"has an attribute without a name: {item!r}.", 'Give each a "name".'))
            continue
        name = item["name"]
        if not re.match(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$", name):
            found.append(
                (f"has the attribute name {name!r}.", "Use up to 64 letters, digits, _ and -.")
            )
        unknown = set(item) - _KEYS
        if unknown:
            found.append(
                (f"attribute {name!r} has unknown keys {sorted(unknown)}.", f"Use {sorted(_KEYS)}.")
            )
        if item.get("type", "string") not in TYPES:
            found.append(
                (f"attribute {name!r} has the type {item.get('type')!r}.", f"Use one of {TYPES}.")
            )
        if name.lower() in seen:
            found.append((f"declares {name!r} twice.", "Names are case-insensitive."))
        elif name.lower() in taken:
            found.append(
                (
                    f"attribute {name!r} is already a User or enterprise attribute.",
                    "Choose another name: an unprefixed path must name one attribute.",
                )
            )
        seen.add(name.lower())
    return found
