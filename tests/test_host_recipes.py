"""``docs/hosts.md`` gives exactly the settings its tested hosts run with (issue 22).

A recipe that drifted from its host would send a new user off with settings no
test runs. Each recipe's code block is read as Python and compared with the
host's settings module: for the hosts under ``tests/hosts/``, the same
``SCIM_PROVISIONING_*`` settings, no more, no fewer; for the example site, each
setting the recipe gives (the example also names an adapter and an extension
schema for its other features).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "hosts.md"
RECIPES = {
    "Example site": ("example_project.settings", False),
    "Stock `auth.User`": ("tests.hosts.stock_user.settings", True),
    "django-organizations": ("tests.hosts.organizations.settings", True),
    "A role that is a foreign key": ("tests.hosts.seats.settings", True),
}


def _recipe(heading: str) -> dict[str, Any]:
    section = re.search(
        rf"^## {re.escape(heading)}.*?```python\n(.*?)```", PAGE.read_text(), re.S | re.M
    )
    assert section, f"docs/hosts.md has no recipe under '## {heading}'"
    values: dict[str, Any] = {}
    for statement in ast.parse(section.group(1)).body:
        assert isinstance(statement, ast.Assign), ast.dump(statement)
        values[statement.targets[0].id] = ast.literal_eval(statement.value)  # type: ignore[attr-defined]
    return values


#: Set by every test host for the run, not by a recipe: CI's run with the compiled reads
#: off turns them off in the hosts too (tests/test_host_settings.py).
RUN_SWITCHES = {"SCIM_PROVISIONING_COMPILED_QUERIES"}


def _host_settings(module: str) -> dict[str, Any]:
    loaded = importlib.import_module(module)
    return {
        k: getattr(loaded, k)
        for k in dir(loaded)
        if k.startswith("SCIM_PROVISIONING_") and k not in RUN_SWITCHES
    }


@pytest.mark.parametrize("heading", RECIPES)
def test_a_recipe_is_its_hosts_settings(heading):
    module, exactly = RECIPES[heading]
    recipe, host = _recipe(heading), _host_settings(module)

    assert recipe, heading
    if exactly:
        assert recipe == host
    else:
        assert recipe == {name: host[name] for name in recipe}


def test_the_wheel_smoke_test_installs_the_django_organizations_recipe():
    """``make wheel-smoke`` configures its django-organizations host by this page's recipe."""
    import sys

    sys.path.insert(0, str(PAGE.parent.parent / "scripts"))
    try:
        wheel_smoke = importlib.import_module("wheel_smoke")
    finally:
        sys.path.pop(0)
    namespace: dict[str, Any] = {}
    exec(wheel_smoke.ORGANIZATIONS_RECIPE, namespace)  # our own constant
    smoke = {k: v for k, v in namespace.items() if k.startswith("SCIM_PROVISIONING_")}
    assert smoke == _recipe("django-organizations")
    assert '"organizations",' in wheel_smoke.organizations_settings()
