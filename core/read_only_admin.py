"""Admin pages that show rows and never write them."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """No add, change or delete from the admin: the rows are written by services (actions,
    the console, the API), which lock, record events and keep counters true; a form that
    saved a row directly would do none of it."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
