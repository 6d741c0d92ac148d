"""The login rule: when SCIM moves an account's login email (DESIGN promise 6, issue 21).

A team's IdP renames people; the SCIM record always follows it. The account's
login email, what the person signs in with and where a password reset goes,
follows only when the move can lock nobody out and hand nobody's account over:

1. this team alone manages the account: its SCIM created it and no other team
   holds it (the adapter's ``is_managed_by_team``);
2. the new address is inside the team's verified domains (staff-set or
   DNS-proven): otherwise a team could rename its own account to another
   company's address and have that company's IdP link to it (issue 8);
3. the current login is one the team gave inside a domain it had verified at
   that moment and still has (``SCIMUser.login_domain``), or nobody ever used
   the account (the adapter's ``account_unused``). A domain verified later
   hands over nothing: team B, without a domain, creates
   ``cfo@initech.example``; the CFO adopts the account and sets a password; B
   proves a domain of its own and renames the CFO into it. The login stays.
   So does one that a team dropped its domain to create outside, then proved
   the domain again; and one the person moved to an address of their own.

A move that would take an address another account signs in with leaves the
login as it is, silently: saying so would tell the IdP that someone else has an
account here.
"""

from __future__ import annotations

import logging
from typing import Any

from ..emails import canonical_email, email_domain
from ..models import SCIMTeamConfig, SCIMUser

logger = logging.getLogger("scim_provisioning")


def login_domain_given(email: str, verified: set[str]) -> str:
    """The verified domain in which SCIM gives an account the login ``email``; ``""`` if none.

    Recorded on the record when its provisioning creates the account or moves
    its login: the one place a later move may start from.
    """
    domain = email_domain(email)
    return domain if domain and domain in verified else ""


def move_login(
    adapter: Any,
    config: SCIMTeamConfig,
    record: SCIMUser,
    account: Any,
    email: str,
    verified: set[str] | None = None,
) -> bool:
    """Move the login of ``account`` (which this team alone manages) to ``email`` if the
    rule allows it; whether it moved.

    ``verified``: the team's verified domains now, when the caller read them already.
    A login moved sets ``record.login_domain``, which the caller saves with the
    record's other changes (issue 27: one UPDATE of the row).
    """
    stored = getattr(account, adapter.email_field, "") or ""
    login = canonical_email(stored) or stored.lower()
    if not email or email == login:
        return False
    if verified is None:
        verified = config.domain_names()
    new_domain = login_domain_given(email, verified)
    if not new_domain:
        return False
    current = email_domain(login)
    given_here = bool(record.login_domain) and record.login_domain == current
    if not (given_here and current in verified) and not adapter.account_unused(config, account):
        logger.info(
            "SCIM rename of account %s: its login was not given inside a verified domain "
            "and the account is in use, so the login stays",
            account.pk,
        )
        return False
    if adapter.email_in_use(config, email, exclude=account):
        logger.warning(
            "SCIM rename of account %s to an email already in use: login left unchanged",
            account.pk,
        )
        return False
    adapter.change_login_email(config, account, email)
    record.login_domain = new_domain
    return True
