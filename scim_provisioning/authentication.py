"""Any credential → team: the DRF authentication class every SCIM view uses.

A bearer, the token alone, an HTTP Basic password and an OAuth 2.0 access token
(:mod:`.oauth`) are all team tokens, resolved by :func:`authenticate_token`.

A token seen before by this process is recognised without a query (see
:mod:`.token_cache`): the request then starts *unverified*, and its token's
validity (not revoked, not expired, the team's SCIM switch on: one rule,
:func:`.reads.token_rule`) is checked before it can see or change anything.
Reads check it inside the query they make anyway (:class:`TokenGuard`), and
so do the writes of a record by id, inside their locked read of the record,
and a create, inside its first read, each of which brings the team's config
the write needs (:meth:`TokenGuard.confirm_write`); every other request checks
it with the full lookup before its handler runs (``SCIMView.initial``). A token
not seen before is looked up in full at once.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model
from django.db.models.base import ModelState
from rest_framework import HTTP_HEADER_ENCODING, exceptions
from rest_framework.authentication import BaseAuthentication

from .conf import app_settings
from .models import SCIMTeamConfig, SCIMToken
from .scope import TeamScope
from .token_cache import MAX_ENTRIES, TokenFacts, cache
from .tokens import check_digest, digest, is_well_formed, record_use

INVALID = "The bearer token is not valid, has expired or was revoked."
DISABLED = (
    "SCIM provisioning is not enabled for this team. Contact the site's support to enable it."
)

#: The 401 detail when a request carries no ``Authorization`` header. The connection
#: doctor (:mod:`.doctor`) reads it to tell "a proxy dropped the header" from "a bad token".
MISSING_CREDENTIALS = "A bearer token is required."


class SCIMClient:
    """``request.user`` of a SCIM request: the identity provider acting for one team.

    One per request. ``verified`` says whether the token's validity has been
    checked against the database during this request; ``team_on``, what the one
    token rule (:func:`.reads.token_rule`) said of the team's SCIM switch (for a
    remembered token, provisionally on: only enabled teams' tokens are remembered,
    and the request's read or full check confirms it).

    ``scope`` (the token's team) and ``rate_limit`` (the team's, or ``None`` for the
    site's) are known from the start; ``config``, the team's policy, only once the
    token was read from the database (``None`` before that for a remembered token,
    and for a team without a configuration).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True

    def __init__(
        self,
        token: SCIMToken,
        config: SCIMTeamConfig | None,
        *,
        digest: str,
        verified: bool,
        team_on: bool,
        rate_limit: int | None = None,
    ) -> None:
        self.token = token
        self.config = config
        self.digest = digest
        self.verified = verified
        self.team_on = team_on
        self.rate_limit = config.rate_limit if config is not None else rate_limit

    @classmethod
    def looked_up(cls, token: SCIMToken, token_digest: str, *, team_on: bool = False) -> SCIMClient:
        """A client of a token just read from the database (with its team and config).

        ``team_on``: the rule's verdict on the team's switch (:class:`~.reads.TokenCheck`).
        """
        try:
            config: SCIMTeamConfig | None = token.team.scim_config
        except ObjectDoesNotExist:
            config = None
        return cls(token, config, digest=token_digest, verified=True, team_on=team_on)

    @classmethod
    def remembered(cls, facts: TokenFacts, token_digest: str) -> SCIMClient:
        """A client of a remembered token, not yet checked in this request.

        Its token is this request's own instance (a request writes
        ``last_used_at`` on its token), copied from one made once per ``facts``.
        """
        return cls(
            _copy(_remembered_token(facts)),
            None,
            digest=token_digest,
            verified=False,
            team_on=True,
            rate_limit=facts.rate_limit,
        )

    @property
    def scope(self) -> TeamScope:
        """The token's team, which every query of the request is scoped to."""
        return TeamScope(self.token.team_id)

    @property
    def team(self) -> Any:
        return self.token.team

    @property
    def team_id(self) -> Any:
        return self.token.team_id

    def verify(self) -> None:
        """Check the token in full now (one query), unless this request already has.

        Raises a 401 for a token revoked or expired since it was remembered, a
        403 for a team whose SCIM was switched off; otherwise the client holds
        the token's and the team's current rows from then on.
        """
        if self.verified:
            return
        checked = check_digest(self.digest)
        if checked.token is None:
            cache.forget(self.digest)
            raise exceptions.AuthenticationFailed(INVALID)
        fresh = SCIMClient.looked_up(checked.token, self.digest, team_on=checked.team_on)
        self.token, self.config, self.verified = fresh.token, fresh.config, True
        self.rate_limit = fresh.rate_limit
        self.team_on = fresh.team_on
        if not self.team_on:
            cache.forget(self.digest)
            raise exceptions.PermissionDenied(DISABLED)

    def __str__(self) -> str:
        return f"SCIM client of team {self.team_id} ({self.token.prefix}…)"


@lru_cache(maxsize=MAX_ENTRIES)
def _remembered_token(facts: TokenFacts) -> SCIMToken:
    """The token a remembered token stands for: made once per ``facts``, never handed
    out itself (see :func:`_copy`)."""
    return SCIMToken(
        pk=facts.token_id,
        team_id=facts.team_id,
        prefix=facts.prefix,
        last_used_at=facts.last_used_at,
        oauth_client_id=facts.oauth_client_id,
    )


_Row = TypeVar("_Row", bound=Model)


def _copy(instance: _Row) -> _Row:
    """A new unsaved instance with ``instance``'s field values and a state of its own.

    What ``Model(**values)`` makes, without ``Model.__init__`` walking every field
    (and its default). Made for :func:`_remembered_token`'s plain instances only:
    no related object cached, no ``post_init`` receiver (none listens for tokens).
    """
    copied = instance.__class__.__new__(instance.__class__)
    copied.__dict__.update(instance.__dict__)
    copied._state = ModelState()
    return copied


class TokenGuard:
    """Checks a remembered token inside the query a read makes anyway: no extra round trip.

    A read whose token is not yet checked (``unchecked_digest``) adds the check
    to its query (:func:`.reads.token_still_valid`: an uncorrelated EXISTS,
    evaluated once) and says what it found in its result (``token_ok`` of
    :class:`~.reads.Found` or :class:`~.reads.Page`); ``confirm`` takes that, and
    falls back to the full check when no row vouched for the token (``None``,
    ``False``). A verified client needs neither. A write's locked read checks it
    the same way, and brings the team's config the write needs (:meth:`confirm_write`).
    """

    def __init__(self, client: SCIMClient) -> None:
        self.client = client

    @property
    def unchecked_digest(self) -> str | None:
        """The digest a read must check in its query, or ``None`` when already checked."""
        return None if self.client.verified else self.client.digest

    def confirm(self, token_ok: bool | None) -> None:
        if self.client.verified:
            return
        if token_ok is not True:
            self.client.verify()  # raises when the token may no longer be used
        else:
            self.client.verified = True

    @property
    def scope(self) -> TeamScope:
        """The token's team, which the write's locked read is scoped to."""
        return self.client.scope

    def confirm_write(self, read: Vouching) -> SCIMTeamConfig:
        """The team's policy for a write whose first read checked the token (``read``).

        A read that found its row with the token valid brought the team's config too
        (a write's locked record, :attr:`~.reads.Found.config`; a create's team,
        :attr:`~.reads.BeforeCreate.config`): the token's full lookup is not needed.
        No row (a 404 to come) or a token no longer valid falls back to it, which
        raises the 401 or 403, in the write's transaction (it rolls back whole).
        """
        client = self.client
        if not client.verified:
            if read.token_ok is True and read.config is not None:
                client.config, client.verified = read.config, True
            else:
                client.verify()  # raises when the token may no longer be used
        config = client.config
        assert config is not None  # a valid token's team is on: it has a config
        return config


class Vouching(Protocol):
    """What a write's first read says of the token it checked (:meth:`TokenGuard.confirm_write`):
    ``token_ok`` ``None`` when it found no row to check it with."""

    @property
    def token_ok(self) -> bool | None: ...

    @property
    def config(self) -> SCIMTeamConfig | None: ...


#: Who a write acts for: the team's config (the request's token checked already: /Bulk,
#: a token not remembered), or the request's :class:`TokenGuard`, whose token the
#: write's first read checks in the same statement, bringing the team's config with it
#: (issue 27: one statement fewer).
Acting = SCIMTeamConfig | TokenGuard


def unchecked(acting: Acting) -> tuple[TeamScope, str | None]:
    """The team ``acting`` writes for, and the digest its write's first read must check
    (``None``: checked already); :func:`confirmed` then gives the team's config."""
    if isinstance(acting, SCIMTeamConfig):
        return acting.scope, None
    return acting.scope, acting.unchecked_digest


def confirmed(acting: Acting, read: Vouching) -> SCIMTeamConfig:
    """The team's policy once the write's first read (``read``) checked ``acting``'s token;
    a 401 or 403 when it may no longer be used (:meth:`TokenGuard.confirm_write`)."""
    if isinstance(acting, SCIMTeamConfig):
        return acting
    return acting.confirm_write(read)


def config_of(acting: Acting) -> SCIMTeamConfig:
    """The team's policy for a write that reads nothing first: the token's full check now."""
    if isinstance(acting, SCIMTeamConfig):
        return acting
    acting.client.verify()  # raises when the token may no longer be used
    config = acting.client.config
    assert config is not None  # a valid token's team is on: it has a config
    return config


class SCIMTokenAuthentication(BaseAuthentication):
    """Any credential an IdP sends (:func:`presented_token`) → the team; else a 401.

    Bearer, the token alone and HTTP Basic carry the same team token, and an
    OAuth 2.0 access token is a team token too (:mod:`.oauth`): all of them
    reach the team through :func:`authenticate_token`, so every rule of a
    token holds for each of them alike.
    """

    def authenticate(self, request: Any) -> tuple[SCIMClient, SCIMToken]:
        scheme, plaintext = presented_token(authorization_header(request))
        client = authenticate_token(plaintext)
        # An OAuth access token needs the oauth scheme on; a team token, the form it came in.
        wanted = "oauth" if client.token.oauth_client_id is not None else scheme
        if wanted not in app_settings.AUTHENTICATION_SCHEMES:
            raise exceptions.AuthenticationFailed(INVALID)
        return client, client.token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="scim"'


def authorization_header(request: Any) -> bytes:
    """The ``Authorization`` header as DRF's ``get_authorization_header`` gives it (bytes).

    Read from ``request.META``: DRF's reads ``request.headers``, which builds a
    mapping of every header of the request for this one (issue 27).
    """
    header = request.META.get("HTTP_AUTHORIZATION", b"")
    return header.encode(HTTP_HEADER_ENCODING) if isinstance(header, str) else header


def presented_token(header: bytes) -> tuple[str, str]:
    """The scheme (``bearer``, ``header`` or ``basic``) and the token of an ``Authorization``
    header, in any form that is switched on.

    * ``Bearer <token>`` (RFC 6750 §2.1); ``Bearer Bearer <token>`` too: an admin
      pasted "Bearer <token>" into an IdP field that adds "Bearer " itself.
    * ``<token>`` alone: Okta's "Header" authentication mode sends the field as typed.
    * ``Basic base64(<anything>:<token>)`` (RFC 7617): Okta's "Basic Auth" mode. The
      user name is ignored: the token alone names the team and carries all the
      entropy, and an IdP form that requires a user name can hold anything.

    Which are on is ``SCIM_PROVISIONING_AUTHENTICATION_SCHEMES``; ``Bearer`` is read
    with ``oauth`` alone on too, since access tokens come as bearers. Raises a 401
    whose detail names the fault (the admin reads it in the IdP's log).
    """
    parts = header.split()
    if not parts:
        raise exceptions.AuthenticationFailed(MISSING_CREDENTIALS)
    schemes = app_settings.AUTHENTICATION_SCHEMES
    keyword = parts[0].lower()
    if len(parts) == 3 and keyword == b"bearer" and parts[1].lower() == b"bearer":
        parts = parts[1:]
    if len(parts) == 2 and keyword == b"bearer" and {"bearer", "oauth"} & set(schemes):
        return "bearer", _text(parts[1])
    if len(parts) == 2 and keyword == b"basic" and "basic" in schemes:
        return "basic", _basic_password(parts[1])
    if len(parts) == 1 and "header" in schemes and keyword not in (b"bearer", b"basic"):
        return "header", _text(parts[0])
    raise exceptions.AuthenticationFailed(f"The Authorization header must be {accepted_forms()}.")


def accepted_forms() -> str:
    """The header forms switched on, as the 401 names them."""
    forms = {
        "bearer": "'Bearer <token>'",
        "header": "'<token>'",
        "basic": "'Basic <base64 of user:token>'",
    }
    on = app_settings.AUTHENTICATION_SCHEMES
    named = [forms[s] for s in on if s in forms]
    if "oauth" in on and "bearer" not in on:
        named.insert(0, "'Bearer <access token>'")
    return " or ".join(named) if named else "absent: no header scheme is switched on"


def _text(raw: bytes) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise exceptions.AuthenticationFailed("The bearer token is not valid.") from exc


def _basic_password(raw: bytes) -> str:
    """The password of HTTP Basic credentials (RFC 7617 §2): what follows the first colon."""
    try:
        decoded = base64.b64decode(raw, validate=True).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise exceptions.AuthenticationFailed("The Basic credentials are not valid.") from exc
    _user, colon, password = decoded.partition(":")
    if not colon:
        raise exceptions.AuthenticationFailed(
            "The Basic credentials must be '<user name>:<token>', the token as the password."
        )
    return password


def authenticate_token(plaintext: str) -> SCIMClient:
    """The client of a team token, however it was presented; raises a 401 when it is unknown.

    The one way from a credential to a team: a bearer, the token alone, an HTTP
    Basic password and an OAuth 2.0 access token all come here.
    """
    if not is_well_formed(plaintext):
        raise exceptions.AuthenticationFailed(INVALID)
    # Keyed by a hash of the token, like the database index: a lookup's timing
    # says nothing about the token itself.
    token_digest = digest(plaintext)
    facts = cache.get(token_digest)
    if facts is not None:
        client = SCIMClient.remembered(facts, token_digest)
        if record_use(client.token) and client.token.last_used_at is not None:
            cache.used(token_digest, client.token.last_used_at)
        return client
    checked = check_digest(token_digest)
    token = checked.token
    if token is None:
        raise exceptions.AuthenticationFailed(INVALID)
    client = SCIMClient.looked_up(token, token_digest, team_on=checked.team_on)
    if client.config is not None and client.team_on:
        cache.put(
            token_digest,
            TokenFacts(
                token_id=token.pk,
                team_id=token.team_id,
                prefix=token.prefix,
                rate_limit=client.rate_limit,
                last_used_at=token.last_used_at,
                oauth_client_id=token.oauth_client_id,
            ),
        )
    return client
