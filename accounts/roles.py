"""The roles: groups of Django permissions, given by rules that also cover future models.

Each role is a group (editable in the admin). Its rule is a list of patterns over
"app_label.codename" (fnmatch: `inventory.view_*`), so the permissions of a model added
later are matched too. `roles_sync` runs after every `migrate` (post_migrate) and by hand
(`manage.py roles_sync`): it creates the groups and the custom permissions below, and gives
each group every matching permission it was never given before (recorded as RoleGrant).
A permission an administrator removes from a group therefore stays removed;
`roles_sync --reset` makes every group exactly its rule again.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

STORE_STAFF = "store staff"
WAREHOUSE_STAFF = "warehouse staff"
CUSTOMER_SERVICE = "customer service"
INVENTORY_MANAGER = "inventory manager"
ADMINISTRATOR = "administrator"
INTEGRATION = "integration"

# The apps whose models make up the OMS. A new app joins the roles by being listed here.
OMS_APPS = (
    "core",
    "outbox",
    "inventory",
    "orders",
    "fulfilment",
    "returns",
    "alerts",
    "supply",
    "connectors",
)

# Permissions beyond view/add/change/delete: (app_label, model, codename, name).
CUSTOM_PERMISSIONS = [
    ("orders", "order", "cancel_order", "Can cancel orders and order lines"),
    ("inventory", "stocklevel", "adjust_stocklevel", "Can receive, adjust and transfer stock"),
]

_LOCATION_WORK = [
    "inventory.view_*",
    "inventory.change_stocklevel",
    "inventory.adjust_stocklevel",
    "orders.view_*",
    "fulfilment.view_*",
    "fulfilment.change_fulfilment",
    # Returns brought to or sent to the location: read them, receive them.
    "returns.view_*",
    "returns.change_return",
    "outbox.view_*",
    "alerts.view_*",
    "alerts.change_*",
    # Transfers in and out of their location, and the purchase orders delivered to it.
    "supply.view_*",
    "supply.add_transfer",
    "supply.change_*",
]


@dataclass(frozen=True)
class Role:
    name: str
    patterns: tuple[str, ...]
    # Patterns removed from what `patterns` matched.
    except_patterns: tuple[str, ...] = ()
    # Staff log in to the admin and the console; an integration only calls the API.
    staff: bool = True
    description: str = ""

    def matches(self, label: str) -> bool:
        return any(fnmatchcase(label, p) for p in self.patterns) and not any(
            fnmatchcase(label, p) for p in self.except_patterns
        )


ROLES = [
    Role(
        STORE_STAFF,
        # The endless aisle: an order for the customer in the store, from the console.
        (*_LOCATION_WORK, "orders.add_order"),
        description=(
            "Their store's stock, counts, pickups and fulfilments; orders for customers in the "
            "store."
        ),
    ),
    Role(
        WAREHOUSE_STAFF,
        tuple(_LOCATION_WORK),
        description="Their warehouse's stock, counts and fulfilments.",
    ),
    Role(
        CUSTOMER_SERVICE,
        (
            "orders.view_*",
            "orders.add_*",
            "orders.change_*",
            "orders.cancel_order",
            "inventory.view_*",
            "fulfilment.view_*",
            "returns.*",
            "outbox.view_*",
            "alerts.view_*",
            "alerts.change_*",
            # The storefront orders to fix: read them, replay them once fixed.
            "connectors.view_storefrontorder",
            "connectors.change_storefrontorder",
            # How the storefronts are doing: why an order or a shipment is late there.
            "connectors.view_connector",
        ),
        except_patterns=("orders.add_order", "returns.delete_*"),
        description="Every order; cancels and re-sources; reads stock, changes none.",
    ),
    Role(
        INVENTORY_MANAGER,
        (
            "inventory.*",
            "orders.view_*",
            "fulfilment.view_*",
            "returns.view_*",
            "outbox.view_*",
            "alerts.*",
            # The sourcing lab: replays of past orders under another policy.
            "lab.*",
            "supply.*",
            # The storefronts' stock: their health, and pushing every figure again.
            "connectors.view_connector",
            "connectors.change_connector",
        ),
        description="Catalogue, locations and stock everywhere; the sourcing lab.",
    ),
    Role(
        ADMINISTRATOR,
        tuple(f"{app}.*" for app in OMS_APPS)
        + ("lab.*", "auth.*", "accounts.*", "authtoken.*", "axes.*", "admin.view_logentry"),
        description="Everything, including people, roles and API tokens.",
    ),
    Role(
        INTEGRATION,
        tuple(f"{app}.{action}_*" for app in OMS_APPS for action in ("view", "add", "change"))
        + (
            "orders.cancel_order",
            "inventory.adjust_stocklevel",
            "returns.refund_return",
            # An integration unsubscribes its own webhooks (DELETE /api/v1/webhooks/{id}/).
            "outbox.delete_webhooksubscription",
        ),
        staff=False,
        description="API-only: e-commerce channels, ERPs and 3PLs (limited to their "
        "locations when they have memberships).",
    ),
]
ROLE_NAMES = [role.name for role in ROLES]
