"""The app's migrations fit any host: they name no host app, only the swappable models."""

from __future__ import annotations

from django.db.migrations.loader import MigrationLoader


def test_app_migrations_depend_only_on_themselves_and_swappable_models():
    # makemigrations writes the example's latest `teams` migration into a new migration's
    # dependencies; a host without that app could then not migrate at all.
    loader = MigrationLoader(None, ignore_no_migrations=True)
    ours = [m for (app, _), m in loader.disk_migrations.items() if app == "scim_provisioning"]
    assert ours
    for migration in ours:
        for dependency in migration.dependencies:
            # swappable_dependency() gives a tuple that remembers its setting.
            swappable = getattr(dependency, "setting", None) is not None
            assert dependency[0] == "scim_provisioning" or swappable, (migration.name, dependency)


def test_the_first_migrate_of_a_new_site_runs(tmp_path):
    """``migrate`` runs the database-tagged checks before it creates any table: check E008
    (which reads the teams' role mappings) crashed the first ``migrate`` of every new site
    with "no such table: scim_provisioning_scimteamconfig" (found by the wheel smoke test)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=root,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'new-site.sqlite3'}"},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
