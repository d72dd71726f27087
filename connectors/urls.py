"""The storefronts' webhooks (docs/connectors.md, "Orders in")."""

from django.urls import path

from connectors import views

urlpatterns = [
    path("<str:channel>/webhook/", views.webhook, name="connector-webhook"),
]
