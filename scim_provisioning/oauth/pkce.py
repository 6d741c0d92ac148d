"""Proof Key for Code Exchange (RFC 7636): a stolen code is useless without the verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

#: ``code_verifier`` and an S256 ``code_challenge``: 43 to 128 unreserved characters (§4.1, §4.2).
_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
#: Methods accepted; ``plain`` only for clients that cannot hash (§4.2), S256 preferred.
METHODS = ("S256", "plain")


def is_valid_challenge(challenge: str) -> bool:
    """Whether ``challenge`` has the shape RFC 7636 §4.2 gives it."""
    return _UNRESERVED.fullmatch(challenge) is not None


def verifies(verifier: str, challenge: str, method: str) -> bool:
    """Whether ``verifier`` answers ``challenge`` (§4.6), compared in constant time."""
    if _UNRESERVED.fullmatch(verifier) is None:
        return False
    if method == "S256":
        hashed = hashlib.sha256(verifier.encode("ascii")).digest()
        expected = base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")
    elif method == "plain":
        expected = verifier
    else:
        return False
    return hmac.compare_digest(expected, challenge)
