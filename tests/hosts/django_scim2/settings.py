"""A host that ran django-scim2: its own user model, organizations as teams.

Run in its own pytest process by ``tests/test_hosts.py`` (one settings module per
process): ``pytest --ds=tests.hosts.django_scim2.settings --confcutdir=tests/hosts/django_scim2
tests/hosts/django_scim2``.
"""

import os

SECRET_KEY = "tests-django-scim2-host-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.hosts.django_scim2.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_scim",
    "tests.hosts.django_scim2.site",
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
        "NAME": ":memory:",
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},  # check W002
    }
}
AUTH_USER_MODEL = "ds2host.User"

SCIM_PROVISIONING_TEAM_MODEL = "ds2host.Organization"
SCIM_PROVISIONING_MEMBERSHIP_MODEL = "ds2host.OrgMembership"
SCIM_PROVISIONING_MEMBERSHIP_TEAM_FIELD = "organization"
SCIM_PROVISIONING_MEMBERSHIP_USER_FIELD = "user"
SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = "is_active"
SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "role"
SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"role": "member"}
SCIM_PROVISIONING_REQUEST_LOG = False
SCIM_PROVISIONING_RATE_LIMIT = 0
# CI's run with the compiled reads off (SCIM_COMPILED_QUERIES=0) turns them off here too,
# as in example_project/settings.py (scim_provisioning.reads).
SCIM_PROVISIONING_COMPILED_QUERIES = os.environ.get("SCIM_COMPILED_QUERIES", "1") != "0"
