"""The storefront pages of the console (/console/storefronts/): their health, and the
storefront orders to fix."""

from django.urls import path

from connectors.console import health, views

app_name = "connectors_console"
urlpatterns = [
    path("", health.storefronts, name="health"),
    path("<slug:channel>/push-stock/", health.push_stock, name="push-stock"),
    path("to-fix/", views.to_fix_list, name="to-fix"),
    path("to-fix/<int:pk>/", views.to_fix_detail, name="to-fix-detail"),
    path("to-fix/<int:pk>/replay/", views.to_fix_replay, name="to-fix-replay"),
]
