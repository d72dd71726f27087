from django.conf import settings
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
