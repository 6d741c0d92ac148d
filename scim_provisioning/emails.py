"""Email syntax and domains, one definition for every check (DESIGN promise 6).

One address, one spelling: :func:`canonical_email` is how every address is
validated, stored and compared (the account's login email, the SCIM record's
``email``, linking, the verified-domain rules):

- **one ``@``.** An address with two is not an address: reading the last ``@``
  as the separator once let ``a@acme.example@globex.example`` pass a check for
  ``globex.example``;
- **the domain in its ASCII form** (IDNA, "punycode": ``bücher.example`` is
  ``xn--bcher-kva.example``), lower-case. DNS compares names that way, and so
  do verified domains (:func:`normalize_domain`), whichever spelling the IdP or
  staff typed. The encoding is Python's ``idna`` codec (IDNA 2003, nameprep),
  the one Django's own validators and ``punycode()`` use;
- **the local part as sent**, lower-cased. RFC 6531 §3.3 extends ``atext`` with
  every UTF-8 character beyond ASCII (``unicodé.名前@acme-proto.example``): such a
  character is accepted unless it is a control, format, surrogate, private-use,
  unassigned or space character. No Unicode normalisation is applied: RFC 5321
  §2.4 leaves the meaning of a local part to the mail host of its domain. The
  case rule is the one this app always had for every address: an address is
  compared case-insensitively (Python's ``str.lower()`` on what is stored, the
  database's ``UPPER`` when a host's accounts are searched), because IdPs and
  people type the same mailbox in different cases and hosts treat them as one;
- **everything else** is Django's :class:`~django.core.validators.EmailValidator`
  (dots, quoted strings, the domain's labels and top-level domain, lengths),
  asked about the address with each accepted non-ASCII character of the local
  part standing in as an ASCII letter and the domain in its ASCII form.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

_validator = EmailValidator()

#: Unicode categories never part of an address: controls (NUL), format characters
#: (zero-width space, bidi overrides), lone surrogates, private use, unassigned,
#: and the separators (spaces of every script).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def ascii_domain(domain: str) -> str | None:
    """``domain`` in its lower-case ASCII (IDNA) form, or ``None`` when it cannot be encoded.

    Only the encoding: whether the result is a valid host name is
    ``EmailValidator``'s (or the caller's) question.
    """
    if not domain:
        return None
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:  # an empty or over-long label, a lone surrogate, a prohibited character
        return None


def _ascii_stand_in(local: str) -> str | None:
    """``local`` with each accepted non-ASCII character as ``a``, for ``EmailValidator``."""
    if local.isascii():
        return local  # nearly every address: each character stands for itself
    letters = []
    for char in local:
        if char.isascii():
            letters.append(char)
        elif unicodedata.category(char) in _REFUSED_CATEGORIES:
            return None
        else:
            letters.append("a")
    return "".join(letters)


def canonical_email(text: str) -> str | None:
    """``text`` as an address is stored and compared, or ``None`` when it is not one address.

    Surrounding whitespace is dropped; the local part is lower-cased and the
    domain encoded to lower-case ASCII (see the module's rules).
    """
    if not isinstance(text, str):
        return None
    return _canonical(text)


@lru_cache(maxsize=256)
def _canonical(text: str) -> str | None:
    """:func:`canonical_email` of a string, remembered: a create asks it of one address four
    times (its document's email, the check, the account's lookup, the login's domain)."""
    address = text.strip()
    if address.count("@") != 1:
        return None
    local, _, domain = address.partition("@")
    stand_in, encoded = _ascii_stand_in(local), ascii_domain(domain)
    if stand_in is None or encoded is None:
        return None
    try:
        _validator(f"{stand_in}@{encoded}")
    except ValidationError:
        return None
    return f"{local.lower()}@{encoded}"


def is_valid_email(email: str) -> bool:
    """Whether ``email`` is one address by :func:`canonical_email`'s rules."""
    return canonical_email(email) is not None


def email_domain(email: str) -> str | None:
    """The ASCII, lower-case domain of ``email``, or ``None`` when it is not one address."""
    canonical = canonical_email(email)
    return None if canonical is None else canonical.partition("@")[2]


def email_spellings(email: str) -> tuple[str, ...]:
    """The ways a host may have stored ``email``: its canonical form, and with a Unicode domain.

    Host accounts predate this app: one made by a sign-up form may hold
    ``jürgen@bücher.example`` where SCIM stores ``jürgen@xn--bcher-kva.example``.
    Both are one mailbox, so a search for an account asks for both.
    """
    canonical = canonical_email(email)
    if canonical is None:
        return (email,)
    local, _, domain = canonical.partition("@")
    try:
        unicode_domain = domain.encode("ascii").decode("idna")
    except UnicodeError:
        return (canonical,)
    other = f"{local}@{unicode_domain}"
    return (canonical,) if other == canonical else (canonical, other)


def normalize_domain(domain: str) -> str:
    """A domain as stored and compared: stripped, no leading ``@`` or trailing dot, and in its
    lower-case ASCII form (``Bücher.example`` is ``xn--bcher-kva.example``).

    A text that cannot be encoded is returned lower-cased, for the caller's
    validation to refuse.
    """
    text = domain.strip().lstrip("@").rstrip(".")
    return ascii_domain(text) or text.lower()
