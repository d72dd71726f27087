"""The orders console for customer service and location staff (/console/orders/)."""

from django.urls import path

from orders.console import quote, views

app_name = "orders_console"
urlpatterns = [
    path("", views.order_find, name="find"),
    # Before "<number>/": "quote" is not an order number.
    path("quote/", quote.quote_page, name="quote"),
    path("<str:number>/", views.order_page, name="order"),
    path("<str:number>/cancel/", views.order_cancel_view, name="cancel"),
    path("<str:number>/lines/<int:line>/cancel/", views.order_line_cancel_view, name="line-cancel"),
    path("<str:number>/resource/", views.order_resource_view, name="resource"),
    path("<str:number>/notes/", views.order_note_view, name="note"),
    path(
        "<str:number>/fulfilments/<int:pk>/<slug:action>/",
        views.fulfilment_action_view,
        name="fulfilment",
    ),
]
