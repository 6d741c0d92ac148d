"""The hosts under ``tests/hosts/``, each in its own pytest process with its own settings.

Django reads its settings once per process, and a host of another shape needs
another ``AUTH_USER_MODEL``: each host runs as a child pytest, on SQLite, and
this test fails with the child's report when any of its tests fails.

``stock_user`` (stock ``auth.User``, organizations, memberships without an
active flag, configured by settings alone) replays the example site's IdP
conversations (roles included), tenant-isolation tests and every way of authenticating but the
consent page (which needs the example site's login): their database assertions go through
``tests/host.py``. ``organizations`` (django-organizations: a boolean ``is_admin`` role and an
owner its model guards) and ``seats`` (django-allauth accounts keyed by email, a role that is a
foreign key, a model guard and a ``post_save`` receiver) replay the conversations and
tenant-isolation tests too, besides their own. Each follows ``DATABASE_URL`` like the main suite.
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


def run_host(
    name: str, *shared: str, own_conftest: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the host's own tests and the ``shared`` test modules of the example site there.

    ``own_conftest``: only the host folder's fixtures, not ``tests/conftest.py``
    (the django-scim2 host has fixtures of its own).
    """
    folder = HOSTS / name
    confcutdir = [f"--confcutdir={folder}"] if own_conftest else []
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            # Plugins no host test uses: each would cost the child their import and the
            # assertion rewriting of their whole package (about 0.8 s of CPU a host).
            *("-p", "no:hypothesispytest", "-p", "no:faker", "-p", "no:anyio"),
            f"--ds=tests.hosts.{name}.settings",
            *confcutdir,
            str(folder),
            *(str(ROOT / "tests" / module) for module in shared),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


#: django-scim2 0.23 requires Django>=5.2.8,<6.1: elsewhere the extra cannot be installed.
DJANGO_SCIM2_INSTALLABLE = (5, 2, 8) <= django.VERSION[:3] < (6, 1)


@pytest.mark.skipif(
    not DJANGO_SCIM2_INSTALLABLE,
    reason=f"django-scim2 0.23 cannot be installed with Django {django.__version__}",
)
@pytest.mark.ci_may_skip  # for that reason only: where it can be installed, its absence fails
def test_django_scim2_host():
    """A site built on django-scim2's mixins moves its teams here (scim_import_django_scim2)."""
    if importlib.util.find_spec("django_scim") is None:
        pytest.fail("django-scim2 is missing: pip install -e '.[dev,django-scim2]'")
    result = run_host("django_scim2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout.splitlines()[-1], result.stdout


SHARED_WITH_STOCK_USER = (
    "test_idp_conversations.py",
    "test_idp_roles.py",
    "test_tenant_isolation.py",
    "test_emails.py",
    "test_host_rules.py",
    "test_auth_modes.py",
    "test_oauth_client_credentials.py",
    "test_deprovision_guard_hosts.py",
)


def test_stock_user_host():
    """The IdP conversations, roles and tenant isolation, on a host configured by settings alone."""
    result = run_host("stock_user", *SHARED_WITH_STOCK_USER, own_conftest=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, result.stdout


SHARED_WITH_EVERY_HOST = (
    "test_idp_conversations.py",
    "test_tenant_isolation.py",
    "test_emails.py",
    "test_deprovision_guard_hosts.py",
)


def test_django_organizations_host():
    """django-organizations by settings alone: the conversations, and its owner kept (issue 22)."""
    if importlib.util.find_spec("organizations") is None:
        pytest.fail("django-organizations is missing: pip install -e '.[dev]'")
    result = run_host("organizations", *SHARED_WITH_EVERY_HOST, own_conftest=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, result.stdout


def test_allauth_foreign_key_role_host():
    """A role that is a foreign key, a model guard and audit receivers, by settings alone."""
    result = run_host("seats", *SHARED_WITH_EVERY_HOST, own_conftest=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, result.stdout
