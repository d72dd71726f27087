from django.conf import settings
from django.contrib.auth.models import User
from django.db import models


class Membership(models.Model):
    """A user works for a location: store and warehouse staff, and a 3PL's API user.

    A user with memberships sees and acts on those locations only; a user with none is not
    tied to a place (customer service, managers), and what they may do is their groups'
    permissions.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.CASCADE, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "location"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["location", "user"], name="membership_location_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.location_id}"


class ChannelScope(models.Model):
    """A user may work for a sales channel only: a storefront's or marketplace's API token.

    A user with channel scopes places, reads and cancels the orders of those channels only
    (and quotes and holds stock for them); see accounts.scoping. It narrows the API: the
    console and the admin go by location memberships.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_scopes"
    )
    channel = models.ForeignKey(
        "orders.Channel", on_delete=models.CASCADE, related_name="user_scopes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="channel_scope_unique"),
        ]
        verbose_name = "channel scope"

    def __str__(self) -> str:
        return f"{self.user} for {self.channel_id}"


class RoleGrant(models.Model):
    """A permission that `roles_sync` once gave to a role's group.

    The sync gives a role the permissions its rule matches only once: what an
    administrator later removes from the group in the admin stays removed.
    """

    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="+")
    permission = models.ForeignKey("auth.Permission", on_delete=models.CASCADE, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "permission"], name="role_grant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.permission_id} to {self.group_id}"


class Staff(User):
    """People and API users with their roles and locations: the admin's "Staff" list."""

    class Meta:
        proxy = True
        verbose_name = "staff member"
        verbose_name_plural = "staff"
