from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from core import views
from operations import views as operations_views

urlpatterns = [
    # First: Django tries the patterns in order, and the API (order capture above all) is the
    # busiest prefix; no other pattern here matches a path under it.
    path("api/v1/", include("core.api.urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", operations_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    # Before "console/": the orders console has its own namespace, "orders_console".
    path("console/orders/", include("orders.console.urls")),
    path("console/alerts/", include("alerts.console.urls")),
    path("console/lab/", include("lab.console.urls")),
    path("console/supply/", include("supply.console.urls")),
    path("console/storefronts/", include("connectors.console.urls")),
    path("console/", include("inventory.console.urls")),
    path("console/", include("console.urls")),
    # The customer's returns live beside the tracking page, under its signed link.
    path("track/", include("returns.customer.urls")),
    path("track/", include("orders.tracking.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # Storefronts' order webhooks: signed by the storefront, no token.
    path("connectors/", include("connectors.urls")),
]

# Every error under /api/ is JSON, also those raised before a view runs.
handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
