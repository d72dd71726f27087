"""Every integration endpoint under /api/v1/ (docs/api.md)."""

from django.urls import include, path

urlpatterns = [
    path("", include("inventory.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("fulfilment.api.urls")),
    path("", include("returns.api.urls")),
    path("", include("alerts.api.urls")),
    path("", include("supply.api.urls")),
    path("", include("connectors.api.urls")),
]
