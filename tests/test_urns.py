"""Each SCIM URN and the SCIM media type is written once, in ``scim_provisioning/urns.py``.

A second spelling elsewhere in the package can drift from the first (a typo in one
answers the IdP with a schema it does not know); the tests themselves keep literal
strings, as an IdP writes them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import scim_provisioning
from scim_provisioning import urns

PACKAGE = Path(scim_provisioning.__file__).parent
MARKERS = ("urn:ietf:params:scim", "scim+json")


def _literals(path: Path) -> list[tuple[int, str]]:
    """String constants of ``path`` that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_module_but_urns_spells_out_a_scim_urn_or_the_media_type():
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {text[:60]}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "urns.py" and "migrations" not in path.parts
        for line, text in _literals(path)
        if any(marker in text for marker in MARKERS)
    ]

    assert found == []


def test_urns_defines_each_urn_once():
    values = [value for name, value in vars(urns).items() if name.isupper()]

    assert len(values) == len(set(values))
    assert urns.SCIM_MEDIA_TYPE == "application/scim+json"
    assert urns.ENTERPRISE_USER_SCHEMA_URN.startswith(urns.EXTENSION_URN_PREFIX)
