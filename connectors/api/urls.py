"""Connector endpoints under /api/v1/ (docs/connectors.md)."""

from django.urls import path

from connectors.api.views import ChannelConnectorView

urlpatterns = [
    path(
        "channels/<str:code>/connector/",
        ChannelConnectorView.as_view(),
        name="channel-connector",
    ),
]
