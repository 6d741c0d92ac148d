"""A host of the shape issue 10 met: stock ``auth.User``, organizations, no active flag.

Configured by settings alone (no adapter code). Run in its own pytest process by
``tests/test_hosts.py``, with the IdP conversation and tenant-isolation tests of
the example site: ``pytest --ds=tests.hosts.stock_user.settings tests/hosts/stock_user
tests/test_idp_conversations.py tests/test_tenant_isolation.py``. On PostgreSQL when
``DATABASE_URL`` says so, as the main suite.
"""

import os
from pathlib import Path

import dj_database_url

SECRET_KEY = "tests-stock-user-host-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.hosts.stock_user.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"  # the live server's static handler needs one (concurrency tests)

# The live server (the connection doctor's test) serves static files from here; without a
# STATIC_URL Django's test handler fails every request.
STATIC_URL = "static/"

# The setup link's page (a template, its static files) is served by this host too.
STATIC_URL = "static/"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "tests.hosts.stock_user.site",
    "rest_framework",
    "scim_provisioning",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(Path(__file__).resolve().parents[3] / ".stock-user.sqlite3"),
        # As the example site (check W002): a live server's threads really write at once.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
        # A file, not the in-memory default, so that a live server's threads get
        # connections of their own (the concurrency test of test_role_fields.py).
        "TEST": {
            "NAME": os.environ.get(
                "SCIM_TEST_STOCK_USER_SQLITE_NAME",
                str(Path(__file__).resolve().parents[3] / ".test-db-stock-user.sqlite3"),
            )
        },
    }
}
if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    DATABASES["default"] = dj_database_url.parse(os.environ["DATABASE_URL"])
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_stock_user"}

SCIM_PROVISIONING_TEAM_MODEL = "stockhost.Organization"
SCIM_PROVISIONING_MEMBERSHIP_MODEL = "stockhost.OrgMembership"
SCIM_PROVISIONING_MEMBERSHIP_TEAM_FIELD = "organization"
SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = None  # the row exists while the person belongs
SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "role"
SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"role": "member"}
# CI's run with the compiled reads off (SCIM_COMPILED_QUERIES=0) turns them off here too,
# as in example_project/settings.py (scim_provisioning.reads).
SCIM_PROVISIONING_COMPILED_QUERIES = os.environ.get("SCIM_COMPILED_QUERIES", "1") != "0"
