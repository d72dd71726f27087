"""Row locks for orders. Lock order everywhere: Order, then its lines, then stock rows by pk."""

from django.shortcuts import get_object_or_404

from orders.models import Order


def lock_order(order_id: int) -> Order:
    return Order.objects.select_for_update().select_related("channel").get(pk=order_id)


def lock_order_by_number(number: str) -> Order:
    return get_object_or_404(
        Order.objects.select_for_update().select_related("channel"), number=number
    )
