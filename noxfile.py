"""Compatibility matrix: the test suite on each supported (Python, Django) pair, on SQLite.

    make matrix                        # every session (installs nox into .venv first)
    make matrix NOX_ARGS="-p 3.13"     # the sessions on one Python; .venv/bin/nox -l lists all
    .venv/bin/nox -s "tests(3.13-django6.1)"   # one session
    .venv/bin/nox -p 3.12 -- -x tests/test_checks.py   # after --: arguments for pytest

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
    """Install the app with its dev extra and the pinned Django, then run pytest on SQLite."""
    version = tuple(int(part) for part in django.split("."))
    extras = "dev,django-scim2" if version <= DJANGO_SCIM2_MAX else "dev"
    _run_suite(session, "-e", f".[{extras}]", f"Django~={django}.0")


@nox.session(python=LOWEST[0])
def lowest(session: nox.Session) -> None:
    """The suite on the lowest versions of the runtime dependencies that pyproject.toml allows."""
    # Without the django-scim2 extra: it needs Django 5.2.8 or newer.
    _run_suite(session, "-e", ".[dev]", *LOWEST[1])


def _run_suite(session: nox.Session, *install: str) -> None:
    session.install(*install)
    session.run(
        "python",
        "-c",
        "import sys, django, rest_framework; "
        "print('Python', sys.version.split()[0], '| Django', django.__version__, "
        "'| DRF', rest_framework.__version__)",
    )
    session.run("python", "-m", "pip", "check")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs)
