"""Install-as-a-user smoke test: the built wheel in a fresh virtualenv, a minimal host, one IdP.

Run by ``make wheel-smoke`` with the *fresh* virtualenv's Python, after
``pip install dist/*.whl`` (never an editable install): it proves that what
PyPI would serve works on its own, outside this repository.

The host is the shape a new user most often has, built here in a temporary
directory the way the README's first screen says: the stock
``django.contrib.auth`` ``User``, an ``orgs`` app with ``Organization(name,
slug)`` and ``OrgMembership(organization, user, role, is_active)``, the app in
``INSTALLED_APPS``, its URLs, ``migrate``, ``manage.py scim_team enable`` and
``manage.py scim_token issue`` for one team. Then an IdP conversation over
Django's test client: create, find by filter, read, deactivate, reactivate,
delete, each checked on the HTTP status, the body and the host's database.

``wheel_smoke.py organizations`` does the same on a django-organizations
site (issue 22), configured by ``docs/hosts.md``'s recipe alone: its own
``Organization``/``OrganizationUser``/``OrganizationOwner``, the boolean
``is_admin`` role, and its owner guard (deactivating the owner is a 409 and the
owner stays). ``make wheel-smoke`` runs both, each in a process of its own
(Django is set up once per process).

Exits non-zero (an ``AssertionError`` or a failed command) on the first
difference; prints one line per step.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from textwrap import dedent

SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

SETTINGS = """
import os

SECRET_KEY = "wheel-smoke-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
ROOT_URLCONF = "smokehost.urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "orgs",
    "rest_framework",
    "scim_provisioning",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "db.sqlite3",
        # What check W002 asks of a SQLite host, so that parallel IdP requests wait, not fail.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
# The site's own SCIM address, as every deployment sets it (check W003 warns without it).
SCIM_PROVISIONING_BASE_URL = "https://smoke.example/scim/v2"
# CI's run with the compiled reads off (SCIM_COMPILED_QUERIES=0) turns them off here too,
# as in example_project/settings.py (scim_provisioning.reads).
SCIM_PROVISIONING_COMPILED_QUERIES = os.environ.get("SCIM_COMPILED_QUERIES", "1") != "0"

SCIM_PROVISIONING_TEAM_MODEL = "orgs.Organization"
SCIM_PROVISIONING_MEMBERSHIP_MODEL = "orgs.OrgMembership"
SCIM_PROVISIONING_MEMBERSHIP_TEAM_FIELD = "organization"
SCIM_PROVISIONING_MEMBERSHIP_USER_FIELD = "user"
SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = "is_active"
SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "role"
SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"role": "member"}
"""

# docs/hosts.md's django-organizations recipe, word for word.
ORGANIZATIONS_RECIPE = """
SCIM_PROVISIONING_TEAM_MODEL = "organizations.Organization"
SCIM_PROVISIONING_MEMBERSHIP_MODEL = "organizations.OrganizationUser"
SCIM_PROVISIONING_MEMBERSHIP_TEAM_FIELD = "organization"
SCIM_PROVISIONING_MEMBERSHIP_ACTIVE_FIELD = None
SCIM_PROVISIONING_MEMBERSHIP_ROLE_FIELD = "is_admin"
SCIM_PROVISIONING_MANAGER_ROLES = (True,)
SCIM_PROVISIONING_MEMBERSHIP_DEFAULTS = {"is_admin": False}
SCIM_PROVISIONING_MEMBERSHIP_GUARD_EXCEPTIONS = ["organizations.exceptions.OwnershipRequired"]
"""


def organizations_settings() -> str:
    """The minimal host's settings with django-organizations in place of the ``orgs`` app."""
    base = SETTINGS.split("SCIM_PROVISIONING_TEAM_MODEL", 1)[0]
    return base.replace('    "orgs",\n', '    "organizations",\n') + ORGANIZATIONS_RECIPE


URLS = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("scim/v2/", include("scim_provisioning.urls")),
]
"""

MODELS = """
from django.conf import settings
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)


class OrgMembership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, default="member")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership"),
        ]
"""

MANAGE = """
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smokehost.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

# The host's own data: one organization (the site would have it already).
CREATE_TEAM = """
from orgs.models import Organization
Organization.objects.create(name="Acme", slug="acme")
"""

# django-organizations: the organization, its owner (its first user) and a second admin.
CREATE_ORGANIZATION = """
from django.contrib.auth.models import User
from organizations.models import Organization
acme = Organization.objects.create(name="Acme", slug="acme")
for address in ("owner@acme.example", "admin@acme.example"):
    account = User.objects.create_user(username=address, email=address)  # no usable password
    acme.add_user(account, is_admin=True)
"""


def step(message: str) -> None:
    print(f"wheel-smoke: {message}", flush=True)


def write_host(root: Path, shape: str) -> None:
    """The minimal host project, as a new user would write it: its own ``orgs`` app, or
    django-organizations'."""
    files = {
        "manage.py": MANAGE,
        "smokehost/__init__.py": "",
        "smokehost/urls.py": URLS,
    }
    if shape == "organizations":
        files["smokehost/settings.py"] = organizations_settings()
    else:
        files.update(
            {
                "smokehost/settings.py": SETTINGS,
                "orgs/__init__.py": "",
                "orgs/models.py": MODELS,
                "orgs/migrations/__init__.py": "",
            }
        )
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip())


def manage(root: Path, *args: str) -> str:
    """``python manage.py ARGS`` in the host; its stdout. Fails the smoke on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"wheel-smoke: manage.py {' '.join(args)} exited {result.returncode}")
    return result.stdout


def check_installed_from_wheel() -> None:
    """The app imported is the installed wheel, not a checkout on ``sys.path``."""
    import scim_provisioning

    location = Path(scim_provisioning.__file__).resolve()
    assert "site-packages" in location.parts, f"imported from {location}, not an installed wheel"
    assert (location.parent / "py.typed").is_file(), "py.typed is missing from the wheel"
    template = location.parent / "templates/scim_provisioning/admin/scim_page.html"
    assert template.is_file(), "the admin template is missing from the wheel"
    # The runtime dependencies are what the package imports: django-scim2 is an extra.
    assert importlib.util.find_spec("django_scim") is None, "django-scim2 came with the wheel"
    step(f"scim_provisioning {scim_provisioning.__version__} imported from {location.parent}")


def body(response) -> dict:
    assert response["Content-Type"].split(";")[0].strip() == SCIM_JSON, response["Content-Type"]
    return json.loads(response.content)


def conversation(token: str) -> None:
    """An IdP's create / find / read / deactivate / reactivate / delete of one person."""
    from django.contrib.auth.models import User
    from django.test import Client
    from orgs.models import Organization, OrgMembership

    acme = Organization.objects.get(slug="acme")
    idp = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def send(method: str, path: str, payload: dict | None = None):
        data = json.dumps(payload) if payload is not None else None
        kwargs = {"data": data, "content_type": SCIM_JSON} if data else {}
        return getattr(idp, method)(f"/scim/v2{path}", **kwargs)

    assert Client().get("/scim/v2/Users").status_code == 401
    response = send("get", "/ServiceProviderConfig")
    assert response.status_code == 200 and body(response)["patch"]["supported"] is True
    step("discovery answers; no token is a 401")

    response = send(
        "post",
        "/Users",
        {
            "schemas": [USER_SCHEMA],
            "userName": "jane@acme.example",
            "externalId": "00u1jane",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "emails": [{"value": "jane@acme.example", "primary": True, "type": "work"}],
            "active": True,
        },
    )
    assert response.status_code == 201, response.content
    created = body(response)
    scim_id = created["id"]
    jane = User.objects.get(email="jane@acme.example")
    assert not jane.has_usable_password()
    assert OrgMembership.objects.get(organization=acme, user=jane).is_active
    assert response["Location"].endswith(f"/scim/v2/Users/{scim_id}")
    step(f"POST /Users: 201, account {jane.username!r} with an active membership")

    response = send("get", '/Users?filter=userName eq "JANE@acme.example"')
    listed = body(response)
    assert response.status_code == 200 and listed["totalResults"] == 1, listed
    assert listed["Resources"][0]["id"] == scim_id
    response = send("get", '/Users?filter=externalId eq "00u1jane"')
    assert body(response)["totalResults"] == 1
    response = send("get", '/?filter=userName eq "jane@acme.example"')  # RFC 7644 §3.4.2.1
    assert body(response)["totalResults"] == 1
    step("GET /Users?filter=userName eq / externalId eq, and the root query: found")

    response = send("get", f"/Users/{scim_id}")
    assert response.status_code == 200 and body(response)["name"]["givenName"] == "Jane"
    step("GET /Users/{id}: 200")

    deactivate = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    response = send("patch", f"/Users/{scim_id}", deactivate)
    assert response.status_code == 200 and body(response)["active"] is False, response.content
    assert not OrgMembership.objects.get(organization=acme, user=jane).is_active
    reactivate = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "Replace", "value": {"active": "True"}}],  # Entra's dialect
    }
    response = send("patch", f"/Users/{scim_id}", reactivate)
    assert response.status_code == 200 and body(response)["active"] is True, response.content
    assert OrgMembership.objects.get(organization=acme, user=jane).is_active
    step("PATCH /Users/{id} active false, then true: the membership follows")

    response = send("delete", f"/Users/{scim_id}")
    assert response.status_code == 204, response.content
    assert not OrgMembership.objects.filter(organization=acme, user=jane).exists()
    assert User.objects.filter(pk=jane.pk).exists(), "DELETE must never delete the account"
    assert send("get", f"/Users/{scim_id}").status_code == 404
    step("DELETE /Users/{id}: 204, membership gone, account kept, then 404")

    # The request log is written off the request path, in batches: flush it before reading.
    from scim_provisioning.models import SCIMRequestLog
    from scim_provisioning.request_log_writer import writer

    assert writer.flush(), "the request log could not be written"
    logged = SCIMRequestLog.objects.filter(team=acme)
    assert logged.filter(method="POST", path="/scim/v2/Users", status=201).exists()
    assert not logged.filter(summary__contains=token).exists(), "a token reached the log"
    step(f"request log: {logged.count()} rows for team acme, no token in them")


def organizations_conversation(token: str) -> None:
    """The IdP's create / deactivate / reactivate / delete on django-organizations, and its
    owner, whom SCIM can neither deactivate nor delete."""
    from django.contrib.auth.models import User
    from django.test import Client
    from organizations.models import Organization, OrganizationUser

    acme = Organization.objects.get(slug="acme")
    idp = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def send(method: str, path: str, payload: dict | None = None):
        data = json.dumps(payload) if payload is not None else None
        kwargs = {"data": data, "content_type": SCIM_JSON} if data else {}
        return getattr(idp, method)(f"/scim/v2{path}", **kwargs)

    def person(address: str) -> dict:
        return {
            "schemas": [USER_SCHEMA],
            "userName": address,
            "emails": [{"value": address, "primary": True, "type": "work"}],
        }

    def active(value: bool) -> dict:
        operation = {"op": "replace", "path": "active", "value": value}
        return {"schemas": [PATCH_SCHEMA], "Operations": [operation]}

    response = send("post", "/Users", person("jane@acme.example"))
    assert response.status_code == 201, response.content
    jane_id = body(response)["id"]
    jane = User.objects.get(email="jane@acme.example")
    assert OrganizationUser.objects.get(organization=acme, user=jane).is_admin is False
    step("POST /Users: 201, an OrganizationUser who is no admin")

    response = send("patch", f"/Users/{jane_id}", active(False))
    assert response.status_code == 200 and body(response)["active"] is False, response.content
    assert not OrganizationUser.objects.filter(organization=acme, user=jane).exists()
    response = send("patch", f"/Users/{jane_id}", active(True))
    assert response.status_code == 200 and body(response)["active"] is True, response.content
    assert OrganizationUser.objects.filter(organization=acme, user=jane).exists()
    assert send("delete", f"/Users/{jane_id}").status_code == 204
    assert not OrganizationUser.objects.filter(organization=acme, user=jane).exists()
    assert User.objects.filter(pk=jane.pk).exists(), "DELETE must never delete the account"
    step("deactivate, reactivate, delete: the OrganizationUser row follows, the account stays")

    response = send("post", "/Users", person("owner@acme.example"))
    assert response.status_code == 201, response.content
    owner_id = body(response)["id"]
    for method, payload in (("patch", active(False)), ("delete", None)):
        response = send(method, f"/Users/{owner_id}", payload)
        assert response.status_code == 409, (method, response.status_code, response.content)
        acme = Organization.objects.get(pk=acme.pk)
        assert acme.owner.organization_user.user.email == "owner@acme.example"
    step("the owner: deactivate and DELETE are 409s, OrganizationOwner intact")

    # Written off the request path: flushed while the host's database still exists.
    from scim_provisioning.request_log_writer import writer

    assert writer.flush(), "the request log could not be written"


def main(shape: str = "orgs") -> None:
    check_installed_from_wheel()
    with tempfile.TemporaryDirectory(prefix="scim-wheel-smoke-") as tmp:
        root = Path(tmp)
        write_host(root, shape)
        if shape != "organizations":
            manage(root, "makemigrations", "orgs")
        manage(root, "check", "--fail-level", "WARNING")
        manage(root, "migrate", "--noinput")
        step(f"host ({shape}) migrated; manage.py check is clean")
        manage(root, "makemigrations", "--check", "--dry-run")
        manage(
            root, "shell", "-c", CREATE_ORGANIZATION if shape == "organizations" else CREATE_TEAM
        )
        # The README's first screen, as a pip user types it.
        enabled = manage(root, "scim_team", "enable", "--team", "acme")
        assert enabled.strip() == "SCIM is enabled for team acme.", enabled
        token = manage(root, "scim_token", "issue", "--team", "acme").strip().splitlines()[-1]
        assert token, "scim_token issue printed no token"
        step("scim_team enable and scim_token issue for team acme")

        os.chdir(root)
        sys.path.insert(0, str(root))
        os.environ["DJANGO_SETTINGS_MODULE"] = "smokehost.settings"
        import django

        django.setup()
        (organizations_conversation if shape == "organizations" else conversation)(token)
    step("passed")


if __name__ == "__main__":
    main(*sys.argv[1:2])
