"""JSON shapes of the team SCIM API. No serializer ever reads a token's digest."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..durations import parse_lifetime
from ..models import (
    SCIMHeldChange,
    SCIMLinkRefusal,
    SCIMOAuthClient,
    SCIMOAuthSecret,
    SCIMRequestLog,
    SCIMSetupLink,
    SCIMSetupLinkUse,
    SCIMTeamDomain,
    SCIMToken,
    SCIMUserEvent,
)
from ..tokens import MAX_ROTATION_OVERLAP_HOURS, SITE_DEFAULT


class TokenSerializer(serializers.ModelSerializer):
    """A token as its team's managers see it: the prefix, dates and state."""

    created_by = serializers.SerializerMethodField()
    state = serializers.CharField(read_only=True)

    class Meta:
        model = SCIMToken
        fields = ["prefix", "created_at", "created_by", "last_used_at", "expires_at", "state"]
        read_only_fields = fields

    def get_created_by(self, token: SCIMToken) -> str | None:
        user = token.created_by
        return user.get_username() if user is not None else None


class IssuedTokenSerializer(TokenSerializer):
    """A token just issued: the one response that carries its plaintext."""

    token = serializers.SerializerMethodField()

    class Meta(TokenSerializer.Meta):
        fields = ["token", *TokenSerializer.Meta.fields]
        read_only_fields = fields

    def get_token(self, token: SCIMToken) -> str:
        return self.context["plaintext"]


class RequestLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = SCIMRequestLog
        fields = ["created", "idp", "method", "path", "status", "resource_type"]
        read_only_fields = fields


class TimelineEntrySerializer(serializers.ModelSerializer):
    """One change SCIM made to a person: ``changes`` maps a path to ``[old, new]``, no secret."""

    action_display = serializers.CharField(source="get_action_display", read_only=True)
    summary = serializers.CharField(source="outcome_text", read_only=True)

    class Meta:
        model = SCIMUserEvent
        fields = [
            "created",
            "scim_user_id",
            "user_name",
            "action",
            "action_display",
            "changes",
            "group_id",
            "group_name",
            "role",
            "token_prefix",
            "request_id",
            "outcome",
            "summary",
        ]
        read_only_fields = fields


class PersonSerializer(serializers.Serializer):
    """A :class:`~scim_provisioning.people.Person`: current state and the account's login."""

    id = serializers.CharField()
    user_name = serializers.CharField()
    external_id = serializers.CharField()
    display_name = serializers.CharField()
    email = serializers.CharField()
    active = serializers.BooleanField()
    groups = serializers.ListField(child=serializers.CharField())
    roles = serializers.ListField(child=serializers.CharField())
    login = serializers.CharField()
    last_modified = serializers.DateTimeField()


class RefusedLinkSerializer(serializers.ModelSerializer):
    """An existing account the team's IdP asked to link and was refused: address and why."""

    reason_display = serializers.CharField(source="get_reason_display", read_only=True)

    class Meta:
        model = SCIMLinkRefusal
        fields = [
            "email",
            "reason",
            "reason_display",
            "detail",
            "attempts",
            "created",
            "last_attempt",
        ]
        read_only_fields = fields


class DomainSerializer(serializers.ModelSerializer):
    """A domain the team claims: the TXT record to publish and whether it is verified."""

    verified = serializers.BooleanField(source="is_verified", read_only=True)
    txt_name = serializers.CharField(read_only=True)
    verified_by = serializers.SerializerMethodField()

    class Meta:
        model = SCIMTeamDomain
        fields = [
            "domain",
            "verified",
            "txt_name",
            "txt_value",
            "verified_at",
            "verified_by",
            "last_checked_at",
            "last_check_message",
        ]
        read_only_fields = fields

    def get_verified_by(self, claim: SCIMTeamDomain) -> str | None:
        user = claim.verified_by
        return user.get_username() if user is not None else None


class AddDomainSerializer(serializers.Serializer):
    """``{"domain": "acme.com"}``."""

    domain = serializers.CharField(max_length=253)


class HealthSerializer(serializers.Serializer):
    """A :class:`~scim_provisioning.health.TeamHealth`: is the team's IdP still syncing?"""

    state = serializers.CharField()
    summary = serializers.CharField()
    problems = serializers.SerializerMethodField()
    last_request = serializers.DateTimeField(allow_null=True)
    last_success = serializers.DateTimeField(allow_null=True)
    last_write = serializers.DateTimeField(allow_null=True)
    requests_last_day = serializers.IntegerField()
    failed_last_day = serializers.IntegerField()
    error_rate = serializers.FloatField(allow_null=True)
    silent_days = serializers.IntegerField(allow_null=True)

    def get_problems(self, health: Any) -> list[dict[str, str]]:
        return [{"code": p.code.value, "message": p.message} for p in health.problems]


class OAuthSecretSerializer(serializers.ModelSerializer):
    """A client secret as managers see it: its first characters and dates, never more."""

    class Meta:
        model = SCIMOAuthSecret
        fields = ["prefix", "created_at", "expires_at", "revoked_at"]
        read_only_fields = fields


class OAuthClientSerializer(serializers.ModelSerializer):
    """An OAuth 2.0 client of the team (Entra ID's client credentials, Okta's code flow)."""

    active = serializers.BooleanField(source="is_active", read_only=True)
    secrets = OAuthSecretSerializer(many=True, read_only=True)

    class Meta:
        model = SCIMOAuthClient
        fields = [
            "client_id",
            "name",
            "redirect_uris",
            "access_token_seconds",
            "created_at",
            "revoked_at",
            "active",
            "secrets",
        ]
        read_only_fields = fields


class DaySerializer(serializers.Serializer):
    """One day of the health chart."""

    day = serializers.DateField()
    requests = serializers.IntegerField()
    failed = serializers.IntegerField()


class StatusSerializer(serializers.Serializer):
    """A :class:`~scim_provisioning.team_api.services.TeamSCIMStatus`."""

    enabled = serializers.BooleanField()
    message = serializers.CharField(allow_null=True)
    base_url = serializers.CharField()
    tokens = TokenSerializer(many=True)
    oauth_token_url = serializers.CharField()
    oauth_authorize_url = serializers.CharField()
    oauth_clients = OAuthClientSerializer(many=True)
    recent_requests = RequestLogSerializer(many=True)
    refused_links = RefusedLinkSerializer(many=True)
    domains = DomainSerializer(many=True)
    health = HealthSerializer()
    daily = DaySerializer(source="chart.bars", many=True, read_only=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if data["message"] is None:
            del data["message"]
        return data


class LifetimeField(serializers.CharField):
    """A token lifetime as text (``90d``, ``12h``, ``never``); absent or empty: the site default."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_blank=True, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        text = super().to_internal_value(data)
        if not text.strip():
            return None  # the site default (see IssueSerializer.lifetime)
        try:
            return parse_lifetime(text)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class IssueSerializer(serializers.Serializer):
    """``expires_in``: the new token's lifetime (``90d``, ``never``; default: the site's)."""

    expires_in = LifetimeField()

    def lifetime(self) -> Any:
        """The lifetime to pass as ``expires_in``: the site default when none was given."""
        raw = (self.initial_data or {}).get("expires_in")
        if raw is None or not str(raw).strip():
            return SITE_DEFAULT
        return self.validated_data.get("expires_in")


class RotateSerializer(IssueSerializer):
    """``overlap_hours``: how long the previous tokens stay valid (default: the setting)."""

    overlap_hours = serializers.FloatField(
        required=False, allow_null=True, min_value=0, max_value=MAX_ROTATION_OVERLAP_HOURS
    )


class CreateOAuthClientSerializer(serializers.Serializer):
    """``{"name", "redirect_uris": [...], "expires_in": "90d", "access_token_lifetime": "1h"}``.

    ``expires_in``: the secret's lifetime (absent: never); ``access_token_lifetime``:
    each access token's (absent: an hour, at most a day).
    """

    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    redirect_uris = serializers.ListField(
        child=serializers.CharField(max_length=2000), required=False, default=list, max_length=10
    )
    expires_in = LifetimeField()
    access_token_lifetime = LifetimeField()


class RotateOAuthSecretSerializer(serializers.Serializer):
    """``{"overlap_hours": 24, "expires_in": "90d"}`` for a client's new secret."""

    overlap_hours = serializers.FloatField(
        required=False, allow_null=True, min_value=0, max_value=MAX_ROTATION_OVERLAP_HOURS
    )
    expires_in = LifetimeField()


class SetupLinkLifetimeSerializer(serializers.Serializer):
    """``{"expires_in": "7d"}``: a setup link's lifetime (default ``SETUP_LINK_TTL``).

    Written like a token's lifetime, but a link always expires: ``never`` is refused.
    """

    expires_in = LifetimeField()

    def validate_expires_in(self, value: Any) -> Any:
        if isinstance(value, str):  # blank (DRF skips the field's parsing for ""): the default
            return None
        raw = (self.initial_data or {}).get("expires_in")
        if value is None and raw is not None and str(raw).strip():
            raise serializers.ValidationError("A setup link always expires: give a lifetime (7d).")
        return value


class SetupLinkSerializer(serializers.ModelSerializer):
    """A setup link as its team's managers see it: dates and state, never a secret."""

    created_by = serializers.SerializerMethodField()
    state = serializers.CharField(read_only=True)
    token_prefix = serializers.SerializerMethodField()

    class Meta:
        model = SCIMSetupLink
        fields = [
            "id",
            "created_at",
            "created_by",
            "expires_at",
            "revoked_at",
            "token_issued_at",
            "token_prefix",
            "state",
        ]
        read_only_fields = fields

    def get_created_by(self, link: SCIMSetupLink) -> str | None:
        user = link.created_by
        return user.get_username() if user is not None else None

    def get_token_prefix(self, link: SCIMSetupLink) -> str | None:
        return link.token.prefix if link.token is not None else None


class CreatedSetupLinkSerializer(SetupLinkSerializer):
    """A link just created: the one response that carries it (``url``, or ``path`` when the
    site's address is not configured)."""

    url = serializers.SerializerMethodField()
    path = serializers.SerializerMethodField()

    class Meta(SetupLinkSerializer.Meta):
        fields = ["url", "path", *SetupLinkSerializer.Meta.fields]
        read_only_fields = fields

    def get_url(self, link: SCIMSetupLink) -> str | None:
        return self.context["url"]

    def get_path(self, link: SCIMSetupLink) -> str:
        return self.context["path"]


class SetupLinkUseSerializer(serializers.ModelSerializer):
    """One use of a setup link: what it did, when, from which address and browser."""

    action_display = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = SCIMSetupLinkUse
        fields = [
            "link_id",
            "action",
            "action_display",
            "token_prefix",
            "client_ip",
            "user_agent",
            "created",
        ]
        read_only_fields = fields


class HeldChangeSerializer(serializers.ModelSerializer):
    """A deprovisioning the guard holds (or held) for the team, and who decided it."""

    class Meta:
        model = SCIMHeldChange
        fields = [
            "id",
            "kind",
            "scim_user_id",
            "user_name",
            "email",
            "held_at",
            "outcome",
            "resolved_at",
            "resolved_by_name",
            "detail",
        ]
        read_only_fields = fields


class HeldDecisionSerializer(serializers.Serializer):
    """``{"ids": [1, 2]}``: the held changes to decide; none given: every pending one."""

    ids = serializers.ListField(
        # The id column's range: a larger number is a 400 here, not a database error.
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        max_length=10_000,
    )
