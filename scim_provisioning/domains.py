"""Self-serve domain verification with a DNS TXT record (DESIGN promise 6).

Verified domains make the safety rules useful: only inside one may SCIM move
an account's login email, and when a team has any, its IdP may create or
link only addresses inside them. Staff can set domains directly
(``SCIMTeamConfig.verified_domains``); a team's managers prove one
themselves:

1. :func:`add_domain` records the claim with a random value, per team and domain;
2. the team publishes ``TXT _scim-verification.<domain> "<value>"``;
3. :func:`check_domain` resolves the TXT records (dnspython, with a timeout)
   and, when one is the value, records who verified it and when.

A check says clearly what it found: no record, records without the value,
or a DNS error. A re-check that finds the record gone withdraws the
verification; a DNS error leaves the state as it was (the DNS may be down,
the proof still holds).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.resolver
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from .conf import app_settings
from .emails import normalize_domain
from .models import SCIMTeamDomain
from .scope import TeamScope

#: Prefix of every TXT value, so that a domain's DNS says what the record is for.
TXT_VALUE_PREFIX = "scim-verification="
_validate_domain = DomainNameValidator(accept_idna=False)


class InvalidDomain(ValueError):
    """The text given is not a domain name a team can verify."""


@dataclass(frozen=True)
class DomainCheck:
    """What a check found: whether the domain is verified now, and a message for people."""

    domain: SCIMTeamDomain
    verified: bool
    message: str


def clean_domain(text: str) -> str:
    """``text`` as a domain to verify (lower-case, no ``@`` or trailing dot).

    Raises :class:`InvalidDomain` when it is not a domain name.
    """
    domain = normalize_domain(text or "")
    try:
        _validate_domain(domain)
    except ValidationError as exc:
        raise InvalidDomain(f"'{text}' is not a domain name (e.g. acme.com).") from exc
    if "." not in domain:
        raise InvalidDomain(f"'{text}' is not a domain name (e.g. acme.com).")
    return domain


def add_domain(team: Any, text: str, *, created_by: Any | None = None) -> SCIMTeamDomain:
    """The team's claim on a domain, with its random TXT value (the existing one, if any)."""
    domain = clean_domain(text)
    claims = TeamScope.of(team).filter(SCIMTeamDomain.objects.filter(domain=domain))
    existing = claims.first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return SCIMTeamDomain.objects.create(
                team=team,
                domain=domain,
                txt_value=TXT_VALUE_PREFIX + secrets.token_urlsafe(24),
                created_by=created_by,
            )
    except IntegrityError:  # a concurrent request added it first
        return claims.get()


def remove_domain(team: Any, text: str) -> int:
    """Withdraw the team's claim on a domain (verified or not); how many were removed."""
    try:
        domain = clean_domain(text)
    except InvalidDomain:
        return 0
    return TeamScope.of(team).filter(SCIMTeamDomain.objects.filter(domain=domain)).delete()[0]


def resolve_txt(name: str) -> list[str]:
    """The TXT strings published at ``name``; dnspython's exceptions pass through."""
    resolver = dns.resolver.Resolver()
    resolver.lifetime = app_settings.DOMAIN_CHECK_TIMEOUT
    answer = resolver.resolve(name, "TXT")
    # A TXT record is one or more character strings; publishers split long ones.
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def check_domain(claim: SCIMTeamDomain, *, checked_by: Any | None = None) -> DomainCheck:
    """Look for the claim's TXT record and record the outcome on the claim."""
    now = timezone.now()
    name = claim.txt_name
    try:
        values = resolve_txt(name)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        found, message = False, f"No TXT record found at {name}. Publish it, then check again."
    except dns.exception.Timeout:
        return _dns_error(claim, now, f"The DNS did not answer for {name} in time; try again.")
    except dns.exception.DNSException as exc:
        return _dns_error(claim, now, f"DNS error while looking up {name}: {type(exc).__name__}.")
    else:
        found = claim.txt_value in (value.strip() for value in values)
        message = (
            f"{claim.domain} is verified."
            if found
            else f"The TXT records at {name} do not contain this team's value: "
            f"expected {claim.txt_value}."
        )
    claim.last_checked_at = now
    claim.last_check_message = message[:300]
    if found:
        if claim.verified_at is None:
            claim.verified_at, claim.verified_by = now, checked_by
    else:
        claim.verified_at, claim.verified_by = None, None
    claim.save(
        update_fields=["last_checked_at", "last_check_message", "verified_at", "verified_by"]
    )
    return DomainCheck(domain=claim, verified=found, message=message)


def _dns_error(claim: SCIMTeamDomain, now: Any, message: str) -> DomainCheck:
    claim.last_checked_at = now
    claim.last_check_message = message[:300]
    claim.save(update_fields=["last_checked_at", "last_check_message"])
    return DomainCheck(domain=claim, verified=claim.is_verified, message=message)
