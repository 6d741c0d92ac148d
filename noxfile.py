"""Compatibility matrix: the test suite on each supported (Python, Django) pair, on SQLite.

What runs where (CI's budget is 30 minutes, and each whole run of the suite costs about
two of them; see docs/contributing.md):

- the whole suite on the newest pair, ``tests(3.13-django6.1)``, and on the oldest,
  ``lowest`` (Python 3.10 with every runtime dependency at the lower bound
  pyproject.toml declares: Django 5.2.0, DRF 3.16.0, scim2-filter-parser 0.7.0);
- a smoke subset (:data:`SMOKE`) on every pair between: the modules that lean on what
  changes between Django releases (the ORM compiler internals of the compiled reads,
  query counts, migrations, system checks, the admin, the HTTP layer) and one IdP
  conversation per IdP with tenant isolation, end to end.

``.ci/run`` adds the whole suite on the dev virtualenv's pair, on SQLite (once more with
the compiled reads off) and on PostgreSQL. Each session runs pytest on every core
(pytest-xdist, ``-n auto``).

``django_prerelease`` (not run by a bare ``nox``; ``.ci/run`` runs it, its failure reported
but allowed) runs :data:`SMOKE` on the newest Django pre-release on PyPI when one is newer
than the newest release: a change in the compiler internals the compiled reads use
(``scim_provisioning/reads.py``) is seen before a release ships it.

    make matrix                        # every session (installs nox into .venv first)
    make matrix NOX_ARGS="-p 3.13"     # the sessions on one Python; .venv/bin/nox -l lists all
    .venv/bin/nox -s "tests(3.13-django6.1)"   # one session
    .venv/bin/nox -p 3.12 -- -x tests/test_checks.py   # after --: the tests to run, not SMOKE

Interpreters are looked up by version (``python3.12``) on PATH, with pyenv's
installed versions put first: pyenv's shims only run the versions pyenv has
selected, so a shim would fail for the others. A missing interpreter fails its
session: nothing is skipped and no Python is downloaded. Each session builds its own
virtualenv under ``.nox/`` and reuses it on the next run (pip still runs, so a
changed ``pyproject.toml`` is followed).
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

# (Python, Django) pairs: each supported Django on the oldest and newest Python it supports
# that pyenv has here (5.2 LTS: 3.10-3.13; 6.0 and 6.1 need 3.12 or newer).
MATRIX = [
    ("3.10", "5.2"),
    ("3.13", "5.2"),
    ("3.12", "6.0"),
    ("3.13", "6.0"),
    ("3.12", "6.1"),
    ("3.13", "6.1"),
]
#: The pair that runs the whole suite; every other pair of MATRIX runs SMOKE.
NEWEST = ("3.13", "6.1")
#: Per module, why it is in the smoke subset: it breaks first when Django or Python changes.
SMOKE = (
    "tests/test_prepared.py",  # SQL compiled once: Django's compiler internals
    "tests/test_prepared_lists.py",  # the compiled list pages, the same internals
    "tests/test_compiled_reads.py",  # the seam of compiled reads, on and off
    "tests/test_query_budgets.py",  # statements per request, which the ORM decides
    "tests/test_migrations.py",  # the app's migrations on this Django
    "tests/test_checks.py",  # the system checks, which read model and field internals
    "tests/test_admin_scim_page.py",  # the admin's templates and views
    "tests/test_http_layer.py",  # DRF and Django's request handling: media types, errors
    "tests/test_idp_conversations.py",  # each IdP's conversation, end to end
    "tests/test_tenant_isolation.py",  # team B's token against team A, every endpoint
)
#: django-scim2 0.23 (the `[django-scim2]` extra) caps Django below 6.1; the test of
#: `scim_import_django_scim2` skips, with its reason, where it cannot be installed.
DJANGO_SCIM2_MAX = (6, 0)
#: The lower bounds pyproject.toml declares, run exactly, on the oldest Python.
LOWEST = ("3.10", ["Django==5.2", "djangorestframework==3.16.0", "scim2-filter-parser==0.7.0"])

nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
nox.options.download_python = "never"
nox.options.default_venv_backend = "venv"


def _version_key(path: Path) -> tuple[int, ...]:
    """``3.12.1`` sorts after ``3.12.0``; names that are not versions sort first."""
    parts = path.parent.name.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else ()


def _put_pyenv_versions_on_path() -> None:
    """Put every ``$PYENV_ROOT/versions/*/bin`` first on PATH, newest patch release first."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    bins = sorted(root.glob("versions/*/bin"), key=_version_key, reverse=True)
    if bins:
        os.environ["PATH"] = os.pathsep.join([*map(str, bins), os.environ.get("PATH", "")])


_put_pyenv_versions_on_path()
# The matrix runs on SQLite; PostgreSQL is covered once, by .ci/run.
os.environ.pop("DATABASE_URL", None)


@nox.session
@nox.parametrize(
    "python,django",
    MATRIX,
    ids=[f"{python}-django{django}" for python, django in MATRIX],
)
def tests(session: nox.Session, django: str) -> None:
    """Install the app with its dev extra and the pinned Django, then run pytest on SQLite.

    The whole suite on :data:`NEWEST`, the :data:`SMOKE` subset on the other pairs.
    """
    version = tuple(int(part) for part in django.split("."))
    extras = "dev,django-scim2" if version <= DJANGO_SCIM2_MAX else "dev"
    whole = (session.python, django) == NEWEST
    _run_suite(session, "-e", f".[{extras}]", f"Django~={django}.0", smoke=not whole)


@nox.session(python=LOWEST[0])
def lowest(session: nox.Session) -> None:
    """The suite on the lowest versions of the runtime dependencies that pyproject.toml allows."""
    # Without the django-scim2 extra: it needs Django 5.2.8 or newer.
    _run_suite(session, "-e", ".[dev]", *LOWEST[1])


@nox.session(python=NEWEST[0], default=False)
def django_prerelease(session: nox.Session) -> None:
    """:data:`SMOKE` on the newest Django pre-release, if PyPI has one newer than every release.

    ``pip install --pre --upgrade Django`` picks the highest version, pre-releases
    included: a final release there means no newer pre-release, and the session
    says so and succeeds.
    """
    session.install("-e", ".[dev]")
    session.install("--pre", "--upgrade", "Django")
    level = session.run("python", "-c", "import django; print(django.VERSION[3])", silent=True)
    version = session.run("python", "-c", "import django; print(django.__version__)", silent=True)
    if str(level).strip() == "final":
        session.log(f"no pre-release: Django {str(version).strip()} is the newest on PyPI")
        return
    session.log(f"Django pre-release {str(version).strip()}")
    _run_tests(session, SMOKE)


def _run_suite(session: nox.Session, *install: str, smoke: bool = False) -> None:
    session.install(*install)
    session.run(
        "python",
        "-c",
        "import sys, django, rest_framework; "
        "print('Python', sys.version.split()[0], '| Django', django.__version__, "
        "'| DRF', rest_framework.__version__)",
    )
    session.run("python", "-m", "pip", "check")
    _run_tests(session, SMOKE if smoke else ())


def _run_tests(session: nox.Session, selection: tuple[str, ...]) -> None:
    # Arguments after `--` choose the tests themselves; otherwise ``selection`` (all if empty).
    chosen = session.posargs or selection
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto", *chosen)
