"""The app's own tables. Host models are only ever referenced, never changed.

The team model is named by ``SCIM_PROVISIONING_TEAM_MODEL`` and referenced the
way ``AUTH_USER_MODEL`` is, so these migrations fit any host.
"""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .conf import app_settings
from .emails import email_domain, normalize_domain
from .fields import OrderedJSONField, validate_role_mapping
from .scope import TeamScope

TEAM_MODEL = app_settings.TEAM_MODEL


class SCIMTeamConfig(models.Model):
    """Per-team SCIM switch and policy, controlled by the site's staff."""

    team = models.OneToOneField(
        TEAM_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="scim_config",
    )
    enabled = models.BooleanField(
        default=False,
        help_text="Staff switch. While off, the team's tokens are refused with a 403.",
    )
    group_roles = OrderedJSONField(
        default=dict,
        blank=True,
        validators=[validate_role_mapping],
        help_text=(
            "Team roles granted by IdP groups, by group displayName, e.g. "
            '{"Acme Admins": "admin"}. The host adapter applies them.'
        ),
    )
    user_roles = OrderedJSONField(
        default=dict,
        blank=True,
        validators=[validate_role_mapping],
        help_text=(
            "Team roles granted by the value of a user's SCIM 'roles' (an IdP's app roles), "
            'e.g. {"Admin": "admin", "User": "member"}; the first listed role a person has '
            "wins, after those of group_roles. The host adapter applies them."
        ),
    )
    verified_domains = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            'Email domains this team\'s IdP may provision (e.g. ["acme.com"]), set by staff; '
            "the team can also prove domains itself with a DNS TXT record. None at all: any domain."
        ),
    )
    rate_limit = models.PositiveIntegerField(
        "rate limit (requests per second)",
        null=True,
        blank=True,
        help_text=(
            "Requests per second each of the team's tokens may make, averaged over "
            "SCIM_PROVISIONING_RATE_LIMIT_WINDOW seconds. Empty: the site's "
            "SCIM_PROVISIONING_RATE_LIMIT. 0: no limit."
        ),
    )
    guard_percent = models.PositiveSmallIntegerField(
        "deprovisioning guard: percent",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=(
            "Hold deactivations and removals beyond this percentage of the team's active "
            "members per window. Empty: the site's SCIM_PROVISIONING_DEPROVISION_GUARD."
        ),
    )
    guard_minimum = models.PositiveIntegerField(
        "deprovisioning guard: at least",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "…and beyond at least this many people per window. "
            "Empty: the site's SCIM_PROVISIONING_DEPROVISION_GUARD."
        ),
    )
    # The guard's counter (scim_provisioning.guard): deprovisionings let through
    # since guard_window_start, counted by one conditional UPDATE of this row.
    guard_window_start = models.DateTimeField(null=True, blank=True, editable=False)
    guard_count = models.PositiveIntegerField(default=0, editable=False)
    guard_base = models.PositiveIntegerField(default=0, editable=False)
    guard_held = models.PositiveIntegerField(default=0, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SCIM team configuration"

    def __str__(self) -> str:
        return f"SCIM for {self.team} ({'enabled' if self.enabled else 'disabled'})"

    @property
    def scope(self) -> TeamScope:
        """The team this configuration belongs to, as a query scope (no policy)."""
        return TeamScope(self.team_id)

    def domain_names(self) -> set[str]:
        """The team's verified email domains, normalised: the staff-set list and the
        domains the team proved with a DNS TXT record (:class:`SCIMTeamDomain`).

        One query, for the proven ones.
        """
        return self.staff_domains() | set(self.proven_domains().values_list("domain", flat=True))

    def staff_domains(self) -> set[str]:
        """The staff-set verified domains, normalised (no query: a column of this row)."""
        return {normalize_domain(d) for d in self.verified_domains or [] if d.strip()}

    def proven_domains(self) -> models.QuerySet[SCIMTeamDomain]:
        """The domains the team proved with a DNS TXT record (a query to run or combine)."""
        return SCIMTeamDomain.objects.filter(team_id=self.team_id, verified_at__isnull=False)

    def allows_email(self, email: str, domains: set[str] | None = None) -> bool:
        """Whether the team's IdP may provision ``email``: inside the verified domains,
        or anything when the team has none.

        The domain is what follows the only ``@`` (:func:`~.emails.email_domain`);
        something that is not one address lies inside no domain. ``domains``:
        :meth:`domain_names`, when the caller read them already.
        """
        domains = self.domain_names() if domains is None else domains
        if not domains:
            return True
        return email_domain(email) in domains


class SCIMTeamDomain(models.Model):
    """An email domain a team claims, verified by a DNS TXT record (self-serve).

    The team's managers add a domain and get a TXT record to publish:
    ``_scim-verification.<domain>`` with the value ``txt_value``, random per
    team and domain. Checking it (:func:`scim_provisioning.domains.check_domain`)
    records who verified it and when. Verified domains count as the staff-set
    ``SCIMTeamConfig.verified_domains`` do.
    """

    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="scim_domains")
    domain = models.CharField(max_length=253, help_text="Lower-case, without a trailing dot.")
    txt_value = models.CharField(max_length=80, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check_message = models.CharField(max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name = "SCIM team domain"
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["team", "domain"], name="scim_team_domain_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.domain} ({'verified' if self.is_verified else 'not verified'})"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def txt_name(self) -> str:
        """Where the TXT record goes."""
        return f"{TXT_RECORD_LABEL}.{self.domain}"


#: The label under the domain that holds the verification TXT record.
TXT_RECORD_LABEL = "_scim-verification"


class SCIMTokenState(models.TextChoices):
    ACTIVE = "active", "active"
    EXPIRED = "expired", "expired"
    REVOKED = "revoked", "revoked"


class SCIMTokenQuerySet(models.QuerySet):
    def for_idp(self) -> SCIMTokenQuerySet:
        """Tokens for an IdP: without the connection doctor's throwaway ones.

        The doctor's are kept (who ran a check, when) but belong in no token list,
        status or health count a team's managers read (issue 24).
        """
        return self.filter(is_doctor=False)

    def own(self) -> SCIMTokenQuerySet:
        """A team's own bearer tokens: the ones its managers issue, list, rotate and revoke.

        Not the connection doctor's (:meth:`for_idp`), nor an OAuth 2.0 client's access
        tokens (``oauth_client`` set): those are the client's, ended with it.
        """
        return self.for_idp().filter(oauth_client__isnull=True)


class SCIMToken(models.Model):
    """A team's bearer token. Only its SHA-256 digest is stored, never the token."""

    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="scim_tokens")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=16,
        db_index=True,
        editable=False,
        help_text="First characters, to tell tokens apart.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_doctor = models.BooleanField(
        "connection check",
        default=False,
        editable=False,
        help_text="Issued by the connection doctor for one check, and revoked after it.",
    )

    oauth_client = models.ForeignKey(
        "SCIMOAuthClient",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access_tokens",
        editable=False,
        help_text="Set on an OAuth 2.0 access token: the client it was issued to.",
    )

    objects = SCIMTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "SCIM token"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.state})"

    @property
    def state(self) -> SCIMTokenState:
        """``revoked`` wins over ``expired``; both are final."""
        if self.revoked_at is not None:
            return SCIMTokenState.REVOKED
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return SCIMTokenState.EXPIRED
        return SCIMTokenState.ACTIVE

    @property
    def is_usable(self) -> bool:
        return self.state == SCIMTokenState.ACTIVE


class SCIMOAuthClient(models.Model):
    """An OAuth 2.0 client of one team (RFC 6749 §2): how Entra ID or Okta get access tokens.

    Its access tokens are :class:`SCIMToken` rows tied to it, so they obey every
    rule a team token does (digest only, expiry, revocation on the next request).
    Its secrets are :class:`SCIMOAuthSecret` rows (two may be live, for rotation).
    """

    team = models.ForeignKey(
        TEAM_MODEL, on_delete=models.CASCADE, related_name="scim_oauth_clients"
    )
    client_id = models.CharField(max_length=64, unique=True, editable=False)
    name = models.CharField(max_length=100, blank=True, help_text="Which IdP this is, for people.")
    redirect_uris = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Redirect URIs the authorization code may be sent to, matched exactly "
            '(RFC 6749 §3.1.2), e.g. ["https://acme-admin.okta.com/oauth/callback"]. '
            "Empty: client credentials only."
        ),
    )
    access_token_seconds = models.PositiveIntegerField(
        "access token lifetime (seconds)",
        default=3600,
        help_text="Lifetime of the access tokens issued to this client.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "SCIM OAuth client"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.client_id} ({'revoked' if self.revoked_at else 'active'})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SCIMOAuthSecret(models.Model):
    """A client secret of an :class:`SCIMOAuthClient`: only its SHA-256 digest is stored."""

    client = models.ForeignKey(SCIMOAuthClient, on_delete=models.CASCADE, related_name="secrets")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SCIM OAuth client secret"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}…"


class SCIMOAuthGrantKind(models.TextChoices):
    CODE = "code", "authorization code"
    REFRESH = "refresh", "refresh token"


class SCIMOAuthGrant(models.Model):
    """An authorization code or a refresh token (RFC 6749 §4.1, §6): digest only, single use.

    ``used_at`` is set by one conditional UPDATE when the grant is redeemed, so
    of two concurrent redemptions exactly one wins.
    """

    client = models.ForeignKey(SCIMOAuthClient, on_delete=models.CASCADE, related_name="grants")
    kind = models.CharField(max_length=8, choices=SCIMOAuthGrantKind.choices)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    redirect_uri = models.CharField(max_length=2000, blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=8, blank=True)
    consented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SCIM OAuth grant"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.client_id}"


class SCIMResource(models.Model):
    """What every SCIM resource record has: the id the IdP sees, timestamps and a version.

    ``id`` is a UUID of the record, never the host's key; ``version`` backs the
    ETag and is bumped by :meth:`touch` on every change.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_modified = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True

    @property
    def etag(self) -> str:
        """Weak ETag of the current version, as ``meta.version`` and the ``ETag`` header."""
        return f'W/"{self.version}"'

    def touch(self) -> None:
        """Mark a change: bump the version and the modification time."""
        self.version += 1
        self.last_modified = timezone.now()


class SCIMUser(SCIMResource):
    """A team's SCIM view of one person, linked to the host's user account.

    ``id`` is what the IdP sees: a UUID of this record, never the host's key.
    The columns carry what is filtered on and must be unique; every other SCIM
    attribute lives in ``attributes`` as the IdP last sent it (normalised).
    """

    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="scim_users")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_records"
    )
    user_name = models.CharField(max_length=255)
    # NULL, not "": an absent externalId must not collide with or match an empty one.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    email = models.CharField(
        max_length=254, blank=True, help_text="Primary email, lower-cased, as the IdP sent it."
    )
    active = models.BooleanField(default=True)
    attributes = models.JSONField(default=dict, blank=True)
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    created_account = models.BooleanField(
        default=False, help_text="This record's provisioning created the host account."
    )
    # NULL, not "": records without one must not collide. Set by scim_import_django_scim2.
    legacy_id = models.CharField(  # noqa: DJ001
        max_length=255,
        null=True,
        blank=True,
        help_text=(
            "The id another SCIM server gave this person (django-scim2's scim_id), which the "
            "team's IdP may still use: /Users/{id} resolves it within this team only."
        ),
    )
    membership_existed = models.BooleanField(
        default=False,
        help_text=(
            "The account already belonged to the team when SCIM first linked it "
            "(SCIMMemberBeforeSCIM): its role stays its own, whatever IdP groups say."
        ),
    )
    deactivated_by_site = models.BooleanField(
        default=False,
        help_text=(
            "The site had switched the membership off before the IdP deactivated the "
            "person: SCIM's reactivation does not switch a manager role back on."
        ),
    )
    deprovision_held = models.BooleanField(
        default=False,
        help_text=(
            "The IdP deactivated the person beyond the team's deprovisioning guard: the "
            "record says inactive, the membership stays until a manager decides (SCIMHeldChange)."
        ),
    )
    login_domain = models.CharField(
        max_length=253,
        blank=True,
        default="",
        help_text=(
            "The verified domain of the team in which this record's provisioning gave the "
            "account its login email (on create, or on a later move of it): SCIM moves a "
            "login only from there. Empty: the team never gave it one inside a verified "
            "domain, and a domain verified later hands over nothing."
        ),
    )

    class Meta:
        verbose_name = "SCIM user"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "legacy_id"], name="scim_user_unique_legacy_id_per_team"
            ),
            models.UniqueConstraint(
                "team", Lower("user_name"), name="scim_user_unique_username_per_team"
            ),
            models.UniqueConstraint(
                fields=["team", "user"], name="scim_user_unique_account_per_team"
            ),
        ]
        indexes = [
            models.Index(fields=["team", "created", "id"], name="scim_user_team_created"),
            # People by id within the team (a group's members, named by the IdP):
            # with the team's index alone, SQLite (no statistics unless someone runs
            # ANALYZE) walked every person of the team for 100 ids.
            models.Index(fields=["team", "id"], name="scim_user_team_id"),
            # The list order after the filter's column: SQLite then filters and
            # orders on this index alone (without it, it walked the team in
            # created order: 74 ms instead of 0.2 ms at 100,000 users).
            models.Index(
                fields=["team", "external_id", "created", "id"], name="scim_user_team_external"
            ),
            models.Index(fields=["team", "email"], name="scim_user_team_email"),
        ]

    def __str__(self) -> str:
        return self.user_name

    def value_rows(self) -> list[SCIMUserValue]:
        """The SCIMUserValue rows mirroring this record's multi-valued attributes."""
        return [
            SCIMUserValue(user=self, attribute=attribute, type=kind, value=value, primary=primary)
            for attribute, kind, value, primary in self.value_items()
        ]

    def value_items(self) -> list[tuple[str, str, str, bool]]:
        """``(attribute, type, value, primary)`` of each of :meth:`value_rows`, no row built:
        what an update compares to tell whether the rows change (issue 27)."""
        return [
            (
                attribute,
                str(item.get("type") or "").lower()[:32],
                str(item["value"]).lower()[:255],
                bool(item.get("primary")),
            )
            for attribute in MULTI_VALUED_ATTRIBUTES
            for item in self.attributes.get(attribute) or []
            if isinstance(item, dict) and item.get("value") not in (None, "")
        ]

    def write_values(self, *, replace: bool = True) -> list[SCIMUserValue]:
        """Store :meth:`value_rows` (one DELETE when replacing, one INSERT); the rows stored."""
        if replace:
            # Only these attributes' rows: the host extension's are written on their own.
            SCIMUserValue.objects.filter(user=self, attribute__in=MULTI_VALUED_ATTRIBUTES).delete()
        rows = self.value_rows()
        if rows:
            from .reads import USER_VALUES  # compiled once; reads.py imports this module

            USER_VALUES.run(rows)
        return rows


#: Multi-valued User attributes mirrored into SCIMUserValue rows for filtering.
MULTI_VALUED_ATTRIBUTES = ("emails", "phoneNumbers", "roles")


class SCIMUserValue(models.Model):
    """One value of a user's attribute, kept so that filters run in the database on an index.

    A copy of what ``SCIMUser.attributes`` holds: the values of the
    multi-valued ``emails``, ``phoneNumbers`` and ``roles``, so that filters such as
    ``emails[type eq "work"].value eq "x"`` find them, and the values of the
    host's own User extension (see :mod:`scim_provisioning.extension_values`),
    whose attributes are the host's, so that no index on the JSON could be
    declared for them in advance on every database. A value fills the column
    of its type: ``value`` for text, ``number`` or ``moment``.
    """

    user = models.ForeignKey(SCIMUser, on_delete=models.CASCADE, related_name="values")
    attribute = models.CharField(max_length=64)
    type = models.CharField(max_length=32, blank=True)
    value = models.CharField(
        max_length=255,
        help_text="Lower-cased, unless it is the value of a caseExact extension attribute.",
    )
    primary = models.BooleanField(default=False)
    number = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    moment = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SCIM user value"
        indexes = [
            models.Index(fields=["attribute", "value"], name="scim_user_value_lookup"),
            models.Index(fields=["user", "attribute"], name="scim_user_value_user"),
            models.Index(fields=["attribute", "number"], name="scim_user_value_number"),
            models.Index(fields=["attribute", "moment"], name="scim_user_value_moment"),
        ]

    def __str__(self) -> str:
        return f"{self.attribute}: {self.value or self.number or self.moment}"


class SCIMGroup(SCIMResource):
    """A team's group as its IdP pushed it. ``id`` is what the IdP sees."""

    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="scim_groups")
    display_name = models.CharField(max_length=255)
    # NULL, not "": an absent externalId must not collide with or match an empty one.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    members = models.ManyToManyField(
        SCIMUser, through="SCIMGroupMembership", related_name="scim_groups"
    )

    class Meta:
        verbose_name = "SCIM group"
        constraints = [
            # Entra matches groups by displayName, so it is unique per team.
            models.UniqueConstraint(
                "team", Lower("display_name"), name="scim_group_unique_name_per_team"
            ),
        ]
        indexes = [
            models.Index(fields=["team", "created", "id"], name="scim_group_team_created"),
            models.Index(
                fields=["team", "external_id", "created", "id"], name="scim_group_team_external"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class SCIMGroupMembership(models.Model):
    """A user of the team in one of its groups."""

    group = models.ForeignKey(SCIMGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(SCIMUser, on_delete=models.CASCADE, related_name="group_memberships")
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "SCIM group membership"
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="scim_group_member_unique"),
        ]
        indexes = [models.Index(fields=["user", "group"], name="scim_group_member_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class SCIMMemberBeforeSCIM(models.Model):
    """An account was a member of the team before the team's IdP first linked it.

    DESIGN promise 6: such a membership keeps the role the team gave it, whatever
    IdP groups or ``roles`` say. Remembered per (team, account), not on the SCIM
    record: the IdP may DELETE the record and create it again, and the person
    must not come back as a newcomer whose role groups decide (issue 21, the
    pre-SCIM rule laundered). Written once, when SCIM links the account while it
    holds a membership; gone with the team or the account.
    """

    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    recorded = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SCIM member from before SCIM"
        verbose_name_plural = "SCIM members from before SCIM"
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="scim_member_before_scim_unique"),
        ]

    def __str__(self) -> str:
        return f"account {self.user_id} in team {self.team_id}, before SCIM"


class SCIMLinkRefusalReason(models.TextChoices):
    UNVERIFIED = "unverified", "its owner has not proven the address"
    STAFF = "staff", "a staff account"
    SEAT = "seat", "the site refused a seat"
    HOST = "host", "the site's rules refused the change"
    DEACTIVATED = "deactivated", "a manager the site deactivated"


class SCIMLinkRefusal(models.Model):
    """A person the team's IdP asked for and the site refused (DESIGN promise 6, seat limits).

    An existing account the team may not claim (its owner has not proven the
    address, or a staff account), or a seat the host's adapter refused
    (``claim_seat``, with the host's message in ``detail``). Shown to the team's
    managers (team page, API) and the staff (admin SCIM page) so that they can
    act: ask the person to verify their address, or sign in and join the team,
    or free or buy a seat. One row per team and address; a retry counts an
    attempt. Removed when a later link or seat succeeds. Never a secret: the
    address is what the IdP sent, the reason a code, the detail the site's own
    words.
    """

    team = models.ForeignKey(
        TEAM_MODEL, on_delete=models.CASCADE, related_name="scim_link_refusals"
    )
    email = models.CharField(max_length=254)
    reason = models.CharField(max_length=16, choices=SCIMLinkRefusalReason.choices)
    detail = models.CharField(
        max_length=500, blank=True, help_text="What the IdP was told (the host's message)."
    )
    created = models.DateTimeField(default=timezone.now)
    last_attempt = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "SCIM refused link"
        ordering = ["-last_attempt"]
        constraints = [
            models.UniqueConstraint(fields=["team", "email"], name="scim_link_refusal_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.get_reason_display()}"


#: The connection doctor's ``User-Agent`` (:mod:`.doctor` sends it; the request log and
#: health tell its requests from the IdP's by it). Here, below both, so neither imports up.
DOCTOR_USER_AGENT = "scim-doctor/1.0"


class IdentityProvider(models.TextChoices):
    OKTA = "okta", "Okta"
    ENTRA = "entra", "Microsoft Entra ID"
    ONELOGIN = "onelogin", "OneLogin"
    JUMPCLOUD = "jumpcloud", "JumpCloud"
    #: Not an IdP: the connection doctor's own requests (``User-Agent: scim-doctor/…``).
    DOCTOR = "doctor", "Connection check"
    OTHER = "other", "Other"


class SCIMRequestLog(models.Model):
    """One SCIM request, as the IdP made it: for the operators, never with a secret.

    ``summary`` is a redacted digest of the body: passwords and anything
    named like a secret are replaced, long values and lists are cut.
    """

    team = models.ForeignKey(
        TEAM_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scim_request_logs",
        help_text="Empty when the token named no team (a 401).",
    )
    token_prefix = models.CharField(max_length=16, blank=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    query = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField()
    resource_type = models.CharField(max_length=16, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    summary = models.TextField(blank=True)
    error = models.CharField(
        max_length=500,
        blank=True,
        help_text="What a failed request was answered: the SCIM error's scimType and detail.",
    )
    duration_ms = models.FloatField()
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    idp = models.CharField(
        "identity provider", max_length=16, choices=IdentityProvider.choices, default="other"
    )
    request_id = models.UUIDField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Given when the request began: timeline entries of its changes carry it.",
    )
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "SCIM request"
        ordering = ["-created"]
        indexes = [models.Index(fields=["team", "-created"], name="scim_log_team_created")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


class HealthState(models.TextChoices):
    """A team's sync health (see :mod:`scim_provisioning.health`)."""

    NOT_CONNECTED = "not-connected", "not connected yet"
    HEALTHY = "healthy", "healthy"
    UNHEALTHY = "unhealthy", "unhealthy"
    SWITCHED_OFF = "switched-off", "switched off"


class SCIMTeamHealth(models.Model):
    """The sync health last recorded for a team, so that a change of state can be told.

    Written by :func:`scim_provisioning.health.record_health` (``manage.py
    scim_health``); the pages compute health live and never read this.
    """

    team = models.OneToOneField(
        TEAM_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="scim_health"
    )
    state = models.CharField(max_length=16, choices=HealthState.choices)
    problems = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = "SCIM team health"

    def __str__(self) -> str:
        return f"{self.team}: {self.state}"


class TimelineAction(models.TextChoices):
    """What a :class:`SCIMUserEvent` records; values named like :class:`~.signals.EventType`."""

    CREATED = "user.created", "created (new account)"
    LINKED = "user.linked", "created (linked to an existing account)"
    UPDATED = "user.updated", "fields changed"
    DEACTIVATED = "user.deactivated", "deactivated"
    REACTIVATED = "user.reactivated", "reactivated"
    JOINED_GROUP = "user.joined_group", "joined a group"
    LEFT_GROUP = "user.left_group", "left a group"
    ROLE_GRANTED = "user.role_granted", "role granted"
    REMOVED = "user.deprovisioned", "removed from the team"
    REFUSED = "user.refused", "refused (an account link or a seat)"
    WRITE_FAILED = "user.write_failed", "a write failed (the IdP got an error)"
    HELD = "user.held", "deprovisioning held by the guard"
    RELEASED = "user.released", "held deprovisioning released"
    DISCARDED = "user.discarded", "held deprovisioning discarded"


class SCIMUserEvent(models.Model):
    """One change SCIM made to a team's member: the person's provisioning timeline.

    Written in the transaction of the change itself (:mod:`scim_provisioning.timeline`),
    so an entry exists exactly when its change was committed. It outlives the
    SCIM record (``scim_user_id`` is no foreign key, ``user_name`` is the one
    the record had then) and the token (``token_prefix``). ``changes`` maps a
    SCIM attribute path to ``[old, new]`` and never holds a secret. Kept for
    ``SCIM_PROVISIONING_TIMELINE_RETENTION_DAYS`` (``manage.py scim_prune_timeline``).
    """

    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="scim_user_events")
    scim_user_id = models.UUIDField(
        "SCIM user id",
        null=True,
        blank=True,
        help_text="Empty for a refused create: the person never had a SCIM record.",
    )
    user_name = models.CharField("userName", max_length=255)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The host account, while it exists.",
    )
    action = models.CharField(max_length=32, choices=TimelineAction.choices)
    changes = models.JSONField(default=dict, blank=True)
    group_id = models.UUIDField("SCIM group id", null=True, blank=True)
    group_name = models.CharField("group displayName", max_length=255, blank=True)
    role = models.CharField(max_length=64, blank=True)
    token = models.ForeignKey(
        SCIMToken,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    token_prefix = models.CharField(max_length=16, blank=True)
    request_id = models.UUIDField(
        null=True, blank=True, help_text="The SCIMRequestLog row of the IdP request."
    )
    outcome = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the IdP got for a failed write (status, scimType, detail, hint); "
        "for a rename, the sign-in address and whether it moved.",
    )
    names = models.TextField(
        blank=True,
        default="",
        help_text="The names this change gave the person, case-folded, one per line: "
        "searched like SCIMPersonName, into which pruning moves them.",
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SCIM user timeline entry"
        verbose_name_plural = "SCIM user timeline"
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(
                fields=["team", "scim_user_id", "-created", "-id"], name="scim_event_team_user"
            ),
            models.Index(fields=["team", "-created", "-id"], name="scim_event_team_created"),
            models.Index(fields=["created"], name="scim_event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.user_name}: {self.get_action_display()}"

    @property
    def outcome_text(self) -> str:
        """``outcome`` as one sentence for pages and exports ("" when there is none)."""
        outcome = self.outcome or {}
        if "status" in outcome:
            code = f"{outcome['status']} {outcome.get('scimType') or ''}".strip()
            text = f"{outcome.get('request', 'The write')} was refused with {code}"
            if outcome.get("detail"):
                text += f": \u201c{outcome['detail']}\u201d"
            text += "."
            if outcome.get("hint"):
                text += f" {outcome['hint']}"
            return text
        if "login" in outcome:
            if outcome.get("login_changed"):
                return f"The account's sign-in address moved to {outcome['login']}."
            fields = " and ".join(outcome.get("fields") or ["identity"])
            return (
                f"Record-only change: the SCIM record's {fields} changed; "
                f"the sign-in address stayed {outcome['login'] or '(none)'}."
            )
        return ""

    @property
    def change_list(self) -> list[tuple[str, str, str]]:
        """``changes`` as ``(path, old, new)`` texts for pages (``–`` for none)."""
        return [
            (path, _as_text(values[0]), _as_text(values[1]))
            for path, values in sorted((self.changes or {}).items())
            if isinstance(values, list) and len(values) == 2
        ]


def _as_text(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


class SCIMSetupLinkState(models.TextChoices):
    ACTIVE = "active", "active"
    SPENT = "spent", "token issued"
    EXPIRED = "expired", "expired"
    REVOKED = "revoked", "revoked"


class SCIMSetupLink(models.Model):
    """A link that opens one team's guided setup for someone without an account.

    Only the SHA-256 digest of the link's secret is stored (as for tokens). A
    link always expires, can be revoked, and issues at most one token
    (``token_issued_at``): see :mod:`scim_provisioning.setup_links`.
    """

    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="scim_setup_links")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    token_issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    token = models.ForeignKey(
        SCIMToken,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The token this link issued.",
    )

    class Meta:
        verbose_name = "SCIM setup link"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"setup link #{self.pk} ({self.state.label})"

    @property
    def state(self) -> SCIMSetupLinkState:
        """``revoked`` wins over ``expired``; a link that issued its token is ``spent``."""
        if self.revoked_at is not None:
            return SCIMSetupLinkState.REVOKED
        if self.expires_at <= timezone.now():
            return SCIMSetupLinkState.EXPIRED
        if self.token_issued_at is not None:
            return SCIMSetupLinkState.SPENT
        return SCIMSetupLinkState.ACTIVE

    @property
    def opens(self) -> bool:
        """Whether the link still opens the setup (until it expires or is revoked)."""
        return self.state in (SCIMSetupLinkState.ACTIVE, SCIMSetupLinkState.SPENT)


class SCIMSetupLinkAction(models.TextChoices):
    OPENED = "opened", "opened the setup"
    TOKEN_ISSUED = "token_issued", "issued a token"
    CONNECTION_CHECKED = "connection_checked", "checked the connection"
    REFUSED = "refused", "asked for a second token (refused)"


class SCIMSetupLinkUse(models.Model):
    """One use of a setup link, for the team's managers: who opened it, from where, what it did."""

    link = models.ForeignKey(SCIMSetupLink, on_delete=models.CASCADE, related_name="uses")
    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=32, choices=SCIMSetupLinkAction.choices)
    token_prefix = models.CharField(max_length=16, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SCIM setup link use"
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["team", "-created"], name="scim_setuplink_use_team")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.created:%Y-%m-%d %H:%M}"


class SCIMPersonName(models.Model):
    """A name a team's person had at some time: userName, email, name, externalId.

    "Why did Jane lose access?" is asked with whatever name support knows:
    the former address, her given name. A change keeps the names it gave on its
    own timeline entry (``SCIMUserEvent.names``: no statement of its own);
    pruning an entry moves them here (:func:`scim_provisioning.retention.prune_timeline`),
    one row per (team, person, name), never deleted with the record
    (``scim_user_id`` is no foreign key, as on :class:`SCIMUserEvent`). ``folded`` is the name
    case-folded, so that a substring search is case-insensitive on every
    backend (SQLite's ``LIKE`` folds ASCII only).
    """

    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="+")
    scim_user_id = models.UUIDField("SCIM user id")
    folded = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SCIM person name"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "scim_user_id", "folded"], name="scim_person_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.folded


class HeldChangeKind(models.TextChoices):
    DEACTIVATE = "deactivate", "deactivation"
    DELETE = "delete", "removal (DELETE)"


class HeldChangeOutcome(models.TextChoices):
    RELEASED = "released", "released (applied)"
    DISCARDED = "discarded", "discarded"
    CANCELLED = "cancelled", "cancelled by the IdP (reactivated)"
    REFUSED = "refused", "released, refused by the site"


class SCIMHeldChange(models.Model):
    """A deactivation or DELETE the deprovisioning guard held (:mod:`scim_provisioning.guard`).

    The IdP got its usual answer; the host membership stays until a manager
    releases or discards the change. ``scim_user_id`` is no foreign key: a held
    DELETE's record is gone (the IdP sees a 404), the membership is not.
    Resolved rows stay, with who decided and when.
    """

    team = models.ForeignKey(TEAM_MODEL, on_delete=models.CASCADE, related_name="scim_held_changes")
    kind = models.CharField(max_length=16, choices=HeldChangeKind.choices)
    scim_user_id = models.UUIDField("SCIM user id")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    user_name = models.CharField("userName", max_length=255)
    email = models.CharField(max_length=254, blank=True)
    held_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(
        max_length=16, choices=HeldChangeOutcome.choices, blank=True, default=""
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_by_name = models.CharField(
        max_length=150, blank=True, help_text="Who decided, as shown then (or the command)."
    )
    detail = models.CharField(max_length=500, blank=True, help_text="The site's refusal, if any.")

    class Meta:
        verbose_name = "SCIM held deprovisioning"
        ordering = ["held_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "scim_user_id"],
                condition=models.Q(resolved_at__isnull=True),
                name="scim_held_one_pending_per_user",
            )
        ]
        indexes = [models.Index(fields=["team", "resolved_at"], name="scim_held_team_pending")]

    def __str__(self) -> str:
        return f"held {self.get_kind_display()} of {self.user_name}"

    @property
    def pending(self) -> bool:
        return self.resolved_at is None
