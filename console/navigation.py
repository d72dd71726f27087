"""The navigation each person sees on every staff page: their work, not the admin's models.

Store and warehouse staff and customer service get a short list of the pages their role
works on; inventory managers and administrators keep the admin's full model list as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from accounts.scoping import location_ids_for
from console.queues import queues_for

PRODUCT_NAME = "OMS"
# Who needs the admin's full list of models: people who change the catalogue or people.
FULL_ADMIN_PERMISSIONS = ("inventory.change_product", "auth.change_user")


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def full_admin(user: Any) -> bool:
    """Return whether `user` works in the admin's model list, not only in the console."""
    return user.is_superuser or any(user.has_perm(p) for p in FULL_ADMIN_PERMISSIONS)


def links_for(user: Any) -> list[Link]:
    """Return the console pages `user`'s role works on, in the order they are used."""
    links = [Link("Dashboard", reverse("oms_console:dashboard"))]
    if user.has_perm("fulfilment.view_fulfilment"):
        links.append(Link("Floor", reverse("oms_console:floor")))
    links += [
        Link(queue.title, reverse("oms_console:queue", args=[queue.slug]))
        for queue in queues_for(user)
    ]
    if user.has_perm("orders.view_order"):
        links.append(Link("Find a customer", reverse("orders_console:find")))
    if user.has_perm("orders.change_order"):
        links.append(Link("Delivery quote", reverse("orders_console:quote")))
    if user.has_perm("alerts.view_alert"):
        links.append(Link("Alerts", reverse("alerts_console:list")))
    # Storefront orders belong to no location yet: the network's people work them.
    if user.has_perm("connectors.view_storefrontorder") and location_ids_for(user) is None:
        links.append(Link("Storefront orders to fix", reverse("connectors_console:to-fix")))
    if user.has_perm("returns.view_return"):
        links.append(Link("Returns", reverse("oms_console:returns")))
    if user.has_perm("supply.view_transfer"):
        links.append(Link("Transfers and POs", reverse("supply_console:queues")))
    # Head office's page: stores' staff work their transfers, not the network's proposals.
    if user.has_perm("supply.add_replenishmentrun"):
        links.append(Link("Replenishment", reverse("supply_console:replenishment")))
    links.append(Link("Jobs", reverse("oms_console:jobs")))
    if user.has_perm("connectors.view_connector"):
        links.append(Link("Storefronts", reverse("connectors_console:health")))
    if user.has_perm("lab.view_replayrun"):
        links.append(Link("Sourcing lab", reverse("lab_console:runs")))
    if user.has_perm("inventory.view_stocklevel"):
        links.append(Link("Stock", reverse("admin:inventory_stocklevel_changelist")))
    if full_admin(user):
        links.append(Link("Admin", reverse("admin:index")))
    return links


def navigation(request: HttpRequest) -> dict:
    """Add the product's name, `oms_links` (built only if a page shows them) and
    `oms_full_admin` to every page's context."""
    user = getattr(request, "user", None)
    context: dict = {"oms_product_name": PRODUCT_NAME}
    if user is None or not user.is_authenticated or not user.is_staff:
        return context
    context["oms_links"] = SimpleLazyObject(lambda: links_for(user))
    context["oms_full_admin"] = SimpleLazyObject(lambda: full_admin(user))
    return context
