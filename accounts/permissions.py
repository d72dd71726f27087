"""Which Django permissions and which callers each API route admits (DRF permission class
of the whole API).

Permissions: a view may say so itself (`required_permissions = {"GET": (...), "POST":
(...)}`); otherwise the table below, keyed by URL name, says it; otherwise the model of the
view's queryset gives the usual view/add/change/delete. tests/accounts/test_permission_matrix.py
fails for a route none of them covers.

Scope rules: which kinds of caller (accounts.scoping) may reach the route at all, per
method (`Reach`); a view may say so itself (`scope_rules = {"GET": Reach.SCOPED}`),
otherwise `API_SCOPES` does. A route and method with no rule refuses every scoped caller
(403), and tests/accounts/test_scope_matrix.py fails for it: deny by default.
"""

from __future__ import annotations

from enum import StrEnum

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.scoping import Scope, scope_for

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
    "channels": {"GET": ("orders.view_channel",), "POST": ("orders.add_channel",)},
    "channel-detail": {"GET": ("orders.view_channel",), "PATCH": ("orders.change_channel",)},
    # Setting a price creates the row or changes it.
    "channel-delivery-price": {
        "PUT": ("orders.add_deliveryprice", "orders.change_deliveryprice"),
    },
    "carrier-services": {"GET": ("orders.view_carrierservice",)},
    "carrier-service-detail": {
        "PUT": ("orders.add_carrierservice", "orders.change_carrierservice"),
    },
    "channel-connector": {
        "GET": ("connectors.view_connector",),
        "PUT": ("connectors.add_connector", "connectors.change_connector"),
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


class Reach(StrEnum):
    """Which callers a route admits, beyond its permissions."""

    # Every caller; the view narrows objects and lists to its scope (accounts.scoping).
    SCOPED = "scoped"
    # Work at a location (stock movements, counts, subscriptions, thresholds): a caller not
    # scoped, or scoped by location; the view checks the location is one of its own.
    LOCATION = "location"
    # Work for a channel (orders, quotes, reservations): a caller not scoped, or scoped by
    # channel; the view checks the channel is one of its own.
    CHANNEL = "channel"
    # A network-wide change (catalogue, locations): callers with no scope only.
    NETWORK = "network"


_S, _L, _C, _N = Reach.SCOPED, Reach.LOCATION, Reach.CHANNEL, Reach.NETWORK

# URL name -> {method: reach}; "GET" also answers HEAD and OPTIONS.
API_SCOPES: dict[str, dict[str, Reach]] = {
    "products": {"GET": _S, "POST": _N},
    "product-detail": {"GET": _S, "PATCH": _N},
    "locations": {"GET": _S, "POST": _N},
    "location-detail": {"GET": _S, "PATCH": _N},
    "stock": {"GET": _S},
    "stock-movements": {"POST": _L},
    "stock-counts": {"POST": _L},
    "availability": {"GET": _S},
    "orders": {"GET": _S, "POST": _C},
    "order-detail": {"GET": _S},
    "order-cancel": {"POST": _S},
    "order-line-cancel": {"POST": _S},
    "order-notes": {"POST": _S},
    "order-resource": {"POST": _S},
    "fulfilments": {"GET": _S},
    "fulfilment-detail": {"GET": _S},
    "fulfilment-accept": {"POST": _S},
    "fulfilment-reject": {"POST": _S},
    "fulfilment-ship": {"POST": _S},
    "fulfilment-ready": {"POST": _S},
    "fulfilment-collected": {"POST": _S},
    "delivery-options": {"POST": _C},
    "reservations": {"POST": _C},
    "reservation-detail": {"GET": _S, "DELETE": _S},
    # A subscription without a location is network-wide: the view refuses it to a scoped
    # caller (400 on `location`).
    "webhooks": {"GET": _S, "POST": _L},
    "webhook-detail": {"GET": _S, "DELETE": _S},
    "alert-rules-low-stock": {"GET": _S, "POST": _L},
    # Configuration as code: channels, prices, carriers and connectors are the network's.
    "channels": {"GET": _S, "POST": _N},
    "channel-detail": {"GET": _S, "PATCH": _N},
    "channel-delivery-price": {"PUT": _N},
    "carrier-services": {"GET": _S},
    "carrier-service-detail": {"PUT": _N},
    "channel-connector": {"GET": _N, "PUT": _N},
    "alerts": {"GET": _S},
    "alert-acknowledge": {"POST": _S},
    "alert-snooze": {"POST": _S},
    "alert-resolve": {"POST": _S},
}

_REFUSALS = {
    Reach.LOCATION: "This is work at a location: a token scoped to channels cannot do it.",
    Reach.CHANNEL: "This is work for a sales channel: a token scoped to locations cannot do it.",
    Reach.NETWORK: "A network-wide change needs a token without location or channel scope.",
}


def scope_rule(view, request) -> Reach | None:
    """Return the scope rule of `request` on `view`, or None when the route has none."""
    method = "GET" if request.method in SAFE_METHODS else request.method
    table = getattr(view, "scope_rules", None)
    if table is None:
        match = getattr(request, "resolver_match", None)
        table = API_SCOPES.get(match.url_name) if match is not None else None
    return table.get(method) if table is not None else None


def scope_admits(rule: Reach | None, scope: Scope) -> bool:
    """Return whether a caller of `scope` may reach a route of `rule` (None: no rule)."""
    if scope.unscoped:
        return True
    if rule is Reach.SCOPED:
        return True
    if rule is Reach.LOCATION:
        return scope.locations is not None
    if rule is Reach.CHANNEL:
        return scope.channels is not None
    return False  # NETWORK, or a route nobody gave a rule: denied by default


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
    """Authenticated, holding the Django permissions the route needs (a role's group), and
    of a scope the route's scope rule admits."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = required_permissions(view, request)
        if needed and not user.has_perms(needed):
            return False
        rule = scope_rule(view, request)
        if scope_admits(rule, scope_for(user)):
            return True
        # DRF instantiates permissions per request: the message is this request's.
        self.message = _REFUSALS.get(rule, "This route admits no scoped token.")  # type: ignore[arg-type]
        return False
