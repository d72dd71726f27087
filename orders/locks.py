"""Row locks for orders. Lock order everywhere: Order, then its lines, then stock rows by pk."""

from orders.models import Order


def lock_order(order_id: int) -> Order:
    """Lock the order's row and return it with its channel.

    `of=("self",)`: without it PostgreSQL locks the joined channel row too, and every
    new order of the channel (which reads that row FOR KEY SHARE through its foreign key)
    would wait for this transaction to end.
    """
    return Order.objects.select_for_update(of=("self",)).select_related("channel").get(pk=order_id)


def lock_orders(order_ids) -> dict[int, Order]:
    """Lock several orders' rows, ids ascending (as every writer of several orders does), and
    return them with their channel by id."""
    rows = (
        Order.objects.select_for_update(of=("self",))
        .select_related("channel")
        .filter(pk__in=sorted(set(order_ids)))
        .order_by("pk")
    )
    return {order.pk: order for order in rows}


def lock_order_ids(order_ids) -> None:
    """Lock several orders' rows, ids ascending, reading back only their ids: for writers of
    many orders' rows in SQL (a file of returns), which need the lock and not the objects."""
    list(
        Order.objects.select_for_update()
        .filter(pk__in=sorted(set(order_ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
