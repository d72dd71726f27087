"""The console's home: one dashboard whose sections follow the person's role and places."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.scoping import location_ids_for
from console.queues import queues_for
from console.selectors import fulfilment as fulfilment_figures
from console.selectors import health, stock
from console.selectors import orders as order_figures
from console.selectors.orders import COUNT_CAP
from console.selectors.returns import return_figures
from console.views.context import console_context
from core.paginators import capped_count
from core.replica import reads_from_replica, replica_state
from fulfilment.models import Fulfilment
from inventory.models import Location


@require_GET
@staff_member_required
@reads_from_replica
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show what the person should look at now: their queues first, then the figures."""
    user = request.user
    scope = location_ids_for(user)
    now = timezone.now()
    sees_orders = user.has_perm("orders.view_order")
    sees_fulfilments = user.has_perm("fulfilment.view_fulfilment")
    sees_stock = user.has_perm("inventory.view_stocklevel")
    queues = [
        {"queue": queue, "count": capped_count(queue.rows(user), COUNT_CAP)}
        for queue in queues_for(user)
    ]
    context = console_context(
        request,
        title="Dashboard",
        now=now,
        queues=queues,
        cap=COUNT_CAP,
        limited=scope is not None,
        places=(
            list(Location.objects.filter(pk__in=scope).values_list("code", "name"))
            if scope is not None
            else []
        ),
    )
    if scope is not None and sees_fulfilments:
        context["to_accept"] = fulfilment_figures.waiting(
            scope=scope, status=Fulfilment.Status.REQUESTED
        )
        context["pickups"] = fulfilment_figures.waiting(
            scope=scope, status=Fulfilment.Status.READY_FOR_PICKUP
        )
    if scope is not None and sees_stock:
        context["low_stock"] = stock.low_stock(scope=scope)
        context["low_stock_units"] = stock.LOW_STOCK_UNITS
    if sees_orders:
        context["today"] = order_figures.orders_today(scope=scope, now=now)
        context["at_risk"] = order_figures.orders_at_risk(scope=scope, now=now)
        context["costs"] = order_figures.logistics_costs(scope=scope, now=now)
    if sees_fulfilments:
        context["lead"] = fulfilment_figures.lead_times(scope=scope, now=now)
    if sees_stock:
        context["stock"] = stock.stock_by_location(scope=scope)
    if scope is None and user.has_perm("returns.view_return"):
        # Network figures: rates by channel and product mean little for one store.
        context["returns"] = return_figures(now=now)
    if user.has_perm("alerts.view_alert"):
        context["alerts"] = health.open_alerts(user=user, now=now)
    if scope is None and user.has_perm("outbox.view_delivery"):
        context["outbox"] = health.outbox_health()
        context["replica"] = replica_state()
    return render(request, "console/dashboard.html", context)
