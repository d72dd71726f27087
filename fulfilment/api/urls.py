"""Webhook subscription endpoints under /api/v1/ (the fulfilment actions move orders too:
they are routed with the orders)."""

from django.urls import path

from fulfilment.api import webhook_views

urlpatterns = [
    path("webhooks/", webhook_views.WebhookListView.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.WebhookDetailView.as_view(), name="webhook-detail"),
]
