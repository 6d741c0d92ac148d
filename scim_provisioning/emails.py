"""Email syntax and domains, one definition for every check (DESIGN promise 6).

The syntax is Django's :class:`~django.core.validators.EmailValidator`; the
domain is what follows the *only* ``@``. An address with two ``@`` is not an
address: reading the last ``@`` as the separator once let
``a@acme.example@globex.example`` pass a check for ``globex.example``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

_validator = EmailValidator()


def is_valid_email(email: str) -> bool:
    """Whether ``email`` is an email address by Django's ``EmailValidator``, with one ``@``."""
    if email.count("@") != 1:
        return False
    try:
        _validator(email)
    except ValidationError:
        return False
    return True


def email_domain(email: str) -> str | None:
    """The lower-cased domain of ``email``, or ``None`` when it is not one address."""
    if not is_valid_email(email):
        return None
    return email.partition("@")[2].lower()


def normalize_domain(domain: str) -> str:
    """A domain as stored and compared: stripped, lower-case, no leading ``@`` or trailing dot."""
    return domain.strip().lower().lstrip("@").rstrip(".")
