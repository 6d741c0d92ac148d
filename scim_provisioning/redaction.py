"""Recognising secrets, so that none is ever stored or logged (DESIGN promise 6).

Three kinds of secret reach a SCIM server: a bearer token (in the header, and
sometimes pasted into a query string by a misconfigured client), a password
an IdP sends with a user (RFC 7643 §4.1.1 ``password``), and credentials in
query parameters (``?access_token=``). Everything that writes what a request
carried, the request log and the PATCH warnings, passes it through these
functions first. They only ever remove too much, never too little: a path
that merely mentions "pass" loses its value too.

Pure functions of their arguments; no database, no settings.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote_plus, unquote_plus

REDACTED = "[redacted]"

#: Every token starts with this (see :mod:`scim_provisioning.tokens`).
TOKEN_PREFIX = "scim_"
#: A whole token: the prefix and 43 URL-safe characters (256 random bits).
TOKEN_RE = re.compile(r"scim_[A-Za-z0-9_-]{43}")
#: Every setup link's secret starts with this (see :mod:`scim_provisioning.setup_links`).
SETUP_LINK_PREFIX = "scimsetup_"
#: A whole setup link secret: the prefix and 43 URL-safe characters (256 random bits).
SETUP_LINK_RE = re.compile(r"scimsetup_[A-Za-z0-9_-]{43}")

#: Names of JSON keys, attribute paths and query parameters that hold a secret.
_SECRET_NAME = re.compile(
    r"pass|pwd|secret|token|credential|authori[sz]ation|api_?key|private_?key|bearer",
    re.IGNORECASE,
)
#: :data:`_SECRET_NAME` for ASCII text in lower case: the same matches, 2 to 9 times
#: faster (IGNORECASE tries every alternative at every position: 7 us for an extension's
#: URN, and a create's timeline and log ask about 30 names, issue 27).
_SECRET_NAME_FOLDED = re.compile(_SECRET_NAME.pattern)
#: Short query parameter names that carry a credential in common APIs.
_SECRET_PARAMETER = re.compile(r"^(key|code|sig|signature|auth|session|jwt)$", re.IGNORECASE)
#: The value filter of a path, ``emails[value eq "x"]``: its literals may be the secret.
_PATH_FILTER = re.compile(r"\[.*\]", re.DOTALL)


def is_secret_name(name: str) -> bool:
    """Whether a key, attribute path or parameter named ``name`` holds a secret.

    Matches ``password`` in any case and form (``urn:…:User:password``,
    ``emails[type eq "work"].password``), and anything named like a token,
    secret or credential.
    """
    if name.isascii():  # nearly every name: its lower case, searched case-sensitively
        return bool(_SECRET_NAME_FOLDED.search(name.lower()))
    return bool(_SECRET_NAME.search(name))  # Unicode case rules (U+017F ſ is an s)


def redact_path(path: str) -> str:
    """A PATCH ``path`` fit to store: its value filter dropped when the path names a secret.

    ``password[value eq "hunter2"]`` is stored as ``password[redacted]``.
    """
    if not is_secret_name(path):
        return scrub_tokens(path)
    return _PATH_FILTER.sub("[redacted]", path)


def scrub_tokens(text: str) -> str:
    """``text`` with every bearer token and setup link secret in it replaced (a token
    pasted into a filter, a setup link in a request line)."""
    if TOKEN_PREFIX in text:
        text = TOKEN_RE.sub(REDACTED, text)
    if SETUP_LINK_PREFIX in text:
        text = SETUP_LINK_RE.sub(REDACTED, text)
    return text


class ScrubSecretsFilter(logging.Filter):
    """A logging filter that replaces tokens and setup link secrets in a record's message.

    Django logs the request line of every request (``django.server``, at INFO) and
    the path of every 404 (``django.request``, at WARNING); a setup link carries its
    secret in the path. The app puts this filter on both loggers when it starts.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub_tokens(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


def redact_query(query: str) -> str:
    """A raw query string with the values of credential-like parameters replaced.

    Parameters are kept as they came (their encoding untouched), so the
    operators see the query the IdP sent; only a secret's value changes, and a
    token anywhere in a name or a value is replaced.
    """
    if not query:
        return query
    parts = []
    for part in query.split("&"):
        raw_name, equals, raw_value = part.partition("=")
        name = unquote_plus(raw_name)
        if scrub_tokens(name) != name:
            raw_name = quote_plus(scrub_tokens(name))
        if is_secret_name(name) or _SECRET_PARAMETER.match(name):
            parts.append(f"{raw_name}{equals}{REDACTED}" if equals else raw_name)
            continue
        value = unquote_plus(raw_value)
        if scrub_tokens(value) != value:
            raw_value = quote_plus(scrub_tokens(value))
        parts.append(f"{raw_name}{equals}{raw_value}")
    return "&".join(parts)
