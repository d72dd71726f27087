"""Order endpoints under /api/v1/ (docs/api.md "Orders")."""

from django.urls import path

from orders.api import delivery, views

urlpatterns = [
    path("orders/", views.OrderListView.as_view(), name="orders"),
    path("orders/<str:number>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path(
        "orders/<str:number>/lines/<int:line>/cancel/",
        views.OrderLineCancelView.as_view(),
        name="order-line-cancel",
    ),
    path("orders/<str:number>/notes/", views.OrderNoteView.as_view(), name="order-notes"),
    path("orders/<str:number>/resource/", views.OrderResourceView.as_view(), name="order-resource"),
    path("delivery-options/", delivery.DeliveryOptionsView.as_view(), name="delivery-options"),
    path("reservations/", delivery.ReservationListView.as_view(), name="reservations"),
    path(
        "reservations/<str:reservation_id>/",
        delivery.ReservationDetailView.as_view(),
        name="reservation-detail",
    ),
]
