"""What the shop floor reads: a location's requests with their lines and bins, pick lists
in bin order, orders waiting at the counter, and the stock of nearby stores."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, QuerySet

from accounts.scoping import location_ids_for
from fulfilment.models import Fulfilment
from inventory.models import Allocation, Location, Product, StockLevel
from inventory.selectors import stock_rows
from orders.delivery.promise import distance_km
from orders.models import Order
from orders.selectors import requests_asked
from orders.services.pickup import pickup_code_normal

FS = Fulfilment.Status
# The floor's three steps, in the order a request goes through them.
STEPS = (
    ("to-accept", "To accept", FS.REQUESTED),
    ("to-pick", "To pick and pack", FS.ACCEPTED),
    ("ready", "Ready for pickup", FS.READY_FOR_PICKUP),
)
PER_STEP = 50


@dataclass
class PickLine:
    sku: str
    name: str
    quantity: int
    bin: str
    order_line: int
    order: str = ""
    tote: str = ""


@dataclass
class Request:
    """A fulfilment request as the floor reads it: its order and the lines to pick."""

    fulfilment: Fulfilment
    lines: list[PickLine] = field(default_factory=list)
    tote: str = ""

    @property
    def order(self) -> Order:
        return self.fulfilment.order

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


def floor_locations(user: AbstractBaseUser) -> QuerySet[Location]:
    """Return the active locations whose floor this person works: theirs, or every one."""
    locations = Location.objects.filter(active=True).order_by("code")
    scope = location_ids_for(user)
    return locations if scope is None else locations.filter(pk__in=scope)


def requests_at(
    *, location: Location, status: str, ids: Iterable[int] | None = None, limit: int = PER_STEP
) -> list[Request]:
    """Return the location's requests in `status` (oldest first), each with its open
    lines: SKU, name, units and the bin they sit in."""
    fulfilments = (
        requests_asked(Fulfilment.objects.filter(location=location, status=status))
        .select_related("order", "order__pickup_location", "location")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=Allocation.objects.filter(status=Allocation.Status.OPEN)
                .select_related("stock__product", "order_line")
                .order_by("stock__bin", "order_line__line_no", "id"),
                to_attr="held",
            )
        )
        .order_by("created_at", "id")
    )
    if ids is not None:
        fulfilments = fulfilments.filter(pk__in=list(ids))
    answer = []
    for fulfilment in fulfilments[:limit]:
        request = Request(fulfilment)
        merged: dict[int, PickLine] = {}
        for allocation in fulfilment.held:
            stock = allocation.stock
            line = merged.get(allocation.order_line_id)
            if line is None:
                line = merged[allocation.order_line_id] = PickLine(
                    sku=stock.product.sku,
                    name=stock.product.name,
                    quantity=0,
                    bin=stock.bin,
                    order_line=allocation.order_line_id,
                    order=fulfilment.order.number,
                )
            line.quantity += allocation.quantity
        request.lines = list(merged.values())
        answer.append(request)
    return answer


def pick_list(requests: list[Request]) -> list[PickLine]:
    """Return every line of these requests as one walk through the location: sorted by
    bin (lines without a bin last), each line labelled with its order's tote letter."""
    lines = []
    for index, request in enumerate(requests):
        tote = request.tote = tote_label(index)
        for line in request.lines:
            line.tote = tote
            lines.append(line)
    return sorted(lines, key=lambda line: (line.bin == "", line.bin, line.sku, line.tote))


def tote_label(index: int) -> str:
    """Return A, B ... Z, AA, AB ...: the tote each order of a batch is picked into."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(65 + rest) + label
    return label


def orders_at_counter(*, code: str, location_ids: Iterable[int]) -> list[Order]:
    """Return the orders ready for pickup at these stores whose code is `code`."""
    typed = pickup_code_normal(code)
    if not typed:
        return []
    return list(
        Order.objects.filter(
            status=Order.Status.READY_FOR_PICKUP,
            pickup_code=typed,
            pickup_location_id__in=list(location_ids),
        ).select_related("pickup_location")[:10]
    )


@dataclass(frozen=True)
class Nearby:
    location: Location
    km: float
    available: int
    on_hand: int


def stock_nearby(*, product: Product, origin: Location, limit: int = 20) -> list[Nearby]:
    """Return the active stores that have `product` to sell, nearest to `origin` first
    (availability by the one rule, inventory.availability)."""
    rows = (
        stock_rows()
        .filter(product=product, location__active=True, location__kind=Location.Kind.STORE)
        .exclude(location=origin)
    )
    found = []
    for row in rows:
        available = row.available
        if available <= 0:
            continue
        place = row.location
        km = distance_km(origin.lat, origin.lon, place.lat, place.lon)
        found.append(Nearby(location=place, km=km, available=available, on_hand=row.on_hand))
    found.sort(key=lambda near: (near.km, near.location.code))
    return found[:limit]


def stock_here(*, product: Product, location: Location) -> StockLevel | None:
    return stock_rows().filter(product=product, location=location).first()
