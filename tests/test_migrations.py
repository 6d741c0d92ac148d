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
