"""What a worker remembers of a token between requests: only facts that never change.

Every SCIM request needs to know which team its token belongs to. Looking the
token up costs a database round trip per request (a third of a GET by id), yet
the answer, token ``digest`` → (token id, team id, prefix), never changes. So
each process keeps it, for a short time and a bounded number of tokens.

What *can* change — revocation, expiry (a rotation shortens it), the team's
SCIM switch — is never taken from here. A request whose token is remembered
checks those in the same query as the data it reads
(:func:`scim_provisioning.reads.token_rule`, one rule for both), or, for every
other request, with the full token lookup before it does anything. So a revoked
token, an expired one or a disabled team is refused on the very next request in
every worker, with no cross-process invalidation to get wrong.

The team's ``rate_limit`` is remembered too: a changed limit takes effect within
``TOKEN_CACHE_SECONDS``. Only tokens of enabled teams are remembered, so a
remembered token never stands for a team that was off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .conf import app_settings

#: Tokens a process remembers at most (the least recently used are forgotten).
MAX_ENTRIES = 4096


@dataclass(frozen=True)
class TokenFacts:
    """What a verified token says that stays true: whose it is, and a few team settings."""

    token_id: Any
    team_id: Any
    prefix: str
    rate_limit: int | None
    last_used_at: datetime | None
    #: The OAuth 2.0 client an access token was issued to (its throttle is the client's).
    oauth_client_id: Any = None


class TokenCache:
    """A bounded, expiring map of token digest → :class:`TokenFacts`, safe across threads."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[float, TokenFacts]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> TokenFacts | None:
        ttl = app_settings.TOKEN_CACHE_SECONDS
        if ttl <= 0:
            return None
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            stored, facts = entry
            if time.monotonic() - stored > ttl:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return facts

    def put(self, digest: str, facts: TokenFacts) -> None:
        if app_settings.TOKEN_CACHE_SECONDS <= 0:
            return
        with self._lock:
            self._entries[digest] = (time.monotonic(), facts)
            self._entries.move_to_end(digest)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def used(self, digest: str, when: datetime) -> None:
        """Remember that ``last_used_at`` was written, keeping the entry's age."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is not None:
                self._entries[digest] = (entry[0], replace(entry[1], last_used_at=when))

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


cache = TokenCache()
