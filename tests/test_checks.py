"""System checks: each misconfiguration gives its stable id, alone, with a hint.

Each case is asserted twice: by calling the check function and through Django's
``run_checks`` (what ``manage.py check`` runs). This module doubles as a URLconf
without the SCIM endpoints, for W001.
"""

from __future__ import annotations

import importlib.util
from io import StringIO
from unittest import mock

import pytest
from django.core import checks
from django.core.management import call_command
from django.test import modify_settings, override_settings

from scim_provisioning.adapters import DefaultAdapter
from scim_provisioning.checks import (
    check_adapter,
    check_base_url,
    check_membership_model,
    check_rest_framework,
    check_sqlite_concurrency,
    check_team_model,
    check_urls_mounted,
)

urlpatterns: list = []  # ROOT_URLCONF="tests.test_checks": a site that forgot to mount SCIM

# Since Django 6.1, run_checks() and `manage.py check` hand every database alias to the
# model checks (SQLite's then asks the database whether it supports JSON fields): the
# checks run here as they do in `manage.py check`, with the database.
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _base_url_set(settings):
    """The example project as deployed: ``scripts/demo.sh`` sets its base URL (W003 otherwise)."""
    settings.SCIM_PROVISIONING_BASE_URL = "https://teams.example/scim/v2"


class NotAnAdapterClass:
    """Importable, but the setting below names an instance of it."""


not_a_class = NotAnAdapterClass()


def ids(messages: list[checks.CheckMessage]) -> list[str]:
    """The ids of the app's own messages (Django's and other apps' are not under test)."""
    return [m.id for m in messages if m.id and m.id.startswith("scim_provisioning.")]


def only(messages: list[checks.CheckMessage], expected_id: str) -> checks.CheckMessage:
    """The single message, which has the expected id and a hint."""
    assert ids(messages) == [expected_id], messages
    (message,) = [m for m in messages if m.id == expected_id]
    assert message.hint and message.hint.strip()
    return message


# -- the example project is clean ------------------------------------------------------


def test_example_project_passes_manage_py_check():
    out = StringIO()
    call_command("check", fail_level="WARNING", stdout=out)
    assert "no issues" in out.getvalue()


def test_example_project_gives_no_app_messages():
    assert ids(checks.run_checks()) == []


@pytest.mark.parametrize(
    "check",
    [check_team_model, check_adapter, check_rest_framework, check_membership_model],
)
def test_each_check_passes_on_the_example_project(check):
    assert check() == []


def test_url_check_is_tagged_urls():
    assert ids(checks.run_checks(tags=[checks.Tags.urls])) == []
    with override_settings(ROOT_URLCONF="tests.test_checks"):
        assert ids(checks.run_checks(tags=[checks.Tags.urls])) == ["scim_provisioning.W001"]


# -- E001 / E002: the team model -------------------------------------------------------
# scim_provisioning.models reads the setting on import; here the models are already
# loaded, so the checks can be run with the setting removed.


@override_settings()
def test_e001_team_model_missing():
    from django.conf import settings

    del settings.SCIM_PROVISIONING_TEAM_MODEL
    message = only(check_team_model(), "scim_provisioning.E001")
    assert message.level == checks.ERROR
    assert "SCIM_PROVISIONING_TEAM_MODEL" in message.msg
    only(checks.run_checks(), "scim_provisioning.E001")


@override_settings(SCIM_PROVISIONING_TEAM_MODEL="")
def test_e001_team_model_empty():
    only(check_team_model(), "scim_provisioning.E001")
    only(checks.run_checks(), "scim_provisioning.E001")


@pytest.mark.parametrize("value", ["Team", "teams.models.Team", 42])
def test_e002_team_model_not_a_label(value):
    with override_settings(SCIM_PROVISIONING_TEAM_MODEL=value):
        message = only(check_team_model(), "scim_provisioning.E002")
        assert "app_label.ModelName" in message.msg
        only(checks.run_checks(), "scim_provisioning.E002")


@pytest.mark.parametrize("value", ["teams.Squad", "nowhere.Team"])
def test_e002_team_model_not_installed(value):
    with override_settings(SCIM_PROVISIONING_TEAM_MODEL=value):
        message = only(check_team_model(), "scim_provisioning.E002")
        assert "not an installed model" in message.msg
        only(checks.run_checks(), "scim_provisioning.E002")


# -- E003: the adapter -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["nowhere.adapters.TeamAdapter", "scim_provisioning.adapters.Missing", "nodots"]
)
def test_e003_adapter_cannot_be_imported(path):
    with override_settings(SCIM_PROVISIONING_ADAPTER=path):
        message = only(check_adapter(), "scim_provisioning.E003")
        assert "cannot be imported" in message.msg
        only(checks.run_checks(), "scim_provisioning.E003")


@override_settings(SCIM_PROVISIONING_ADAPTER="tests.test_checks.not_a_class")
def test_e003_adapter_is_not_a_class():
    message = only(check_adapter(), "scim_provisioning.E003")
    assert "not a class" in message.msg
    only(checks.run_checks(), "scim_provisioning.E003")


@override_settings(SCIM_PROVISIONING_ADAPTER="tests.adapters.DeletingAdapter")
def test_a_subclass_of_the_default_adapter_passes():
    assert check_adapter() == []
    assert check_membership_model() == []


# -- E004: Django REST framework -------------------------------------------------------


@modify_settings(INSTALLED_APPS={"remove": "rest_framework"})
def test_e004_rest_framework_not_in_installed_apps():
    message = only(check_rest_framework(), "scim_provisioning.E004")
    assert "INSTALLED_APPS" in message.msg
    only(checks.run_checks(), "scim_provisioning.E004")


def test_e004_rest_framework_not_installed():
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "rest_framework" else real_find_spec(name, *args, **kwargs)

    with mock.patch("scim_provisioning.checks.importlib.util.find_spec", find_spec):
        message = only(check_rest_framework(), "scim_provisioning.E004")
        assert "not installed" in message.msg
        assert "pip install djangorestframework" in message.hint
        only(checks.run_checks(), "scim_provisioning.E004")


# -- W001: the URLs --------------------------------------------------------------------


@override_settings(ROOT_URLCONF="tests.test_checks")
def test_w001_urls_not_mounted():
    message = only(check_urls_mounted(), "scim_provisioning.W001")
    assert message.level == checks.WARNING
    assert 'include("scim_provisioning.urls")' in message.hint
    only(checks.run_checks(), "scim_provisioning.W001")


# -- E005: the default adapter's membership model --------------------------------------


@override_settings()
def test_e005_membership_model_missing():
    from django.conf import settings

    del settings.SCIM_PROVISIONING_MEMBERSHIP_MODEL
    message = only(check_membership_model(), "scim_provisioning.E005")
    assert "SCIM_PROVISIONING_MEMBERSHIP_MODEL is not set" in message.msg
    only(checks.run_checks(), "scim_provisioning.E005")


@pytest.mark.parametrize(
    ("value", "text"),
    [("Membership", "app_label.ModelName"), ("teams.Seat", "not an installed model")],
)
def test_e005_membership_model_invalid(value, text):
    with override_settings(SCIM_PROVISIONING_MEMBERSHIP_MODEL=value):
        assert text in only(check_membership_model(), "scim_provisioning.E005").msg
        only(checks.run_checks(), "scim_provisioning.E005")


@pytest.mark.parametrize(
    ("setting", "value", "text"),
    [
        ("SCIM_PROVISIONING_MEMBERSHIP_TEAM_FIELD", "squad", "has no such field"),
        ("SCIM_PROVISIONING_MEMBERSHIP_TEAM_FIELD", "user", "not a foreign key to teams.Team"),
        ("SCIM_PROVISIONING_MEMBERSHIP_USER_FIELD", "member", "has no such field"),
        ("SCIM_PROVISIONING_MEMBERSHIP_USER_FIELD", "role", "not a foreign key to accounts.User"),
        ("SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD", "active", "has no such field"),
        ("SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD", "rank", "has no such field"),
    ],
)
def test_e005_membership_field_wrong(setting, value, text):
    with override_settings(**{setting: value}):
        message = only(check_membership_model(), "scim_provisioning.E005")
        assert setting in message.msg and text in message.msg
        assert message.obj._meta.label == "teams.Membership"
        only(checks.run_checks(), "scim_provisioning.E005")


@override_settings(SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD=None)
def test_role_field_is_optional():
    assert check_membership_model() == []


def test_e005_active_field_that_is_no_boolean():
    """A timestamp passed the check, then every POST /Users was a 500 (issue 10)."""
    with override_settings(SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD="created"):
        message = only(check_membership_model(), "scim_provisioning.E005")
    assert "DateTimeField, not a BooleanField" in message.msg
    assert "MEMBERSHIP_ACTIVE_FIELD = None" in message.hint


@override_settings(SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD=None)
def test_no_active_field_is_a_shape_of_its_own():
    assert check_membership_model() == []


class HookedMemberships(DefaultAdapter):
    """Overrides every public membership hook but memberships(): nothing reads the settings."""

    def set_membership_active(self, config, user, active): ...
    def remove_membership(self, config, user): ...
    def team_membership(self, config, user): ...
    def held_by_other_team(self, config, user): ...
    def is_last_manager(self, config, user): ...
    def is_managed_by_team(self, config, user, record): ...
    def group_members_changed(self, config, user_ids): ...
    def user_roles_changed(self, config, user_ids): ...
    def can_manage_scim(self, team, user): ...
    def is_team_member(self, team, user, **conditions): ...


@override_settings(
    SCIM_PROVISIONING_ADAPTER="tests.test_checks.HookedMemberships",
    SCIM_PROVISIONING_MEMBERSHIP_MODEL=None,
    SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD="deactivated_at",
)
def test_e005_steps_aside_for_an_adapter_overriding_the_public_hooks():
    """Without overriding a private method, as the README used to need (issue 10)."""
    assert check_membership_model() == []


class PartlyHooked(DefaultAdapter):
    """Overrides one hook only: the others still read the membership settings."""

    def is_team_member(self, team, user, **conditions):
        return False


@override_settings(
    SCIM_PROVISIONING_ADAPTER="tests.test_checks.PartlyHooked",
    SCIM_PROVISIONING_MEMBERSHIP_MODEL=None,
)
def test_e005_for_an_adapter_keeping_some_membership_hooks():
    only(check_membership_model(), "scim_provisioning.E005")


class OwnModel(DefaultAdapter):
    """Keeps its memberships in another model: its fields are checked there."""

    def memberships(self):
        from example_project.teams.models import Team

        return Team.objects.all()


@override_settings(
    SCIM_PROVISIONING_ADAPTER="tests.test_checks.OwnModel",
    SCIM_PROVISIONING_MEMBERSHIP_MODEL=None,
)
def test_e005_checks_the_fields_of_the_model_memberships_returns():
    messages = check_membership_model()
    assert {m.id for m in messages} == {"scim_provisioning.E005"}
    assert all(m.obj._meta.label == "teams.Team" for m in messages)


class OwnMemberships:
    """Stands in for an adapter keeping memberships its own way (see the next test)."""


@override_settings(
    SCIM_PROVISIONING_ADAPTER="tests.test_checks.OwnMemberships",
    SCIM_PROVISIONING_MEMBERSHIP_MODEL=None,
)
def test_e005_only_for_adapters_using_the_membership_settings():
    assert check_membership_model() == []
    assert ids(checks.run_checks()) == []


@override_settings(
    SCIM_PROVISIONING_ADAPTER="nowhere.Adapter", SCIM_PROVISIONING_MEMBERSHIP_MODEL=None
)
def test_an_unimportable_adapter_is_reported_once():
    assert ids(checks.run_checks()) == ["scim_provisioning.E003"]


SQLITE = "django.db.backends.sqlite3"


def _databases(**options):
    return {"default": {"ENGINE": SQLITE, "NAME": "site.sqlite3", "OPTIONS": options}}


@pytest.mark.parametrize(
    "options",
    [{}, {"timeout": 20}, {"transaction_mode": "DEFERRED"}],
    ids=["no-options", "timeout-only", "deferred"],
)
def test_w002_sqlite_without_immediate_transactions(options):
    with mock.patch("django.conf.settings.DATABASES", _databases(**options)):
        messages = check_sqlite_concurrency()
    assert ids(messages) == ["scim_provisioning.W002"]
    assert '"transaction_mode": "IMMEDIATE"' in messages[0].hint


@pytest.mark.parametrize("mode", ["IMMEDIATE", "immediate", "EXCLUSIVE"])
def test_w002_passes_sqlite_with_immediate_transactions(mode):
    with mock.patch("django.conf.settings.DATABASES", _databases(transaction_mode=mode)):
        assert check_sqlite_concurrency() == []


def test_w002_ignores_other_databases():
    databases = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "site"}}
    with mock.patch("django.conf.settings.DATABASES", databases):
        assert check_sqlite_concurrency() == []


# -- W003: the site's own SCIM base URL ---------------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
def test_w003_base_url_not_set(settings, value):
    settings.SCIM_PROVISIONING_BASE_URL = value
    message = only(check_base_url(), "scim_provisioning.W003")
    assert message.level == checks.WARNING
    assert "Check connection" in message.msg and "Host header" in message.msg
    assert 'SCIM_PROVISIONING_BASE_URL = "https://' in message.hint
    only(checks.run_checks(), "scim_provisioning.W003")


def test_w003_passes_with_the_base_url_set():
    assert check_base_url() == []


def _documented_sqlite_options() -> dict[str, object]:
    """The ``OPTIONS`` the README (or the docs it moved to) tells a SQLite site to set."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        found = re.search(
            r'^DATABASES\["default"\]\["OPTIONS"\] = (\{.*?^\})', page.read_text(), re.M | re.S
        )
        if found:
            return ast.literal_eval(ast.parse(found.group(1), mode="eval").body)
    raise AssertionError("no page documents the SQLite OPTIONS")


def test_w002_hint_is_the_documented_setting():
    """The hint is a Python dict a reader can paste, and the same one the docs give (issue 22)."""
    import ast

    with mock.patch("django.conf.settings.DATABASES", _databases()):
        hint = check_sqlite_concurrency()[0].hint
    assignment = hint.split(" = ", 1)[1].split(" (Django", 1)[0]
    assert ast.literal_eval(assignment) == _documented_sqlite_options()


# -- roles the role field cannot hold (issue 22) ----------------------------------------


@override_settings(SCIM_PROVISIONING_MANAGER_ROLES=("owner", "superadmin"))
def test_e007_a_manager_role_outside_the_fields_choices():
    message = only(checks.run_checks(), "scim_provisioning.E007")
    assert "MANAGER_ROLES" in message.msg and "'superadmin'" in message.msg
    assert "'member'" in message.hint  # the choices, to pick from


@override_settings(SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS={"role": True})
def test_e007_a_default_role_of_another_type():
    message = only(checks.run_checks(), "scim_provisioning.E007")
    assert "MEMBERSHIP_DEFAULTS['role']" in message.msg and "True" in message.msg


@override_settings(SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD="role__name")
def test_e005_a_role_path_through_a_field_that_is_no_foreign_key():
    message = only(check_membership_model(), "scim_provisioning.E005")
    assert "'role__name'" in message.msg and "no foreign key" in message.msg


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("tests.test_checks.NoSuchGuard", "cannot be imported"),
        ("tests.test_checks.ids", "no exception"),
    ],
)
def test_e009_a_guard_exception_that_is_none(path, problem):
    with override_settings(SCIM_PROVISIONING_MEMBERSHIP_GUARD_EXCEPTIONS=[path]):
        message = only(checks.run_checks(), "scim_provisioning.E009")
    assert path in message.msg and problem in message.msg


def test_e008_a_stored_mapping_outside_the_fields_choices(team):
    from scim_provisioning.checks import check_team_role_mappings
    from scim_provisioning.models import SCIMTeamConfig

    SCIMTeamConfig.objects.filter(team=team).update(user_roles={"Boss": "superadmin"})

    message = only(check_team_role_mappings(databases=["default"]), "scim_provisioning.E008")
    assert "'Boss'" in message.msg and "user_roles" in message.msg
    assert check_team_role_mappings() == []  # without --database: no query
