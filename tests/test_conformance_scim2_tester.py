"""Conformance: scim2-tester's ``check_server`` run in-process against the example site.

The requests go through the real WSGI application (middleware, URLconf, views)
via scim2-client's WSGI engine, without a network, in the test's own thread and
database transaction. Every resource type the server publishes in
``/ResourceTypes`` is exercised (User with the enterprise extension and the
example site's own extension, Group). Nothing may be ERROR, CRITICAL or SKIPPED.

scim2-tester 0.5.2 fills a ``dateTime`` attribute with a UUID string, which its
own models then refuse before any request is sent (its ``generate_random_value``
has no branch for datetimes). :func:`dates_as_dates` gives it an ISO 8601 value
there and nothing else: every request and every check stays the tester's.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from scim_provisioning.tokens import issue_token

# scim2-tester 0.5 needs Python 3.11+; on 3.10 the dev extra leaves it (and scim2-client)
# out, and only there is the test skipped. On 3.11+ a missing or broken install is an
# ImportError that fails the run, never a silent skip.
SUPPORTED = sys.version_info >= (3, 11)
pytestmark = [
    pytest.mark.skipif(not SUPPORTED, reason="scim2-tester 0.5 needs Python 3.11 or newer"),
    pytest.mark.ci_may_skip,
]
if SUPPORTED:
    from scim2_client.engines.wsgi import WSGISCIMClient
    from scim2_tester import Status, check_server, filling
    from scim2_tester.checkers import patch_add, patch_replace

    FAILING = (Status.ERROR, Status.CRITICAL, Status.SKIPPED)

BASE_URL = "http://testserver/scim/v2"
#: scim2-tester 0.5.2 yields 110 results here: discovery and the random URL,
#: then one per checked attribute of User (with the enterprise extension) and
#: of Group. A run stopping early cannot reach this floor.
MIN_CHECKS = 100


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Do what Django's test ``Client`` does around each request.

    The real WSGI handler fires ``request_started``/``request_finished``, which
    run ``close_old_connections``. Inside the test transaction autocommit is off,
    so that would drop the connection (and the test transaction) on PostgreSQL.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def dates_as_dates(monkeypatch) -> None:
    """A datetime where scim2-tester would put a UUID string into a ``dateTime`` attribute."""
    generate = filling.generate_random_value

    def generate_with_dates(context: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        value = generate(context, path, *args, **kwargs)
        binding = path.resolve()
        if value is not None and binding is not None and binding.target_type is datetime:
            moment = datetime.now(timezone.utc).replace(microsecond=0)
            return [moment] if isinstance(value, list) else moment
        return value

    for module in (filling, patch_add, patch_replace):
        monkeypatch.setattr(module, "generate_random_value", generate_with_dates)


def _summary(results) -> str:
    counts = Counter(r.status.name for r in results)
    lines = [
        f"scim2-tester: {len(results)} results: "
        + ", ".join(f"{name}={counts.get(name, 0)}" for name in Status.__members__)
    ]
    for r in results:
        marker = "!!" if r.status in FAILING else "  "
        scope = f"[{r.resource_type}] " if r.resource_type else ""
        lines.append(f"{marker} {r.status.name:<10} {scope}{r.title}: {r.reason or ''}")
        if r.status in FAILING and r.data is not None:
            lines.append(f"       data: {r.data!r}"[:2000])
    return "\n".join(lines)


def test_scim2_tester_check_server(team, keep_test_connection, dates_as_dates):
    token = issue_token(team).plaintext
    client = WSGISCIMClient(
        get_wsgi_application(),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {token}"},
    )

    # Discover what the server publishes and test only that.
    listing = client.request("GET", "/ResourceTypes")
    assert listing.status_code == 200, listing.content
    published = [rt["name"] for rt in listing.json()["Resources"]]
    assert published == ["User", "Group"], published

    results = check_server(client, resource_types=published)
    summary = _summary(results)

    failing = [r for r in results if r.status in FAILING]
    if failing:
        pytest.fail(f"{len(failing)} check(s) ERROR/CRITICAL/SKIPPED:\n{summary}", pytrace=False)
    print(summary)  # visible with -s / -rP

    assert len(results) >= MIN_CHECKS, f"only {len(results)} checks ran:\n{summary}"
    for name in published:
        assert any(r.resource_type == name for r in results), summary
    # The site's own extension was discovered and written, not only listed.
    extension = "urn:ietf:params:scim:schemas:extension:example:2.0:User:startDate"
    assert any(extension in (r.reason or "") for r in results), summary
