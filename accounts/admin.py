"""People in the admin: their roles (groups), locations (memberships) and, for API users,
channels (channel scopes), on the User page and in a "Staff" list."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Prefetch

from accounts.models import ChannelScope, Membership, Staff
from core.read_only_admin import ReadOnlyAdminMixin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    fields = ["location", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["location"]
    verbose_name = "location"
    verbose_name_plural = "locations (a person with none is not limited by place)"


class ChannelScopeInline(admin.TabularInline):
    model = ChannelScope
    extra = 0
    fields = ["channel", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = "channel"
    verbose_name_plural = (
        "channels (API: a token with channels places and reads those channels' orders only; "
        "with none, it is not limited by channel)"
    )


class _RolesAndLocations:
    """List columns for roles and locations, read with two prefetches for the whole page."""

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                "groups",
                Prefetch("memberships", queryset=Membership.objects.select_related("location")),
                Prefetch("channel_scopes", queryset=ChannelScope.objects.select_related("channel")),
            )
        )

    @admin.display(description="roles")
    def roles(self, user) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all())) or "—"

    @admin.display(description="locations")
    def locations(self, user) -> str:
        codes = sorted(m.location.code for m in user.memberships.all())
        return ", ".join(codes) or "all"

    @admin.display(description="channels")
    def channels(self, user) -> str:
        codes = sorted(scope.channel.code for scope in user.channel_scopes.all())
        return ", ".join(codes) or "all"


admin.site.unregister(User)


@admin.register(User)
class OmsUserAdmin(_RolesAndLocations, UserAdmin):
    inlines = [MembershipInline, ChannelScopeInline]
    list_display = ["username", "email", "is_staff", "is_active", "roles", "locations", "channels"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "memberships__location"]


@admin.register(Staff)
class StaffAdmin(ReadOnlyAdminMixin, _RolesAndLocations, admin.ModelAdmin):
    """Everyone who works in the OMS, with roles and places at a glance; edit on the User page."""

    list_display = [
        "username",
        "full_name",
        "roles",
        "locations",
        "channels",
        "is_staff",
        "last_login",
    ]
    list_filter = ["groups", "memberships__location", "is_staff", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email", "=memberships__location__code"]
    ordering = ["username"]
    show_full_result_count = False
    fields = [
        "username",
        "full_name",
        "email",
        "roles",
        "locations",
        "channels",
        "is_staff",
        "last_login",
    ]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("auth.view_user")

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @admin.display(description="name")
    def full_name(self, user) -> str:
        return user.get_full_name()

    def get_search_results(self, request, queryset, search_term):
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        return queryset.distinct() if duplicates else queryset, False
