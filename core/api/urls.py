"""Every integration endpoint under /api/v1/ (docs/api.md)."""

from django.urls import include, path

urlpatterns = [
    # Orders first: order capture is the busiest endpoint, and each pattern before it is
    # tried for every order. No two of these files share a path.
    path("", include("orders.api.urls")),
    path("", include("inventory.api.urls")),
    path("", include("fulfilment.api.urls")),
    path("", include("returns.api.urls")),
    path("", include("alerts.api.urls")),
    path("", include("supply.api.urls")),
    path("", include("connectors.api.urls")),
]
