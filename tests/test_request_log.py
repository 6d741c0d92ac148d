"""The request log: every SCIM request recorded for the operators, never a secret,
never at the cost of the request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test.client import RequestFactory
from django.utils import timezone

from scim_provisioning.models import SCIMRequestLog
from scim_provisioning.request_log import REDACTED, detect_idp
from scim_provisioning.resource_types import USERS
from scim_provisioning.tokens import issue_token
from scim_provisioning.views.resources import ResourceListView

from .conftest import IdPClient, load_payload, patch_op

pytestmark = pytest.mark.django_db


def test_a_create_is_recorded(team, idp):
    body = idp.post(
        "/Users", load_payload("okta/create_user.json"), HTTP_USER_AGENT="Okta SCIM Client 1.0.0"
    ).json()

    entry = SCIMRequestLog.objects.get(method="POST")
    assert entry.team == team
    assert entry.token_prefix.startswith("scim_") and len(entry.token_prefix) == 13
    assert (entry.path, entry.status) == ("/scim/v2/Users", 201)
    assert (entry.resource_type, entry.resource_id) == ("User", body["id"])
    assert entry.idp == "okta"
    assert entry.duration_ms > 0
    assert entry.client_ip == "127.0.0.1"
    assert '"userName":"test.user@okta.local"' in entry.summary


def test_the_password_never_reaches_the_log(idp):
    idp.post("/Users", load_payload("okta/create_user.json"))
    idp.patch(
        f"/Users/{SCIMRequestLog.objects.get().resource_id}",
        patch_op({"op": "replace", "value": {"password": "hunter2hunter2"}}),
    )

    summaries = " ".join(SCIMRequestLog.objects.values_list("summary", flat=True))
    assert "1mz050nq" not in summaries
    assert "hunter2hunter2" not in summaries
    assert REDACTED in summaries


def test_the_token_never_reaches_the_log(team):
    token = issue_token(team).plaintext
    IdPClient(token).get("/Users?filter=userName+eq+%22x%22")

    entry = SCIMRequestLog.objects.get()
    assert all(token not in str(value) for value in entry.__dict__.values())
    assert entry.query == "filter=userName+eq+%22x%22"


def test_a_refused_token_is_recorded_without_a_team(db):
    IdPClient("scim_" + "A" * 43).get("/Users")

    entry = SCIMRequestLog.objects.get()
    assert (entry.team, entry.status, entry.token_prefix) == (None, 401, "")


def test_a_rejected_request_is_recorded(idp, provision):
    ada = provision("ada@acme.com")

    idp.patch(f"/Users/{ada['id']}", patch_op({"op": "jump", "path": "title"}))

    entry = SCIMRequestLog.objects.get(method="PATCH")
    assert (entry.status, entry.resource_id) == (400, ada["id"])


def test_long_lists_are_cut(idp, provision):
    members = [{"value": f"00000000-0000-0000-0000-{i:012d}"} for i in range(50)]

    idp.post("/Groups", {"displayName": "Big", "members": members})

    summary = SCIMRequestLog.objects.get(method="POST").summary
    assert "… 40 more" in summary
    assert len(summary) <= 2000


def test_a_failing_log_never_fails_the_request(idp, monkeypatch):
    attempts = []

    def broken(rows):
        attempts.append(rows)
        raise RuntimeError("log database down")

    monkeypatch.setattr("scim_provisioning.request_log_writer.write_rows", broken)

    response = idp.post("/Users", {"userName": "ada@acme.com"})

    assert response.status_code == 201
    assert len(attempts) == 1


def test_an_entry_that_cannot_be_described_never_fails_the_request(idp, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("unexpected request shape")

    monkeypatch.setattr("scim_provisioning.request_log.summarize", broken)

    assert idp.post("/Users", {"userName": "ada@acme.com"}).status_code == 201
    assert not SCIMRequestLog.objects.exists()


def test_the_entry_is_written_after_the_response_is_complete(team):
    """The WSGI server calls close() after the last byte; the INSERT waits for it."""
    token = issue_token(team).plaintext
    request = RequestFactory().get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {token}")
    view = ResourceListView.as_view(kind=USERS)

    response = view(request)
    response.render()
    assert response.status_code == 200
    assert not SCIMRequestLog.objects.exists()

    # As Django's test client does: close() must not close the test's connection.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert SCIMRequestLog.objects.count() == 1


def test_the_entry_is_built_after_the_response_is_complete(team, monkeypatch):
    """Describing the request (redaction, the client's address, the model instance) is
    work the IdP does not wait for: it runs in close(), after the last byte. Its
    duration still ends as the view returns, not when the server closes."""
    from scim_provisioning import request_log

    built = []
    build = request_log.build_entry
    monkeypatch.setattr(
        request_log, "build_entry", lambda *a, **kw: built.append(1) or build(*a, **kw)
    )
    token = issue_token(team).plaintext
    request = RequestFactory().get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {token}")

    response = ResourceListView.as_view(kind=USERS)(request)
    response.render()
    assert response.status_code == 200
    assert built == []

    real = request_log.time.perf_counter
    monkeypatch.setattr(request_log.time, "perf_counter", lambda: real() + 1000)  # closed late
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert built == [1]
    entry = SCIMRequestLog.objects.get()
    assert (entry.path, entry.status) == ("/scim/v2/Users", 200)
    assert 0 < entry.duration_ms < 1000  # measured to the view's return, not to close()


def test_logging_can_be_turned_off(idp, settings):
    settings.SCIM_PROVISIONING_REQUEST_LOG = False

    idp.get("/Users")

    assert not SCIMRequestLog.objects.exists()


def test_prune_keeps_the_retention_period(idp, settings):
    settings.SCIM_PROVISIONING_REQUEST_LOG_RETENTION_DAYS = 30
    idp.get("/Users")
    idp.get("/Groups")
    old = SCIMRequestLog.objects.order_by("pk").first()
    SCIMRequestLog.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=31))

    call_command("scim_prune_request_log")

    assert list(SCIMRequestLog.objects.values_list("path", flat=True)) == ["/scim/v2/Groups"]


@pytest.mark.parametrize(
    ("headers", "idp_name"),
    [
        ({"User-Agent": "Okta SCIM Client 1.0.0"}, "okta"),
        ({"ADSCIMVersion": "2.0", "User-Agent": "Mozilla"}, "entra"),
        ({"User-Agent": "OneLogin-SCIM/1.0"}, "onelogin"),
        ({"User-Agent": "JumpCloud SCIM"}, "jumpcloud"),
        ({"User-Agent": "curl/8.0"}, "other"),
        ({}, "other"),
    ],
)
def test_the_idp_is_detected(headers, idp_name):
    assert detect_idp(headers) == idp_name


def test_credential_query_parameters_are_redacted_and_the_rest_kept_as_sent(team):
    token = issue_token(team).plaintext
    IdPClient(token).get(f"/Users?access_token={token}&count=5&filter=userName+eq+%22x%22")

    entry = SCIMRequestLog.objects.get()
    assert entry.query == f"access_token={REDACTED}&count=5&filter=userName+eq+%22x%22"


@pytest.mark.parametrize(
    "path",
    [
        "password",
        "PASSWORD",
        "urn:ietf:params:scim:schemas:core:2.0:User:password",
        "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:Password",
        'emails[type eq "work"].password',
    ],
)
def test_a_patch_to_the_password_path_is_recorded_without_its_value(idp, provision, path):
    ada = provision("ada@acme.com")

    idp.patch(f"/Users/{ada['id']}", patch_op({"op": "replace", "path": path, "value": "s3cr3t!"}))

    summary = SCIMRequestLog.objects.get(method="PATCH").summary
    assert "s3cr3t!" not in summary
    assert f'"value":"{REDACTED}"' in summary


def test_an_unauthenticated_request_is_recorded_without_query_or_body(db):
    IdPClient("scim_" + "A" * 43).post("/Users?filter=" + "x" * 1500, {"userName": "probe"})

    entry = SCIMRequestLog.objects.get()
    assert (entry.status, entry.team, entry.query, entry.summary) == (401, None, "", "")
    assert entry.path == "/scim/v2/Users"


def test_unauthenticated_requests_are_recorded_a_bounded_number_of_times(db, settings, monkeypatch):
    settings.SCIM_PROVISIONING_UNAUTHENTICATED_LOG_LIMIT = 3
    now = [1_800_000_000.0]  # within one minute, whenever the test runs
    monkeypatch.setattr("scim_provisioning.request_log.clock", lambda: now[0])
    stranger = IdPClient("scim_" + "A" * 43, REMOTE_ADDR="203.0.113.9")
    other = IdPClient("scim_" + "A" * 43, REMOTE_ADDR="203.0.113.10")

    statuses = [stranger.get("/Users").status_code for _ in range(6)]
    other.get("/Users")

    assert statuses == [401] * 6
    assert SCIMRequestLog.objects.filter(client_ip="203.0.113.9").count() == 3
    assert SCIMRequestLog.objects.filter(client_ip="203.0.113.10").count() == 1
    now[0] += 60  # the next minute has a budget of its own
    stranger.get("/Users")
    assert SCIMRequestLog.objects.filter(client_ip="203.0.113.9").count() == 4


def test_unauthenticated_requests_are_recorded_when_the_cache_fails(db, settings, monkeypatch):
    settings.SCIM_PROVISIONING_UNAUTHENTICATED_LOG_LIMIT = 1

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr("scim_provisioning.request_log.increment", broken)
    stranger = IdPClient("scim_" + "A" * 43)

    assert [stranger.get("/Users").status_code for _ in range(2)] == [401, 401]
    assert SCIMRequestLog.objects.count() == 2


# -- issue 21, item 7: a token-shaped string reaches no stored field ------------------------

#: Shaped like a token (the prefix and 43 URL-safe characters): whatever its owner, it is
#: a secret someone pasted where it does not belong.
PASTED = "scim_" + "Tk3n" * 10 + "abc"


def _stored_text(entry: SCIMRequestLog) -> str:
    return " ".join(str(value) for value in entry.__dict__.values())


def test_a_token_in_the_resource_id_is_not_stored(idp):
    idp.get(f"/Users/{PASTED}")

    entry = SCIMRequestLog.objects.get()
    assert PASTED not in _stored_text(entry)
    assert entry.resource_id == REDACTED


def test_a_token_as_a_query_parameter_name_is_not_stored(idp):
    idp.get(f"/Users?{PASTED}=1&count=2")

    entry = SCIMRequestLog.objects.get()
    assert PASTED not in _stored_text(entry)
    assert "count=2" in entry.query


def test_a_token_in_the_user_agent_is_not_stored(idp):
    idp.get("/Users", HTTP_USER_AGENT=f"curl/8.5 {PASTED}")

    entry = SCIMRequestLog.objects.get()
    assert PASTED not in _stored_text(entry)
    assert entry.user_agent == f"curl/8.5 {REDACTED}"


def test_a_token_in_an_unauthenticated_user_agent_is_not_stored(db):
    IdPClient(None).get("/Users", HTTP_USER_AGENT=f"x {PASTED}")

    entry = SCIMRequestLog.objects.get()
    assert PASTED not in _stored_text(entry)


# -- issue 21, item 4: what no database stores reaches no stored field ------------------------


@pytest.mark.parametrize(
    "path",
    ["/scim/v2/%00", "/scim/v2/Users/%00", "/scim/v2/Users/a%00b/x"],
)
def test_a_nul_in_an_unauthenticated_path_is_logged_without_it(db, path):
    """On PostgreSQL the row's INSERT failed (text holds no NUL), and its batch with it."""
    response = IdPClient(None).get(path)

    assert response.status_code == 401
    entry = SCIMRequestLog.objects.get()
    assert "\x00" not in entry.path and entry.path.startswith("/scim/v2/")


def test_a_nul_and_a_lone_surrogate_in_headers_and_query_are_logged_without_them(idp):
    idp.get("/Users?co%00unt=1", HTTP_USER_AGENT="Okta\x00")

    entry = SCIMRequestLog.objects.get()
    assert "\x00" not in _stored_text(entry)


@pytest.mark.parametrize(
    ("remote_addr", "stored"),
    [("10.0.0.7", "10.0.0.7"), ("fe80::1%eth0", "fe80::1"), ("unix:/run/app.sock", None)],
)
def test_the_client_address_is_kept_only_as_an_address(idp, remote_addr, stored):
    """A proxy may set ``REMOTE_ADDR`` to anything; PostgreSQL's ``inet`` refused the row."""
    idp.get("/Users", REMOTE_ADDR=remote_addr)

    assert SCIMRequestLog.objects.get().client_ip == stored


def test_a_token_in_the_user_agent_is_neither_logged_nor_remembered(idp, team):
    """User-Agents are cleaned once per process and remembered (an IdP sends the same
    one every time); one holding a token is cleaned every time, never kept in memory."""
    from scim_provisioning import request_log

    pasted = issue_token(team).plaintext
    remembered = request_log._kept_plain_agent.cache_info().currsize

    assert idp.get("/Users", HTTP_USER_AGENT=f"Okta SCIM Client {pasted}").status_code == 200

    entry = SCIMRequestLog.objects.get()
    assert pasted not in entry.user_agent and entry.user_agent.startswith("Okta SCIM Client ")
    assert request_log._kept_plain_agent.cache_info().currsize == remembered


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("PassWord", True),
        ("urn:ietf:params:scim:schemas:core:2.0:User:password", True),
        ("Api_Key", True),
        ("AUTHORISATION", True),
        ("x-Bearer", True),
        ("pa\u017fsword", True),  # a long s is an s in Unicode's case rules: still a secret
        ("PA\u017fSWORD", True),
        ("name.givenName", False),
        ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", False),
        ("emails", False),
    ],
)
def test_a_name_holds_a_secret_whatever_its_case_or_alphabet(name, secret):
    from scim_provisioning.redaction import is_secret_name

    assert is_secret_name(name) is secret
