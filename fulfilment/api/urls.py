"""Fulfilment endpoints under /api/v1/ (docs/api.md "Fulfilment")."""

from django.urls import path

from fulfilment.api import views, webhook_views

urlpatterns = [
    path("fulfilments/", views.FulfilmentListView.as_view(), name="fulfilments"),
    path("fulfilments/<int:pk>/", views.FulfilmentDetailView.as_view(), name="fulfilment-detail"),
    path(
        "fulfilments/<int:pk>/accept/",
        views.FulfilmentAcceptView.as_view(),
        name="fulfilment-accept",
    ),
    path(
        "fulfilments/<int:pk>/reject/",
        views.FulfilmentRejectView.as_view(),
        name="fulfilment-reject",
    ),
    path("fulfilments/<int:pk>/ship/", views.FulfilmentShipView.as_view(), name="fulfilment-ship"),
    path(
        "fulfilments/<int:pk>/ready/", views.FulfilmentReadyView.as_view(), name="fulfilment-ready"
    ),
    path(
        "fulfilments/<int:pk>/collected/",
        views.FulfilmentCollectedView.as_view(),
        name="fulfilment-collected",
    ),
    path("webhooks/", webhook_views.WebhookListView.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", webhook_views.WebhookDetailView.as_view(), name="webhook-detail"),
]
