"""JSON shapes of the team SCIM API. No serializer ever reads a token's digest."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..durations import parse_lifetime
from ..models import SCIMLinkRefusal, SCIMRequestLog, SCIMTeamDomain, SCIMToken, SCIMUserEvent
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
