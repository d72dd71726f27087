"""Supply endpoints under /api/v1/ (docs/api.md "Transfers between locations", "Inbound
supply: purchase orders")."""

from django.urls import path

from supply.api import views

urlpatterns = [
    path("transfers/", views.TransferListView.as_view(), name="transfers"),
    path(
        "transfers/<str:transfer_number>/",
        views.TransferDetailView.as_view(),
        name="transfer-detail",
    ),
    path(
        "transfers/<str:transfer_number>/ship/",
        views.TransferShipView.as_view(),
        name="transfer-ship",
    ),
    path(
        "transfers/<str:transfer_number>/receive/",
        views.TransferReceiveView.as_view(),
        name="transfer-receive",
    ),
    path(
        "transfers/<str:transfer_number>/cancel/",
        views.TransferCancelView.as_view(),
        name="transfer-cancel",
    ),
    path("purchase-orders/", views.PurchaseOrderListView.as_view(), name="purchase-orders"),
    # Before the detail route, which would take "import" for a number.
    path(
        "purchase-orders/import/",
        views.PurchaseOrderImportView.as_view(),
        name="purchase-orders-import",
    ),
    path(
        "purchase-orders/<str:po_number>/",
        views.PurchaseOrderDetailView.as_view(),
        name="purchase-order-detail",
    ),
    path(
        "purchase-orders/<str:po_number>/receive/",
        views.PurchaseOrderReceiveView.as_view(),
        name="purchase-order-receive",
    ),
    path(
        "purchase-orders/<str:po_number>/cancel/",
        views.PurchaseOrderCancelView.as_view(),
        name="purchase-order-cancel",
    ),
]
