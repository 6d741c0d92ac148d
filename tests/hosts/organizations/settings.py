"""A django-organizations site (issue 22): stock ``auth.User``, ``Organization``,
``OrganizationUser`` with a boolean ``is_admin``, ``OrganizationOwner``.

Configured by settings alone (no adapter code), exactly the recipe of
``docs/hosts.md``. Run in its own pytest process by ``tests/test_hosts.py``,
with the IdP conversation and tenant-isolation tests of the example site:
``pytest --ds=tests.hosts.organizations.settings tests/hosts/organizations
tests/test_idp_conversations.py tests/test_tenant_isolation.py``. On PostgreSQL
when ``DATABASE_URL`` says so, as the main suite.
"""

import os
import tempfile

import dj_database_url

SECRET_KEY = "tests-organizations-host-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.hosts.organizations.urls"
USE_TZ = True
STATIC_URL = "static/"  # the live server serves static files under it
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "organizations",
    "rest_framework",
    "scim_provisioning",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
#: Files, not SQLite's memory: a live server's threads then get connections of their own and
#: really run at the same time (pytest-django shares one connection for an in-memory
#: database, and may start the live server before the test database exists). One per
#: process: the hosts may run side by side.
_SQLITE_FILE = os.path.join(tempfile.gettempdir(), f"scim-organizations-host-{os.getpid()}")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": f"{_SQLITE_FILE}.sqlite3",  # never opened but by the tests, as their database
        "OPTIONS": {  # what check W002 asks
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
        "TEST": {"NAME": f"{_SQLITE_FILE}.sqlite3"},
    }
}
if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    DATABASES["default"] = dj_database_url.parse(os.environ["DATABASE_URL"])
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_organizations"}

# -- the recipe: django-organizations, by settings alone --------------------------------
SCIM_PROVISIONING_TEAM_MODEL = "organizations.Organization"
SCIM_PROVISIONING_MEMBERSHIP_MODEL = "organizations.OrganizationUser"
SCIM_PROVISIONING_MEMBERSHIP_TEAM_FIELD = "organization"
SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = None  # the row exists while the person belongs
SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "is_admin"
SCIM_PROVISIONING_MANAGER_ROLES = (True,)
SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"is_admin": False}  # leaving a mapped group demotes
SCIM_PROVISIONING_MEMBERSHIP_GUARD_EXCEPTIONS = ["organizations.exceptions.OwnershipRequired"]  # noqa: E501
# CI's run with the compiled reads off (SCIM_COMPILED_QUERIES=0) turns them off here too,
# as in example_project/settings.py (scim_provisioning.reads).
SCIM_PROVISIONING_COMPILED_QUERIES = os.environ.get("SCIM_COMPILED_QUERIES", "1") != "0"
