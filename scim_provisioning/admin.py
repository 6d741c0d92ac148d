"""Django admin for the staff: the SCIM switch, verified domains, tokens (never their secret)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import SCIMTeamConfig, SCIMToken, SCIMUser


@admin.register(SCIMTeamConfig)
class SCIMTeamConfigAdmin(admin.ModelAdmin):
    list_display = ("team", "enabled", "verified_domains", "updated")
    list_filter = ("enabled",)
    raw_id_fields = ("team",)


@admin.register(SCIMToken)
class SCIMTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with ``manage.py scim_token``; here they are only seen and revoked."""

    list_display = (
        "prefix",
        "team",
        "state",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    readonly_fields = ("team", "prefix", "created_at", "created_by", "last_used_at")
    fields = (
        "team",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(SCIMUser)
class SCIMUserAdmin(admin.ModelAdmin):
    list_display = ("user_name", "team", "email", "active", "external_id", "last_modified")
    list_filter = ("active",)
    search_fields = ("user_name", "email", "external_id")
    raw_id_fields = ("team", "user", "manager")
    readonly_fields = ("id", "created", "last_modified", "version", "created_account")
