"""Supply's console pages, under /console/supply/ (staff only)."""

from django.urls import path

from supply.console import views, work

app_name = "supply_console"
urlpatterns = [
    path("", work.supply_queues, name="queues"),
    path(
        "transfers/<str:number>/receive/",
        work.transfer_receive_page,
        name="transfer-receive",
    ),
    path("transfers/<str:number>/<slug:action>/", work.transfer_act, name="transfer-act"),
    path(
        "purchase-orders/<str:number>/receive/",
        work.purchase_order_receive_page,
        name="purchase-order-receive",
    ),
    path("replenishment/", views.replenishment, name="replenishment"),
    path("replenishment/run/", views.replenishment_start, name="replenishment-run"),
    path(
        "replenishment/<int:pk>/<slug:action>/",
        views.proposal_act,
        name="proposal-act",
    ),
    path("alerts/<int:pk>/transfer/", views.alert_transfer, name="alert-transfer"),
]
