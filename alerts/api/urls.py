"""Alerts endpoints under /api/v1/ (docs/api.md "Alerts")."""

from django.urls import path

from alerts.api import views

urlpatterns = [
    path("alert-rules/low-stock/", views.LowStockRuleView.as_view(), name="alert-rules-low-stock"),
    path("alerts/", views.AlertListView.as_view(), name="alerts"),
    path(
        "alerts/<int:pk>/acknowledge/",
        views.AlertAcknowledgeView.as_view(),
        name="alert-acknowledge",
    ),
    path("alerts/<int:pk>/snooze/", views.AlertSnoozeView.as_view(), name="alert-snooze"),
    path("alerts/<int:pk>/resolve/", views.AlertResolveView.as_view(), name="alert-resolve"),
]
