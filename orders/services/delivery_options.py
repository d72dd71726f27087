"""Delivery options for a basket and a destination, and the promise an order is placed with.

`delivery_quote` answers every method the network can serve now (docs/api.md "Delivery
options"), each with its date and its price, and says for every method why it was or was
not offered (the console's quote page shows that). One query: what the shipping locations
and the click & collect stores may sell of the basket (`inventory.selectors.quote_stock`);
the settings come from the per-process snapshot (`orders.delivery.config`). A basket the
shipping shelves cannot fill costs one more query: the purchase-order units no waiting
order was promised (`inventory.incoming.incoming_free`), shared out as capture would
promise them (`incoming_take`, a pre-order product no further than its cap allows: one
more query, `preorder_room`), which date the shipped methods later.

`order_promise` dates and prices the option an order is placed with, from the plan order
capture has just confirmed: no query at all.

Reads only, yet beside the services: a basket is sourced as allocation sources an order
(the same candidates and engine, `orders.services.allocation`), and capture takes its
promise from here. The calendars and prices it reads are `orders.delivery`, below both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings

import sourcing
from inventory.incoming import Shortfall, incoming_free, incoming_take, preorder_room
from inventory.models import Location, Product
from inventory.selectors import Candidates, Sellable, quote_stock
from orders.delivery.config import DeliveryConfig, Place, delivery_config
from orders.delivery.promise import (
    NoOpenDay,
    Point,
    Shipment,
    distance_km,
    fastest,
    shipped_promise,
    transfer_ready_on,
)
from orders.models import Channel, Order
from orders.places import place
from orders.services.allocation import Sourced, Want, sourcing_instance

M = Order.DeliveryMethod
SHIPPED_METHODS = (M.EXPRESS, M.STANDARD)
# How many stores lacking the basket the quote explains, nearest first.
PICKUP_MISSES_TOLD = 5


@dataclass(frozen=True)
class Destination:
    lat: float | None = None
    lon: float | None = None
    postcode: str = ""
    country: str = ""

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    def km(self, lat: float, lon: float) -> float:
        return distance_km(lat, lon, self.lat, self.lon)

    @property
    def point(self) -> Point:
        return Point.of(self.lat, self.lon)


@dataclass(frozen=True)
class Option:
    method: str
    location: str | None
    cost: Decimal
    currency: str
    promised_date: date
    shipments: int
    location_name: str = ""
    km: float | None = None


@dataclass(frozen=True)
class Verdict:
    """Why a method (at a location) was or was not offered."""

    method: str
    offered: bool
    why: str
    location: str | None = None


@dataclass
class Quote:
    options: list[Option] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    basket_value: Decimal = Decimal("0.00")
    plan: sourcing.Plan | None = None

    def offer(self, option: Option, why: str) -> None:
        self.options.append(option)
        self.verdicts.append(Verdict(option.method, True, why, option.location))

    def refuse(self, method: str, why: str, location: str | None = None) -> None:
        self.verdicts.append(Verdict(method, False, why, location))


def basket_value(lines: Sequence[tuple[Product, int]]) -> Decimal:
    """Return what the basket is worth at the catalogue's prices (for free-delivery
    thresholds)."""
    return sum(
        ((product.price or Decimal(0)) * quantity for product, quantity in lines), Decimal(0)
    )


def delivery_quote(
    *,
    channel: Channel,
    lines: Sequence[tuple[Product, int]],
    destination: Destination,
    at: datetime,
) -> Quote:
    """Return the delivery options the network can serve for `lines` to `destination`,
    quoted as at `at`, and why each method was or was not offered."""
    if not destination.located and destination.country and destination.postcode:
        # A postcode alone: placed from data read in this process (orders.places).
        found = place(country=destination.country, postcode=destination.postcode)
        if found is not None:
            destination = replace(destination, lat=found.lat, lon=found.lon)
    config = delivery_config()
    quote = Quote(basket_value=basket_value(lines))
    wants = [
        Want(i, product.pk, product.sku, quantity) for i, (product, quantity) in enumerate(lines)
    ]
    # A pre-order product is sold against incoming supply only, as capture sells it: its
    # shelf units are none of the quote's business, so only purchase orders can date it.
    preorders = {product.pk for product, _ in lines if product.preorder}
    caps = {product.pk: product.preorder_cap for product, _ in lines if product.preorder}
    stock = quote_stock(
        product_ids={want.product_id for want in wants if want.product_id not in preorders},
        channel=channel,
    )
    sellable = stock.shipping
    config = _config_covering(config, [site.pk for site in sellable.sites.values()])
    try:
        _same_day(quote, config, channel, wants, sellable, destination, at)
        _shipped(quote, config, channel, wants, sellable, destination, at, caps)
        _pickup(quote, config, channel, wants, stock.pickup, destination, at)
    except NoOpenDay as error:  # a calendar closed all year: say so rather than fail
        quote.refuse("any", f"A calendar has {error}.")
    return quote


def _config_covering(config: DeliveryConfig, location_ids) -> DeliveryConfig:
    missing = set(location_ids) - config.places.keys()
    return delivery_config(need=missing) if missing else config


def _whole(sellable: Sellable, wants: Sequence[Want], code: str) -> bool:
    return all(sellable.units.get(w.product_id, {}).get(code, 0) >= w.quantity for w in wants)


def _same_day(quote, config, channel, wants, sellable, destination, at) -> None:
    method = M.SAME_DAY
    price = config.price(channel.pk, method)
    if price is None:
        return quote.refuse(method, f"No same-day price is set for the {channel.code} channel.")
    if not destination.located:
        return quote.refuse(method, "The destination has no lat/lon to measure the distance.")
    radius = settings.OMS_SAME_DAY_RADIUS_KM
    near = sorted(
        (destination.km(site.lat, site.lon), site.code, site)
        for site in sellable.sites.values()
        if _whole(sellable, wants, site.code)
    )
    near = [(km, site) for km, _, site in near if km <= radius]
    if not near:
        return quote.refuse(
            method, f"No shipping location within {radius:g} km has the whole basket."
        )
    for km, site in near:
        place = config.places[site.pk]
        calendar = place.calendar
        if calendar.before_cutoff(at):
            quote.offer(
                Option(
                    method,
                    None,
                    price.for_basket(quote.basket_value),
                    price.currency,
                    calendar.local(at).date(),
                    1,
                    place.name,
                    km,
                ),
                f"{site.code} is {km:.1f} km away, has the whole basket, and it is before its "
                f"cutoff ({calendar.cutoff:%H:%M} {calendar.time_zone}).",
            )
            return None
    km, site = near[0]
    calendar = config.places[site.pk].calendar
    return quote.refuse(
        method,
        f"{site.code} ({km:.1f} km) has the whole basket, but it is closed or past its cutoff "
        f"({calendar.cutoff:%H:%M} {calendar.time_zone}) at that moment.",
    )


def _shipped(quote, config, channel, wants, sellable, destination, at, caps) -> None:
    priced = [(method, config.price(channel.pk, method)) for method in SHIPPED_METHODS]
    for method, price in priced:
        if price is None:
            quote.refuse(method, f"No {method} price is set for the {channel.code} channel.")
    priced = [(method, price) for method, price in priced if price is not None]
    if not priced:
        return
    if not destination.located:
        for method, _ in priced:
            quote.refuse(method, "The destination has no lat/lon to date a parcel.")
        return
    instance = sourcing_instance(
        wants,
        sellable,
        {"lat": destination.lat, "lon": destination.lon},
        Candidates(channel=channel),
    )
    plan = None
    lacking = list(wants)
    if instance.locations:
        # A quote needs the plan's locations only: no runner-up plans to explain, and a
        # budget of its own, far below the order's, so that no basket makes the page wait.
        plan = sourcing.plan(
            instance,
            strategy=settings.OMS_SOURCING_STRATEGY,
            budget_ms=settings.OMS_QUOTE_SOURCING_BUDGET_MS,
            explain_runner_ups=False,
        )
        quote.plan = plan
        by_line = {want.line: want for want in wants}
        lacking = [
            Want(u.line, by_line[u.line].product_id, u.sku, u.quantity) for u in plan.unallocated
        ]
    # What the shelves lack may come from purchase orders, as capture would promise it.
    incoming, capped = _incoming(channel, lacking, caps) if lacking else ([], [])
    if incoming is None:
        short = ", ".join(f"{want.quantity} × {want.sku}" for want in lacking)
        why = (
            f"The shipping network lacks {short}, and incoming supply cannot make it up."
            if plan is not None
            else "No shipping location has any of the basket, and incoming supply cannot "
            "make it up."
        )
        if capped:
            why += f" Pre-orders: {'; '.join(capped)}."
        for method, _ in priced:
            quote.refuse(method, why)
        return
    codes = list(plan.locations) if plan is not None else []
    shipments = []
    for code in codes:
        site = sellable.sites[code]
        shipments.append(
            Shipment(config.places[site.pk].calendar, destination.km(site.lat, site.lon))
        )
    supply = [(location_id, expected_on) for _, location_id, expected_on, _ in incoming]
    config = _config_covering(config, {location_id for location_id, _ in supply})
    incoming_codes = {config.places[location_id].code for location_id, _ in supply}
    for method, price in priced:
        services = config.services.get(method, ())
        if not services:
            quote.refuse(method, f"No active {method} carrier service with transit bands.")
            continue
        day, legs = None, []
        if shipments:
            promised = shipped_promise(shipments, services, at)
            if promised is None:
                quote.refuse(
                    method,
                    f"A parcel from {', '.join(codes)} is beyond every {method} "
                    "carrier service's last band.",
                )
                continue
            day, chosen = promised
            legs = [
                f"{code}: dispatched {shipment.calendar.dispatch_on(at):%a %d %b}, "
                f"{chosen[i][0].code} {shipment.km:.0f} km, delivered {chosen[i][1]:%a %d %b}"
                for i, (code, shipment) in enumerate(zip(codes, shipments, strict=True))
            ]
        if supply:
            later = incoming_promise_date(
                method=method, supply=supply, lat=destination.lat, lon=destination.lon
            )
            if later is None:
                quote.refuse(
                    method,
                    f"Incoming supply at {', '.join(sorted(incoming_codes))} cannot be "
                    f"dated for {method} delivery.",
                )
                continue
            day = later if day is None else max(day, later)
            legs += [
                f"{units} × {sku} incoming at {config.places[location_id].code} on "
                f"{expected_on:%a %d %b}"
                for sku, location_id, expected_on, units in incoming
            ]
        assert day is not None  # some shipment or some incoming supply dates the basket
        quote.offer(
            Option(
                method,
                None,
                price.for_basket(quote.basket_value),
                price.currency,
                day,
                len(set(codes) | incoming_codes),
            ),
            f"Cheapest plan: {len(codes)} shipment(s)"
            + (" and incoming supply" if supply else "")
            + f", dated by the slowest. {'; '.join(legs)}.",
        )


def _incoming(
    channel: Channel, lacking: Sequence[Want], caps: Mapping[int, int]
) -> tuple[list[tuple[str, int, date, int]] | None, list[str]]:
    """Return where and when open purchase orders bring what the shelves lack, as capture
    would promise it (earliest first, units no waiting order was promised, no pre-order
    product beyond its cap): (sku, location id, expected on, units) per take, None when they
    cannot bring it all; and then, for each pre-order product whose cap held units back,
    what the cap leaves."""
    # A basket has no order lines yet: its lines' positions stand in for their ids.
    shortfalls = [Shortfall(want.line, want.product_id, want.quantity) for want in lacking]
    product_ids = sorted({want.product_id for want in lacking})
    free = incoming_free(product_ids=product_ids, candidates=Candidates(channel=channel))
    room = preorder_room(caps={pk: caps[pk] for pk in product_ids if pk in caps})
    taken = incoming_take(shortfalls, free, room)
    if sum(units for _, _, units in taken) >= sum(s.units for s in shortfalls):
        skus = {want.line: want.sku for want in lacking}
        return [
            (skus[shortfall.order_line_id], line.location_id, line.expected_on, units)
            for shortfall, line, units in taken
        ], []
    wanted: dict[int, int] = defaultdict(int)
    for want in lacking:
        wanted[want.product_id] += want.quantity
    capped = sorted(
        {
            f"{want.sku} ({room[want.product_id]} unit(s) left under its pre-order limit)"
            for want in lacking
            if wanted[want.product_id] > room.get(want.product_id, wanted[want.product_id])
        }
    )
    return None, capped


def _pickup(quote, config, channel, wants, held, destination, at) -> None:
    method = M.CLICK_AND_COLLECT
    price = config.price(channel.pk, method)
    if price is None:
        return quote.refuse(
            method, f"No click & collect price is set for the {channel.code} channel."
        )
    stores = config.pickup_stores()
    if not stores:
        return quote.refuse(method, "No active store offers click & collect.")
    # {store code: units} per line; a store missing from a line's answer has none of it.
    lines = [(want, held.get(want.product_id, {})) for want in wants]
    offered, misses = 0, 0
    limit = settings.OMS_PICKUP_OPTIONS_MAX
    for km, store in _nearest(stores, destination):
        if offered == limit:
            break
        code = store.code
        where = f" ({km:.1f} km)" if km is not None else ""
        if not all(units.get(code, 0) >= want.quantity for want, units in lines):
            if misses < PICKUP_MISSES_TOLD:
                lacking = ", ".join(
                    f"{want.quantity - units.get(code, 0)} × {want.sku}"
                    for want, units in lines
                    if units.get(code, 0) < want.quantity
                )
                quote.refuse(method, f"{code}{where} lacks {lacking}.", code)
                misses += 1
            continue
        calendar = store.calendar
        ready = calendar.ready_on(at)
        timing = (
            f"before its cutoff ({calendar.cutoff:%H:%M} {calendar.time_zone}): ready the same day"
            if calendar.before_cutoff(at)
            else f"closed or past its cutoff ({calendar.cutoff:%H:%M}): ready the next open day"
        )
        quote.offer(
            Option(
                method,
                code,
                price.for_basket(quote.basket_value),
                price.currency,
                ready,
                1,
                store.name,
                km,
            ),
            f"{code}{where} has the whole basket; {timing}.",
        )
        offered += 1
    if not offered:
        quote.refuse(method, "No click & collect store serving this channel has the whole basket.")
    return None


def _nearest(stores: list[Place], destination: Destination):
    """Yield (km or None, store), nearest first; without coordinates, the destination's
    country first, then the longest shared postcode prefix."""
    if destination.located:
        here = destination.point
        ranked = sorted((here.km(s.point), s.code, s) for s in stores)
        for km, _, store in ranked:
            yield km, store
        return
    postcode, country = destination.postcode.replace(" ", "").upper(), destination.country.upper()

    def rank(store: Place):
        return (store.country != country, -_shared_prefix(store.postcode, postcode), store.code)

    for store in sorted(stores, key=rank):
        yield None, store


def _shared_prefix(a: str, b: str) -> int:
    a = a.replace(" ", "").upper()
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def order_promise(
    *,
    channel: Channel,
    method: str,
    sourced: Sourced | None,
    lat: float | None,
    lon: float | None,
    pickup: Location | None,
    value: Decimal,
    at: datetime,
) -> tuple[date | None, Decimal | None]:
    """Return the promised date and the customer's delivery price of an order placed now
    with `method`, from the plan capture confirmed. None where it cannot be told (no price
    set for the channel, no coordinates, nothing allocated ...)."""
    config = delivery_config()
    price = config.price(channel.pk, method)
    cost = price.for_basket(value) if price is not None else None
    if sourced is None or not sourced.plan.allocations:
        return None, cost
    sites = {sourced.sites[item.location] for item in sourced.plan.allocations}
    need = {site.pk for site in sites} | ({pickup.pk} if pickup is not None else set())
    config = _config_covering(config, need)
    try:
        return _order_date(config, method, sites, lat, lon, pickup, at), cost
    except NoOpenDay:
        return None, cost


def _order_date(config, method, sites, lat, lon, pickup, at) -> date | None:
    if method == M.CLICK_AND_COLLECT:
        store = config.places.get(pickup.pk) if pickup is not None else None
        if store is None:
            return None
        sources = [
            Shipment(config.places[s.pk].calendar, distance_km(s.lat, s.lon, store.lat, store.lon))
            for s in sorted(sites, key=lambda site: site.pk)
            if s.pk != store.pk
        ]
        return transfer_ready_on(store.calendar, sources, config.services.get(M.STANDARD, ()), at)
    if lat is None or lon is None:
        return None
    shipments = [
        Shipment(config.places[s.pk].calendar, distance_km(s.lat, s.lon, lat, lon))
        for s in sorted(sites, key=lambda site: site.pk)
    ]
    if method == M.SAME_DAY:
        if (
            len(shipments) == 1
            and shipments[0].km <= settings.OMS_SAME_DAY_RADIUS_KM
            and shipments[0].calendar.before_cutoff(at)
        ):
            return shipments[0].calendar.local(at).date()
        # The fastest we can still keep: a same-day courier's or an express service's.
        services = config.services.get(M.SAME_DAY, ()) + config.services.get(M.EXPRESS, ())
    else:
        services = config.services.get(method, ())
    promised = shipped_promise(shipments, services, at)
    return promised[0] if promised is not None else None


def incoming_promise_date(
    *,
    method: str,
    supply: Sequence[tuple[int, date]],
    lat: float | None,
    lon: float | None,
) -> date | None:
    """Return the day the latest of `supply` (location id, date expected there) reaches the
    customer: its location's processing from the first open day it is there, then the
    fastest service of `method`. None when one of them cannot be dated."""
    if not supply or lat is None or lon is None:
        return None
    config = _config_covering(delivery_config(), {location_id for location_id, _ in supply})
    services = config.services.get(method, ())
    if method == M.SAME_DAY:
        services = services + config.services.get(M.EXPRESS, ())
    latest = None
    try:
        for location_id, expected_on in supply:
            place = config.places.get(location_id)
            if place is None:
                return None
            calendar = place.calendar
            dispatched = calendar.days.add(
                calendar.days.first_open(expected_on), calendar.processing_days
            )
            best = fastest(services, dispatched, distance_km(place.lat, place.lon, lat, lon))
            if best is None:
                return None
            latest = best[1] if latest is None else max(latest, best[1])
    except NoOpenDay:
        return None
    return latest
