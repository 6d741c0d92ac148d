"""Settings for the example host site.

SQLite by default; PostgreSQL (or anything dj-database-url understands) when
DATABASE_URL is set, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/scim.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get(
    "SECRET_KEY", "django-insecure-example-project-dev-key-do-not-use-in-production"
)
DEBUG = _env_bool("DEBUG", True)
ALLOWED_HOSTS = ["*"]  # demo only

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # django-allauth's verified EmailAddress is what scim_provisioning takes as
    # proof that an account's owner controls its address (linking needs proof).
    "allauth",
    "allauth.account",
    "scim_provisioning",
    "example_project.accounts",
    "example_project.teams",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
#: PostgreSQL with server-side parameters and prepared statements (psycopg 3): a
#: statement run five times on a connection is prepared there, and PostgreSQL no
#: longer parses and plans it on each request. Every SCIM request repeats a few
#: fixed shapes, so this takes 0.3-1.6 ms off each on the benchmark (docs/scaling.md,
#: "PostgreSQL: prepared statements"). Django's default (client-side binding, nothing
#: prepared) with DATABASE_PREPARED_STATEMENTS=0; behind PgBouncer in transaction mode
#: this needs PgBouncer 1.21+ with max_prepared_statements set.
POSTGRES_OPTIONS = {"server_side_binding": True, "prepare_threshold": 5}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        **POSTGRES_OPTIONS,
    }
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite for concurrent writers, as Django's docs advise: IdPs send requests
    # in parallel and servers run them in threads. IMMEDIATE takes the write lock
    # when a transaction begins, so a transaction that read first never fails
    # with "database is locked" when it comes to write; the timeout makes a
    # writer wait for the lock instead of failing at once; WAL lets readers run
    # while one request writes. synchronous=NORMAL is durable in WAL mode except
    # for the last transactions before a power cut.
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    # Tests use a file, not Django's in-memory default, so that a live server's
    # threads get connections of their own and really run at the same time.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SCIM_TEST_SQLITE_NAME", str(REPO_DIR / ".test-db.sqlite3"))
    }

AUTH_USER_MODEL = "accounts.User"
# After "Log in": the team page of the one team the person manages, else the list of
# their teams (Django's default, /accounts/profile/, is a page this site does not have).
LOGIN_REDIRECT_URL = "teams:mine"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None  # the user model is keyed by email
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- scim_provisioning -------------------------------------------------------
# How the app reaches this site's models (read by scim_provisioning.conf).
SCIM_PROVISIONING_TEAM_MODEL = "teams.Team"
# The SCIM base URL the IdP uses: "Check connection" calls only this (scripts/demo.sh sets
# it from the address it serves). Unset, as in the tests, links follow each request's Host
# and the check is off (system check scim_provisioning.W003).
SCIM_PROVISIONING_BASE_URL = os.environ.get("DEMO_SCIM_BASE_URL") or None
# The default adapter, plus the team's seat limit (Team.max_seats) and its count.
SCIM_PROVISIONING_ADAPTER = "example_project.teams.scim_adapter.TeamsAdapter"
SCIM_PROVISIONING_MEMBERSHIP_MODEL = "teams.Membership"
SCIM_PROVISIONING_MEMBERSHIP_TEAM_FIELD = "team"
SCIM_PROVISIONING_MEMBERSHIP_USER_FIELD = "user"
SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = "is_active"
# The deprovisioning guard (docs/deprovision-guard.md), the default written out: a team
# loses at most max(5, 30 % of its active members) per hour through SCIM; the rest waits
# for a manager (`manage.py scim_held`). None switches it off.
SCIM_PROVISIONING_DEPROVISION_GUARD = {"percent": 30, "minimum": 5, "window": "1h"}
SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"role": "member"}
# The hottest reads run from SQL compiled once (the default); CI runs the suite once more
# with them built by the ORM every time: SCIM_COMPILED_QUERIES=0 (scim_provisioning.reads).
SCIM_PROVISIONING_COMPILED_QUERIES = os.environ.get("SCIM_COMPILED_QUERIES", "1") != "0"
# IdP groups named in a team's SCIMTeamConfig.group_roles grant these roles.
SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "role"
# Membership.save() counts seats when is_active changes, nothing else: a role given
# to many people at once (a group mapped to "admin") is one UPDATE, not a save() each.
SCIM_PROVISIONING_MEMBERSHIP_BULK_UPDATE_FIELDS = ("role",)
# The site's own user attributes, published as a User extension and copied onto the account.
SCIM_PROVISIONING_USER_EXTENSION = {
    "urn": "urn:ietf:params:scim:schemas:extension:example:2.0:User",
    "name": "ExampleUser",
    "attributes": [
        {"name": "costCode", "type": "string", "field": "cost_code"},
        {"name": "startDate", "type": "dateTime", "field": "start_date"},
    ],
}
# No global REST_FRAMEWORK settings: the SCIM views configure their own
# authentication, renderers, parsers and exception handling.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "simple": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "simple"},
    },
    "loggers": {
        "scim_provisioning": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
