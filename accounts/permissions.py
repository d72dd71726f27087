"""Which Django permissions each API route needs (DRF permission class of the whole API).

A view may say so itself (`required_permissions = {"GET": (...), "POST": (...)}`);
otherwise the table below, keyed by URL name, says it; otherwise the model of the view's
queryset gives the usual view/add/change/delete. tests/accounts/test_permission_matrix.py
fails for a route none of them covers.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

_METHOD_ACTION = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

# URL name -> {method: permissions}; "GET" also answers HEAD and OPTIONS.
API_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "products": {"GET": ("inventory.view_product",), "POST": ("inventory.add_product",)},
    "product-detail": {
        "GET": ("inventory.view_product",),
        "PATCH": ("inventory.change_product",),
    },
    "locations": {"GET": ("inventory.view_location",), "POST": ("inventory.add_location",)},
    "location-detail": {
        "GET": ("inventory.view_location",),
        "PATCH": ("inventory.change_location",),
    },
    "stock": {"GET": ("inventory.view_stocklevel",)},
    "stock-movements": {"POST": ("inventory.adjust_stocklevel",)},
    "stock-counts": {"POST": ("inventory.change_stocklevel",)},
    "availability": {"GET": ("inventory.view_stocklevel",)},
    "orders": {"GET": ("orders.view_order",), "POST": ("orders.add_order",)},
    "order-detail": {"GET": ("orders.view_order",)},
    "order-cancel": {"POST": ("orders.cancel_order",)},
    "order-line-cancel": {"POST": ("orders.cancel_order",)},
    "order-notes": {"POST": ("orders.change_order",)},
    "order-resource": {"POST": ("orders.change_order",)},
    "fulfilments": {"GET": ("fulfilment.view_fulfilment",)},
    "fulfilment-detail": {"GET": ("fulfilment.view_fulfilment",)},
    "fulfilment-accept": {"POST": ("fulfilment.change_fulfilment",)},
    "fulfilment-reject": {"POST": ("fulfilment.change_fulfilment",)},
    "fulfilment-ship": {"POST": ("fulfilment.change_fulfilment",)},
    "fulfilment-ready": {"POST": ("fulfilment.change_fulfilment",)},
    "fulfilment-collected": {"POST": ("fulfilment.change_fulfilment",)},
    # A quote reads stock and prices and holds nothing: what availability needs.
    "delivery-options": {"POST": ("inventory.view_stocklevel",)},
    "reservations": {"POST": ("orders.add_reservation",)},
    # Releasing a hold changes its status; the row stays (the order may name it later).
    "reservation-detail": {
        "GET": ("orders.view_reservation",),
        "DELETE": ("orders.change_reservation",),
    },
    "webhooks": {
        "GET": ("outbox.view_webhooksubscription",),
        "POST": ("outbox.add_webhooksubscription",),
    },
    "webhook-detail": {
        "GET": ("outbox.view_webhooksubscription",),
        "DELETE": ("outbox.delete_webhooksubscription",),
    },
}


def required_permissions(view, request) -> tuple[str, ...] | None:
    """Return the permissions `request` needs on `view`, or None when nothing says."""
    method = "GET" if request.method in SAFE_METHODS else request.method
    table = getattr(view, "required_permissions", None)
    if table is None:
        match = getattr(request, "resolver_match", None)
        table = API_PERMISSIONS.get(match.url_name) if match is not None else None
    if table is not None:
        # A method the route does not list needs what its most guarded method needs.
        return table.get(method) or tuple(p for perms in table.values() for p in perms)
    model = _queryset_model(view)
    if model is None:
        return None
    action = "view" if method == "GET" else _METHOD_ACTION.get(method, "change")
    return (f"{model._meta.app_label}.{action}_{model._meta.model_name}",)


def _queryset_model(view):
    queryset = getattr(view, "queryset", None)
    if queryset is None and hasattr(view, "get_queryset"):
        try:
            queryset = view.get_queryset()
        except Exception:  # a view that needs its URL kwargs to build one
            return None
    return getattr(queryset, "model", None)


class RolePermission(BasePermission):
    """Authenticated, and holding the Django permissions the route needs (a role's group)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = required_permissions(view, request)
        return not needed or user.has_perms(needed)
