"""Order and fulfilment endpoints under /api/v1/ (docs/api.md, "Orders" and "Fulfilment")."""

from django.urls import path

from orders.api import channels, delivery, fulfilments, views

urlpatterns = [
    path("channels/", channels.ChannelListView.as_view(), name="channels"),
    path("channels/<str:code>/", channels.ChannelDetailView.as_view(), name="channel-detail"),
    path(
        "channels/<str:code>/delivery-prices/<str:method>/",
        channels.DeliveryPriceView.as_view(),
        name="channel-delivery-price",
    ),
    path("carrier-services/", channels.CarrierServiceListView.as_view(), name="carrier-services"),
    path(
        "carrier-services/<str:code>/",
        channels.CarrierServiceDetailView.as_view(),
        name="carrier-service-detail",
    ),
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
    path("fulfilments/", fulfilments.FulfilmentListView.as_view(), name="fulfilments"),
    path(
        "fulfilments/<int:pk>/",
        fulfilments.FulfilmentDetailView.as_view(),
        name="fulfilment-detail",
    ),
    path(
        "fulfilments/<int:pk>/accept/",
        fulfilments.FulfilmentAcceptView.as_view(),
        name="fulfilment-accept",
    ),
    path(
        "fulfilments/<int:pk>/reject/",
        fulfilments.FulfilmentRejectView.as_view(),
        name="fulfilment-reject",
    ),
    path(
        "fulfilments/<int:pk>/ship/",
        fulfilments.FulfilmentShipView.as_view(),
        name="fulfilment-ship",
    ),
    path(
        "fulfilments/<int:pk>/ready/",
        fulfilments.FulfilmentReadyView.as_view(),
        name="fulfilment-ready",
    ),
    path(
        "fulfilments/<int:pk>/collected/",
        fulfilments.FulfilmentCollectedView.as_view(),
        name="fulfilment-collected",
    ),
]
