"""Every API route and method against every kind of caller, generated from the URL conf.

Callers: a token with no scope, a token scoped to one location (a 3PL), a token scoped to
one channel (a storefront), and a person of each role (store and warehouse staff tied to
one location). Objects: one of each kind at the callers' own location and channel, one at
another. What each caller may reach is written below as the contract says it (docs/api.md,
"Scoped tokens"), not read from the code: a route missing from `REACH` fails the test, and
so does a route the code gives no scope rule (deny by default).

Expected: without the route's permission, 403; a scope the route does not admit, 403;
an object outside the caller's scope, 404, as if it did not exist; otherwise GET answers
200 (400: a required query parameter) and a write gets past every gate (an empty body is a
400, a state that forbids it a 409). Every request runs in a savepoint rolled back after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.models import ChannelScope, Membership
from accounts.permissions import RolePermission, required_permissions, scope_rule
from accounts.roles import INTEGRATION, ROLE_NAMES
from connectors.models import Connector, StorefrontOrder
from orders.models import Channel, Order, Reservation
from tests.accounts.helpers import (
    ROLE_PLACES,
    Site,
    api_routes,
    network,
    role_user,
    rolled_back,
    token_client,
)

METHODS = ("get", "post", "put", "patch", "delete")
NO_SCOPE, AT_LOCATION, FOR_CHANNEL = "no scope", "location", "channel"

# What a route does, per method, as the contract puts it:
#   read     - any caller; objects outside its scope are 404, lists show its own only
#   network  - a network-wide change: a token without scope only (scoped: 403)
#   location - work at a location: not for a token scoped to channels (403)
#   channel  - work for a channel: not for a token scoped to locations (403)
REACH: dict[str, dict[str, str]] = {
    "products": {"get": "read", "post": "network"},
    "product-detail": {"get": "read", "patch": "network"},
    "locations": {"get": "read", "post": "network"},
    "location-detail": {"get": "read", "patch": "network"},
    "stock": {"get": "read"},
    "stock-movements": {"post": "location"},
    "stock-counts": {"post": "location"},
    "availability": {"get": "read"},
    "orders": {"get": "read", "post": "channel"},
    "order-detail": {"get": "read"},
    "order-cancel": {"post": "read"},
    "order-line-cancel": {"post": "read"},
    "order-notes": {"post": "read"},
    "order-resource": {"post": "read"},
    "fulfilments": {"get": "read"},
    "fulfilment-detail": {"get": "read"},
    "fulfilment-accept": {"post": "read"},
    "fulfilment-reject": {"post": "read"},
    "fulfilment-ship": {"post": "read"},
    "fulfilment-ready": {"post": "read"},
    "fulfilment-collected": {"post": "read"},
    "delivery-options": {"post": "channel"},
    "reservations": {"post": "channel"},
    "reservation-detail": {"get": "read", "delete": "read"},
    "webhooks": {"get": "read", "post": "location"},
    "webhook-detail": {"get": "read", "delete": "read"},
    "alert-rules-low-stock": {"get": "read", "post": "location"},
    "alerts": {"get": "read"},
    "alert-acknowledge": {"post": "read"},
    "alert-snooze": {"post": "read"},
    "alert-resolve": {"post": "read"},
    "returns": {"get": "read", "post": "channel"},
    "return-detail": {"get": "read"},
    "return-receive": {"post": "location"},
    "return-refund": {"post": "channel"},
    "return-cancel": {"post": "channel"},
    "transfers": {"get": "read", "post": "location"},
    "transfer-detail": {"get": "read"},
    "transfer-ship": {"post": "read"},
    "transfer-receive": {"post": "read"},
    "transfer-cancel": {"post": "read"},
    "purchase-orders": {"get": "read", "post": "location"},
    "purchase-orders-import": {"post": "network"},
    "purchase-order-detail": {"get": "read", "patch": "read"},
    "purchase-order-receive": {"post": "read"},
    "purchase-order-cancel": {"post": "read"},
    "channels": {"get": "read", "post": "network"},
    "channel-detail": {"get": "read", "patch": "network"},
    "channel-delivery-price": {"put": "network"},
    "carrier-services": {"get": "read"},
    "carrier-service-detail": {"put": "network"},
    "channel-connector": {"get": "network", "put": "network"},
}

# Which of the two sites' objects each kind of caller sees, per kind of object.
BOTH, OWN, NONE = {"own", "other"}, {"own"}, set()
VISIBLE: dict[str, dict[str, set[str]]] = {
    # The catalogue is read by everyone.
    "product": {NO_SCOPE: BOTH, AT_LOCATION: BOTH, FOR_CHANNEL: BOTH},
    # A storefront reads the locations that serve its channel.
    "location": {NO_SCOPE: BOTH, AT_LOCATION: OWN, FOR_CHANNEL: OWN},
    # A 3PL sees of an order only what its fulfilments show: no order endpoint.
    "order": {NO_SCOPE: BOTH, AT_LOCATION: NONE, FOR_CHANNEL: OWN},
    "fulfilment": {NO_SCOPE: BOTH, AT_LOCATION: OWN, FOR_CHANNEL: NONE},
    "webhook": {NO_SCOPE: BOTH, AT_LOCATION: OWN, FOR_CHANNEL: NONE},
    "alert": {NO_SCOPE: BOTH, AT_LOCATION: OWN, FOR_CHANNEL: NONE},
    # Its own reservations only: the storefront made the one on its channel.
    "reservation": {NO_SCOPE: BOTH, AT_LOCATION: NONE, FOR_CHANNEL: OWN},
    # Returns expected (or received) at the location; those of the channel's orders.
    "return": {NO_SCOPE: BOTH, AT_LOCATION: OWN, FOR_CHANNEL: OWN},
    # Transfers leaving or reaching its locations; purchase orders delivered to them.
    "transfer": {NO_SCOPE: BOTH, AT_LOCATION: OWN, FOR_CHANNEL: NONE},
    "purchase_order": {NO_SCOPE: BOTH, AT_LOCATION: OWN, FOR_CHANNEL: NONE},
    # A storefront reads its own channel; the rest of the network reads them all.
    "channel": {NO_SCOPE: BOTH, AT_LOCATION: BOTH, FOR_CHANNEL: OWN},
}
ID_FAMILIES = {"fulfilment": "fulfilment", "webhook": "webhook", "alert": "alert"}
ARGUMENT_FAMILIES = {
    "sku": "product",
    "code": "location",
    "number": "order",
    "reservation_id": "reservation",
    "return_number": "return",
    "transfer_number": "transfer",
    "po_number": "purchase_order",
}


@dataclass
class Caller:
    user: User
    kind: str


@dataclass
class World:
    own: Site
    other: Site
    own_channel: Channel
    other_channel: Channel
    callers: dict[str, Caller]


def api_user(username: str, **scope) -> User:
    """Return an integration user (an API token's) with the given location or channel."""
    user = User.objects.create_user(username=username, password=None)
    user.groups.add(Group.objects.get(name=INTEGRATION))
    if scope.get("location") is not None:
        Membership.objects.create(user=user, location=scope["location"])
    if scope.get("channel") is not None:
        ChannelScope.objects.create(user=user, channel=scope["channel"])
    return user


def scoped_world() -> World:
    """Two sites, each with its own channel (serving its location only) holding its order
    and reservation; the three tokens and a person per role."""
    own, other = network()
    channels = []
    for site, code in ((own, "own-shop"), (other, "other-shop")):
        channel = Channel.objects.create(code=code, name=code.title())
        channel.locations.set([site.location])
        Order.objects.filter(pk=site.order.pk).update(channel=channel)
        Reservation.objects.filter(pk=site.reservation.pk).update(channel=channel)
        # The channel is connected to its storefront, whose webhook made the order.
        connector = Connector.objects.get(pk=site.storefront_order.connector_id)
        connector.pk = None
        connector.channel = channel
        connector.save()
        StorefrontOrder.objects.filter(pk=site.storefront_order.pk).update(connector=connector)
        site.order.refresh_from_db(fields=["channel"])
        channels.append(channel)
    own_channel, other_channel = channels
    callers = {
        "token without scope": Caller(api_user("erp"), NO_SCOPE),
        "token of a 3PL": Caller(api_user("threepl", location=own.location), AT_LOCATION),
        "token of a storefront": Caller(api_user("shop", channel=own_channel), FOR_CHANNEL),
    }
    Reservation.objects.filter(pk=own.reservation.pk).update(
        actor=callers["token of a storefront"].user
    )
    for role in ROLE_NAMES:
        if role == INTEGRATION:
            continue
        at = own.location if ROLE_PLACES[role] == "own" else None
        callers[role] = Caller(role_user(role, location=at), AT_LOCATION if at else NO_SCOPE)
    return World(own, other, own_channel, other_channel, callers)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), rolled_back():
        yield scoped_world()


def _family(name: str, kwargs: set[str]) -> str | None:
    # A channel's routes name the channel by `code`; a carrier service is the network's.
    if name.startswith("channel-"):
        return "channel"
    if name.startswith("carrier-service"):
        return None
    if "pk" in kwargs:
        return ID_FAMILIES[name.split("-")[0]]
    for argument, family in ARGUMENT_FAMILIES.items():
        if argument in kwargs:
            return family
    return None


def _url(name: str, kwargs: set[str], site: Site) -> str:
    values = {
        "sku": site.stock.product.sku,
        "code": site.location.code,
        "number": site.order.number,
        "line": 1,
        "reservation_id": str(site.reservation.public_id),
        "return_number": site.ret.number,
        "transfer_number": site.transfer.number,
        "po_number": site.purchase_order.number,
        "method": "standard",
    }
    if name.startswith("channel-"):
        values["code"] = site.order.channel.code
    if "pk" in kwargs:
        values["pk"] = getattr(site, ID_FAMILIES[name.split("-")[0]]).pk
    return reverse(name, kwargs={arg: values[arg] for arg in kwargs})


def _requests(world: World):
    """Yield (route name, method, url, site, family) for every route, method and site."""
    for _route, _ns, pattern, kwargs in api_routes():
        view_class = pattern.callback.view_class
        for method in METHODS:
            if not hasattr(view_class, method):
                continue
            family = _family(pattern.name, kwargs)
            sites = [("own", world.own), ("other", world.other)] if family else [("", world.own)]
            for where, site in sites:
                yield pattern.name, method, _url(pattern.name, kwargs, site), where, family


def _needed(name: str, method: str, url: str, view_class):
    request = RequestFactory().generic(method.upper(), url)
    request.resolver_match = type("Match", (), {"url_name": name})()
    return required_permissions(view_class(), request)


def _expected(caller: Caller, name: str, method: str, where: str, family, allowed: bool):
    """Return the set of statuses the contract allows."""
    if not allowed:
        return {403}
    reach = REACH[name][method]
    refused = {"network": {AT_LOCATION, FOR_CHANNEL}, "location": {FOR_CHANNEL}}
    refused["channel"] = {AT_LOCATION}
    if caller.kind in refused.get(reach, set()):
        return {403}
    if family is not None and where not in VISIBLE[family][caller.kind]:
        return {404}
    if method == "get":
        return {200, 400}
    return {status for status in range(200, 500) if status not in {401, 403, 404}}


CALLERS = ["token without scope", "token of a 3PL", "token of a storefront"] + [
    role for role in ROLE_NAMES if role != INTEGRATION
]


@pytest.mark.parametrize("who", CALLERS)
def test_every_api_route_answers_each_caller_as_its_scope_says(world, db, who):
    # given
    caller = world.callers[who]
    client = token_client(caller.user)
    views = {pattern.name: pattern.callback.view_class for *_, pattern, _k in api_routes()}
    failures, seen = [], 0
    # when
    for name, method, url, where, family in _requests(world):
        if method not in REACH.get(name, {}):
            failures.append((name, method, "no scope expectation: teach this test the route"))
            continue
        needed = _needed(name, method, url, views[name])
        allowed = needed is not None and caller.user.has_perms(needed)
        with rolled_back():
            status = getattr(client, method)(url, {} if method != "get" else None, format="json")
        expected = _expected(caller, name, method, where, family, allowed)
        # then
        if status.status_code not in expected:
            failures.append((method, url, where, status.status_code, sorted(expected)[:3]))
        seen += 1
    assert seen > 50
    assert failures == [], "\n".join(map(str, failures))


def _ids(client: APIClient, name: str, key: str) -> set:
    response = client.get(reverse(name), {"page_size": 500})
    assert response.status_code == 200, (name, response.content)
    return {row[key] for row in response.json()["results"]}


@pytest.mark.parametrize("who", ["token without scope", "token of a 3PL", "token of a storefront"])
def test_each_list_shows_only_what_the_callers_scope_sees(world, db, who):
    # given
    caller = world.callers[who]
    client = token_client(caller.user)
    sites = {"own": world.own, "other": world.other}

    def seen(family: str, attribute) -> set:
        return {attribute(sites[where]) for where in VISIBLE[family][caller.kind]}

    # when / then: every list holds exactly the objects the contract gives this scope
    assert _ids(client, "orders", "number") == seen("order", lambda s: s.order.number)
    assert _ids(client, "fulfilments", "id") == seen("fulfilment", lambda s: s.fulfilment.pk)
    assert _ids(client, "webhooks", "id") == seen("webhook", lambda s: s.webhook.pk)
    assert _ids(client, "alerts", "id") == seen("alert", lambda s: s.alert.pk)
    # Besides the two sites, a caller without scope sees their hubs (the transfers' ends).
    hubs = {"OWN-HUB", "OTHER-HUB"} if caller.kind == NO_SCOPE else set()
    assert _ids(client, "locations", "code") == seen("location", lambda s: s.location.code) | hubs
    assert _ids(client, "stock", "location") == seen("location", lambda s: s.location.code)
    assert _ids(client, "products", "sku") == {"OWN-TEE", "OTHER-MUG"}
    assert _ids(client, "returns", "number") == seen("return", lambda s: s.ret.number)
    assert _ids(client, "transfers", "number") == seen("transfer", lambda s: s.transfer.number)
    assert _ids(client, "purchase-orders", "number") == seen(
        "purchase_order", lambda s: s.purchase_order.number
    )


def test_every_api_route_and_method_has_a_scope_rule():
    # given / when: each route's methods, and the rule the code gives them
    missing = []
    for route, _ns, pattern, _kwargs in api_routes():
        view_class = pattern.callback.view_class
        for method in METHODS:
            if not hasattr(view_class, method):
                continue
            request = RequestFactory().generic(method.upper(), "/" + route)
            request.resolver_match = type("Match", (), {"url_name": pattern.name})()
            if scope_rule(view_class(), request) is None:
                missing.append((method, route))
    # then
    assert missing == []


def test_a_route_without_a_scope_rule_refuses_every_scoped_token(world, db):
    # given: a view nobody gave a scope rule, and which needs no permission
    class Unruled(APIView):
        required_permissions: dict = {}

    callers = {
        kind: world.callers[who].user
        for kind, who in (
            ("no scope", "token without scope"),
            ("location", "token of a 3PL"),
            ("channel", "token of a storefront"),
        )
    }
    answers = {}
    # when
    for who, user in callers.items():
        request = RequestFactory().get("/api/v1/unruled/")
        request.user = user
        request.resolver_match = type("Match", (), {"url_name": "unruled"})()
        permission = RolePermission()
        allowed = permission.has_permission(request, Unruled())
        answers[who] = (allowed, getattr(permission, "message", None))
    # then
    assert answers["no scope"] == (True, None)
    assert answers["location"] == (False, "This route admits no scoped token.")
    assert answers["channel"] == (False, "This route admits no scoped token.")
