"""The storefronts page of the console (/console/storefronts/)."""

from django.urls import path

from connectors.console import health

app_name = "connectors_console"
urlpatterns = [
    path("", health.storefronts, name="health"),
    path("<slug:channel>/push-stock/", health.push_stock, name="push-stock"),
]
