"""Return endpoints under /api/v1/ (docs/api.md, "Returns, refunds and exchanges")."""

from django.urls import path

from returns.api import views

urlpatterns = [
    path("returns/", views.ReturnListView.as_view(), name="returns"),
    path("returns/<str:return_number>/", views.ReturnDetailView.as_view(), name="return-detail"),
    path(
        "returns/<str:return_number>/receive/",
        views.ReturnReceiveView.as_view(),
        name="return-receive",
    ),
    path(
        "returns/<str:return_number>/refund/",
        views.ReturnRefundView.as_view(),
        name="return-refund",
    ),
    path(
        "returns/<str:return_number>/cancel/",
        views.ReturnCancelView.as_view(),
        name="return-cancel",
    ),
]
