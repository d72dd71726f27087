"""What every console page shows around its own content."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from console.queues import queues_for


def console_context(request: HttpRequest, **extra) -> dict:
    """Return the admin's page context, the console's navigation, and `extra`."""
    return {
        **admin.site.each_context(request),
        "console_queues": queues_for(request.user),
        **extra,
    }
