"""Setup (b): django-scim2 0.23 set up as its README and demo app say, on the example's stack.

Same middleware, same database settings as the other two setups
(``benchmarks/sites/common.py``); its own user and group models.
"""

from benchmarks.sites.common import bench_databases

SECRET_KEY = "django-insecure-benchmark-django-scim2"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_scim",
    "benchmarks.django_scim2_site.accounts",
]

# The example project's middleware, unchanged.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "benchmarks.django_scim2_site.urls"
DATABASES = bench_databases()
AUTH_USER_MODEL = "ds_accounts.User"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SCIM_BEARER_TOKEN = "benchmark-fixed-token-0123456789abcdef"
SCIM_SERVICE_PROVIDER = {
    "NETLOC": "scim.example.com",
    "AUTHENTICATION_SCHEMES": [
        {
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A fixed bearer token",
        },
    ],
    "GROUP_MODEL": "benchmarks.django_scim2_site.accounts.models.Group",
    "USER_FILTER_PARSER": "benchmarks.django_scim2_site.filters.UserFilterQuery",
    "AUTH_CHECK_MIDDLEWARE": "benchmarks.django_scim2_site.auth.BearerTokenAuthCheckMiddleware",
}
