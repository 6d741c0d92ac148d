"""A group's members as requests name them, reduced to one :class:`MembershipChange`.

Members are never loaded into a document, as a group may hold many: a PUT's
``members`` list and a PATCH's operations on ``members`` (values, or a
``members[value eq "<id>"]`` selector) become set operations on member ids,
which :func:`~.groups.update_group` applies in a fixed number of statements.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import InvalidFilter, InvalidPath
from ..patch import Target
from ..resources.groups import member_ids
from ..resources.values import coerce
from ..value_filters import equality_terms
from .groups import MembershipChange


def replacement(members: list[dict[str, Any]] | None) -> MembershipChange:
    """A PUT's ``members``: the group's members become exactly these."""
    change = MembershipChange()
    change.replace(member_ids(members))
    return change


def selected_members(value_filter: Any) -> set[str]:
    """The member ids a ``members[...]`` filter selects: ``value eq`` terms joined by ``or``.

    A member has one value, so ``value eq "a" and value eq "b"`` selects no one:
    refused as any other form, a 400 ``invalidFilter`` (RFC 7644 §3.5.2.3).
    """
    terms = equality_terms(value_filter)
    if terms is None or any(len(term) != 1 or term[0][0].lower() != "value" for term in terms):
        raise InvalidFilter('Members are selected by id only, e.g. members[value eq "<id>"].')
    return {term[0][1] for term in terms}


class MemberOperations:
    """The PATCH delegate for ``members`` (see :data:`~scim_provisioning.patch.Delegate`).

    One instance per request: it collects that PATCH's member operations, in
    order, into :attr:`change`.
    """

    def __init__(self) -> None:
        self._change = MembershipChange()
        self._touched = False

    @property
    def change(self) -> MembershipChange | None:
        """The change to apply; ``None`` when the PATCH had no operation on ``members``."""
        return self._change if self._touched else None

    def __call__(self, op: str, target: Target, value: Any, has_value: bool) -> None:
        self._touched = True
        if target.sub_attribute is not None:
            raise InvalidPath("Members are added or removed whole; their sub-attributes are fixed.")
        values = member_ids(coerce(target.attribute, value)) if has_value else []
        if target.value_filter is not None:
            self._change.remove(selected_members(target.value_filter))
            if op != "remove":
                self._change.add(values)
        elif op == "add":
            self._change.add(values)
        elif op == "remove":
            # A value list names the members to remove (Entra, JumpCloud);
            # only a remove with no value at all empties the group.
            if has_value:
                self._change.remove(values)
            else:
                self._change.remove_all()
        else:
            self._change.replace(values)
