"""Supply's console pages, under /console/supply/ (staff only)."""

from django.urls import path

from supply.console import views

app_name = "supply_console"
urlpatterns = [
    path("replenishment/", views.replenishment, name="replenishment"),
    path("replenishment/run/", views.replenishment_start, name="replenishment-run"),
    path(
        "replenishment/<int:pk>/<slug:action>/",
        views.proposal_act,
        name="proposal-act",
    ),
    path("alerts/<int:pk>/transfer/", views.alert_transfer, name="alert-transfer"),
]
