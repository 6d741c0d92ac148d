"""The IdP conversations again, over real HTTP against a threaded live server.

The same classes and step files as :mod:`tests.test_idp_conversations`, with one
difference: each request crosses a socket to pytest-django's ``live_server``,
which serves it in a thread of its own with its own database connection and
commits before answering, as a threaded production server does. What the
in-process client cannot show shows here: state kept on shared objects
between requests, work left uncommitted, a connection reused across threads.
"""

from __future__ import annotations

import pytest

from scim_provisioning.tokens import issue_token

from . import test_idp_conversations as recorded
from .live_client import LiveIdPClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def idp(team, live_server) -> LiveIdPClient:
    """Team A's identity provider, calling the live server."""
    return LiveIdPClient(live_server.url, issue_token(team).plaintext)


class TestOktaOINLive(recorded.TestOktaOIN):
    pass


class TestOktaAIWLive(recorded.TestOktaAIW):
    pass


class TestEntraLive(recorded.TestEntra):
    pass


class TestOneLoginLive(recorded.TestOneLogin):
    pass


class TestJumpCloudLive(recorded.TestJumpCloud):
    pass
