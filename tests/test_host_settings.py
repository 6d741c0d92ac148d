"""Every host this suite runs in its own process follows CI's switch for the compiled reads.

``.ci/run`` runs the suite once more with ``SCIM_COMPILED_QUERIES=0``; the hosts of
``tests/hosts`` and the wheel smoke's host run in subprocesses with their own settings,
so each must read the variable as ``example_project/settings.py`` does, or that run
would test them with the compiled reads on.
"""

from __future__ import annotations

import importlib
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOSTS = sorted(p.parent.name for p in (ROOT / "tests" / "hosts").glob("*/settings.py"))


def _host_setting(host: str) -> object:
    module = importlib.import_module(f"tests.hosts.{host}.settings")
    module = importlib.reload(module)  # read the environment as it is now
    return getattr(module, "SCIM_PROVISIONING_COMPILED_QUERIES", "unset")


def _smoke_setting() -> object:
    namespace = runpy.run_path(str(ROOT / "scripts" / "wheel_smoke.py"), run_name="smoke")
    settings: dict[str, object] = {}
    exec(namespace["SETTINGS"], settings)  # the settings module the smoke host is given
    organizations: dict[str, object] = {}
    exec(namespace["organizations_settings"](), organizations)
    assert organizations["SCIM_PROVISIONING_COMPILED_QUERIES"] == settings.get(
        "SCIM_PROVISIONING_COMPILED_QUERIES", "unset"
    )
    return settings.get("SCIM_PROVISIONING_COMPILED_QUERIES", "unset")


def test_every_host_is_found():
    assert {"django_scim2", "organizations", "seats", "stock_user"} <= set(HOSTS)


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(("variable", "compiled"), [("0", False), ("1", True), (None, True)])
def test_a_host_turns_the_compiled_reads_off_with_ci(monkeypatch, host, variable, compiled):
    if variable is None:
        monkeypatch.delenv("SCIM_COMPILED_QUERIES", raising=False)
    else:
        monkeypatch.setenv("SCIM_COMPILED_QUERIES", variable)

    assert _host_setting(host) is compiled


@pytest.mark.parametrize(("variable", "compiled"), [("0", False), ("1", True)])
def test_the_wheel_smoke_host_turns_the_compiled_reads_off_with_ci(monkeypatch, variable, compiled):
    monkeypatch.setenv("SCIM_COMPILED_QUERIES", variable)
    monkeypatch.setattr(sys, "argv", ["wheel_smoke.py"])

    assert _smoke_setting() is compiled
