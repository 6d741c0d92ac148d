"""django-allauth's ``EmailAddress`` for the accounts SCIM creates or renames (issue 22).

allauth keeps a person's addresses in ``EmailAddress`` rows, beside the user's
email field: without one, its password reset, its address page and its login
by email do not know the person. When SCIM gives an account a login email it
records it there too, as the account's **primary, unverified** address.

Unverified on purpose (DESIGN promise 6): the team's IdP asserted the address,
the person never opened the mailbox, and an address SCIM recorded must never
become the proof (:meth:`~.adapters.DefaultAdapter.email_verified`) that lets
another team's IdP link the account. The person verifies it through allauth
(a confirmation, a password reset by email).

Nothing happens on a site without ``allauth.account`` installed.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps


def _installed() -> bool:
    return apps.is_installed("allauth.account")


def record_new_account_address(user: Any, email: str) -> None:
    """Give an account SCIM just created its primary, unverified allauth address (one insert)."""
    if not email or not _installed():
        return
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)


def record_primary_address(user: Any, email: str) -> None:
    """Make ``email`` ``user``'s primary allauth address; a new one is unverified.

    An address the account already has keeps its verified state (the person
    proved it before); the account's other addresses stop being primary.
    Inside the caller's transaction.
    """
    if not email or not _installed():
        return
    from allauth.account.models import EmailAddress

    addresses = EmailAddress.objects.filter(user=user)
    addresses.exclude(email__iexact=email).filter(primary=True).update(primary=False)
    if not addresses.filter(email__iexact=email).update(primary=True):
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
