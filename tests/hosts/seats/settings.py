"""An allauth site keyed by email whose seat role is a foreign key (issue 22's second site).

``Seat(workspace, user, role → Role, is_active)``, an owner guard in
``Seat.save()``/``delete()``, an audit ``post_save``/``post_delete`` receiver.
Configured by settings alone (no adapter code), exactly the recipe of
``docs/hosts.md``. Run in its own pytest process by ``tests/test_hosts.py``,
with the IdP conversation and tenant-isolation tests of the example site. On
PostgreSQL when ``DATABASE_URL`` says so, as the main suite.
"""

import os

import dj_database_url

SECRET_KEY = "tests-seats-host-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.hosts.seats.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "tests.hosts.seats.site",
    "rest_framework",
    "scim_provisioning",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
AUTH_USER_MODEL = "seathost.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},  # check W002
    }
}
if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    DATABASES["default"] = dj_database_url.parse(os.environ["DATABASE_URL"])
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_seats"}

# -- the recipe: a role that is a foreign key, by settings alone --------------------------
SCIM_PROVISIONING_TEAM_MODEL = "seathost.Workspace"
SCIM_PROVISIONING_MEMBERSHIP_MODEL = "seathost.Seat"
SCIM_PROVISIONING_MEMBERSHIP_TEAM_FIELD = "workspace"
SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = "is_active"
SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "role__name"  # the Role row named so
SCIM_PROVISIONING_MANAGER_ROLES = ("owner", "admin")
SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"role__name": "member"}
# CI's run with the compiled reads off (SCIM_COMPILED_QUERIES=0) turns them off here too,
# as in example_project/settings.py (scim_provisioning.reads).
SCIM_PROVISIONING_COMPILED_QUERIES = os.environ.get("SCIM_COMPILED_QUERIES", "1") != "0"
