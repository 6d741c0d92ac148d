"""The admin of OAuth 2.0 clients: staff create, rotate and revoke a team's clients here.

The secret is shown once, in the response to the add form or the rotate action,
rendered straight into that response (never a message: messages may live in a cookie).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ..links import oauth_endpoint_url
from ..models import SCIMOAuthClient
from ..teams import SCIMNotEnabled, is_enabled
from .clients import create_client, revoke_client, rotate_secret, validate_redirect_uri

#: Where a just-made secret waits for ``response_add``, on the request (never on the admin).
_SECRET = "_scim_oauth_secret"


class OAuthClientForm(forms.ModelForm):
    """Team, name, redirect URIs one per line, access token lifetime."""

    redirect_uris = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One per line; matched exactly. Only for Okta's authorization code flow.",
    )

    class Meta:
        model = SCIMOAuthClient
        fields = ["team", "name", "redirect_uris", "access_token_seconds"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["redirect_uris"] = "\n".join(self.instance.redirect_uris or [])

    def clean(self) -> Any:
        cleaned = super().clean() or {}
        team = cleaned.get("team")
        if self.instance.pk is None and team is not None and not is_enabled(team):
            raise forms.ValidationError("SCIM is not enabled for this team: switch it on first.")
        return cleaned

    def clean_redirect_uris(self) -> list[str]:
        uris = self.cleaned_data.get("redirect_uris") or ""
        if isinstance(uris, list):
            return uris
        try:
            return [validate_redirect_uri(uri) for uri in uris.split()]
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


class SCIMOAuthClientAdmin(admin.ModelAdmin):
    """Clients of every team; a new one is made by :func:`~.clients.create_client`."""

    form = OAuthClientForm
    list_display = ("client_id", "team", "name", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("client_id", "name")
    readonly_fields = ("client_id", "created_at", "created_by", "revoked_at")
    actions = ["rotate_secret", "revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:  # a client's team, id and lifetime are fixed once made
            return (*self.readonly_fields, "team", "access_token_seconds")
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = create_client(
            obj.team,
            created_by=request.user,
            name=obj.name,
            redirect_uris=obj.redirect_uris or [],
            access_token_lifetime=timedelta(seconds=obj.access_token_seconds),
        )
        obj.pk = issued.client.pk
        obj.client_id = issued.client.client_id
        setattr(request, _SECRET, issued.secret)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        secret = getattr(request, _SECRET, None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._credentials(request, obj, secret)

    def _credentials(self, request: HttpRequest, client: Any, secret: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": f"Credentials of {client.client_id}",
            "client": client,
            "secret": secret,
            "token_url": oauth_endpoint_url("token", request),
            "authorize_url": oauth_endpoint_url("authorize", request),
            "opts": self.model._meta,
        }
        response = TemplateResponse(
            request, "scim_provisioning/admin/oauth_credentials.html", context
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Rotate the secret (the old one ends after the usual overlap)")
    def rotate_secret(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Rotate one client at a time.", messages.ERROR)
            return None
        client = queryset.get()
        try:
            secret = rotate_secret(client)
        except (SCIMNotEnabled, ValueError) as exc:
            self.message_user(request, str(exc) or "SCIM is not enabled.", messages.ERROR)
            return None
        return self._credentials(request, client, secret)

    @admin.action(description="Revoke (their access tokens are refused from the next request)")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        count = sum(revoke_client(client) for client in queryset)
        self.message_user(request, f"Revoked; {count} live access token(s) refused from now on.")
