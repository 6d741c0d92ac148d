"""The hosts under ``tests/hosts/``, each in its own pytest process with its own settings.

Django reads its settings once per process, and a host of another shape needs
another ``AUTH_USER_MODEL``: each host runs as a child pytest, on SQLite, and
this test fails with the child's report when any of its tests fails.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import django
import pytest

HOSTS = Path(__file__).parent / "hosts"
ROOT = HOSTS.parent.parent


def run_host(name: str) -> subprocess.CompletedProcess[str]:
    folder = HOSTS / name
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--ds=tests.hosts.{name}.settings",
            f"--confcutdir={folder}",  # not tests/conftest.py: it imports the example site
            str(folder),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_django_scim2_host():
    """A site built on django-scim2's mixins moves its teams here (scim_import_django_scim2)."""
    if importlib.util.find_spec("django_scim") is None:
        # django-scim2 0.23 requires Django>=5.2.8,<6.1: elsewhere the extra cannot be installed.
        if not (5, 2, 8) <= django.VERSION[:3] < (6, 1):
            pytest.skip(f"django-scim2 0.23 cannot be installed with Django {django.__version__}")
        pytest.fail("django-scim2 is missing: pip install -e '.[dev,django-scim2]'")
    result = run_host("django_scim2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout.splitlines()[-1], result.stdout
