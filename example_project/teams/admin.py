from django.contrib import admin

from .models import Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "is_active", "created")
    readonly_fields = ("created",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "seats_used", "max_seats", "created")
    fields = ("name", "slug", "max_seats", "seats_used", "created")
    readonly_fields = ("seats_used", "created")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("team", "user", "role", "is_active", "created")
    list_filter = ("role", "is_active", "team")
    search_fields = ("user__email", "team__name", "team__slug")
    autocomplete_fields = ("team", "user")
    list_select_related = ("team", "user")
