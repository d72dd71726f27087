"""Every role against every admin page, and every API route's permissions, generated from
the URL conf (each role and scoped token against every API route: test_scope_matrix.py).

A page or route added later is visited here without anyone listing it: a URL whose
arguments this test cannot fill fails it, as does an API route no permission covers, or a
location-bound model whose admin is not scoped. Allowed answers 200 (a POST with an empty
body may answer 400/409: it got past the permission check), denied answers 403, 404 or the
login redirect; another location's object answers 404 to a user tied to locations.

The network and the users are built once for the module and rolled back at its end, and
every API request runs in a savepoint rolled back after it: each role meets the same data,
and the thousand-odd requests stay quick.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.models import User
from django.core.management import call_command
from django.template.base import Template
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from accounts.admin_scoping import LocationScopedAdmin
from accounts.models import Membership
from accounts.permissions import API_PERMISSIONS, required_permissions
from accounts.roles import INTEGRATION, ROLE_NAMES
from tests.accounts.helpers import (
    ROLE_PLACES,
    Site,
    admin_routes,
    api_routes,
    network,
    role_user,
    rolled_back,
    token_client,
)

DENIED = {302, 403, 404}
# Admin pages that are not about a model: every staff member may open them.
SITE_PAGES = {"index", "password_change", "password_change_done", "jsi18n"}
# Not pages a person opens with a GET (or the login page itself).
SKIPPED = {"login", "logout", "autocomplete", "view_on_site", "app_list"}
METHODS = ("get", "post", "patch", "put", "delete")


@dataclass
class World:
    own: Site
    other: Site
    users: dict[str, User]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), rolled_back():
        own, other = network()
        users = {
            role: role_user(role, location=own.location if ROLE_PLACES[role] == "own" else None)
            for role in ROLE_NAMES
        }
        yield World(own, other, users)


@pytest.fixture(autouse=True)
def _plain_rendering(monkeypatch):
    """Render templates without the test client's instrumentation (it copies the context of
    every included template), and admin pages without their navigation sidebar (the app
    list again on every page): the matrix reads answers, not pages."""
    monkeypatch.setattr(Template, "_render", lambda self, context: self.nodelist.render(context))
    monkeypatch.setattr(admin.site, "enable_nav_sidebar", False)


def _model_admin_for(name: str):
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            return model_admin, name[len(prefix) :]
    return None, None


def _admin_allows(model_admin, action: str, request, obj) -> bool:
    if action in {"changelist", "change", "history"}:
        return model_admin.has_view_or_change_permission(request, obj)
    if action == "add":
        return model_admin.has_add_permission(request)
    if action == "delete":
        return model_admin.has_delete_permission(request, obj)
    if action in {"import", "process_import"}:
        return model_admin.has_import_permission(request)
    if action == "export":
        return model_admin.has_export_permission(request)
    return model_admin.has_view_or_change_permission(request, obj)


def _admin_get(client, url: str, model_admin) -> int:
    """GET `url`; a redirect to a change page of the same model (a one-row model's list
    goes straight to its row) counts as that page's answer."""
    response = client.get(url)
    if response.status_code != 302:
        return response.status_code
    match = resolve(urlsplit(response["Location"]).path)
    opts = model_admin.model._meta
    if (
        match.namespace == "admin"
        and match.url_name == f"{opts.app_label}_{opts.model_name}_change"
    ):
        return client.get(response["Location"]).status_code
    return response.status_code


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_every_admin_page_answers_the_role_as_its_permissions_say(world, db, role):
    # given
    user = world.users[role]
    client = Client()
    client.force_login(user)
    request = RequestFactory().get("/admin/")
    request.user = user
    own_objects, other_objects = world.own.objects(), world.other.objects()
    limited = ROLE_PLACES[role] == "own"
    failures, seen = [], 0
    # when
    for _route, _ns, pattern, kwargs in admin_routes():
        name = pattern.name
        if name in SKIPPED or name.endswith("_process_import"):
            continue
        if name in SITE_PAGES:
            status = client.get(reverse(f"admin:{name}")).status_code
            if status not in ({200} if user.is_staff else DENIED):
                failures.append((name, status))
            seen += 1
            continue
        model_admin, action = _model_admin_for(name)
        if model_admin is None:
            failures.append((name, "no model admin: teach this test the page"))
            continue
        label = model_admin.model._meta.label_lower
        scoped = isinstance(model_admin, LocationScopedAdmin)
        if kwargs - {"object_id", "id"}:
            failures.append((name, f"unknown arguments {kwargs}"))
            continue
        if not kwargs:
            cases = [("list", None)]
        elif scoped and label not in other_objects:
            failures.append((name, "no object per location: add one to helpers.Site"))
            continue
        elif scoped and limited:
            cases = [("own", own_objects[label]), ("other", other_objects[label])]
        elif scoped:
            # Not limited by place: another location's object answers as its own does (the
            # list test shows both locations' rows).
            cases = [("own", own_objects[label])]
        else:
            obj = model_admin.model._default_manager.first()
            cases = [("any", obj)] if obj is not None else []
        for where, obj in cases:
            url = reverse(f"admin:{name}", args=[obj.pk] if obj is not None else [])
            status = _admin_get(client, url, model_admin)
            allowed = user.is_staff and _admin_allows(model_admin, action, request, obj)
            if not allowed:
                expected = DENIED
            elif where == "other":
                expected = {404}
            else:
                expected = {200}
            if status not in expected:
                failures.append((name, where, status, sorted(expected)))
            seen += 1
    # then
    assert seen > 100
    assert failures == [], "\n".join(map(str, failures))


def _located(model, depth: int = 2) -> bool:
    """Whether `model` belongs to a location through at most `depth` foreign keys."""
    if depth == 0:
        return False
    for field in model._meta.get_fields():
        target = getattr(field, "related_model", None)
        if not (field.many_to_one and target is not None) or target._meta.label == "auth.User":
            continue
        if target._meta.label == "inventory.Location" or _located(target, depth - 1):
            return True
    return False


def test_every_admin_of_a_located_model_is_scoped_by_location():
    # given: models that belong to a location, directly or through a row that does
    located = [
        (model._meta.label, model_admin)
        for model, model_admin in admin.site._registry.items()
        if _located(model)
    ]
    # then
    assert {"outbox.Delivery", "alerts.Alert", "inventory.StockMovement"} <= {
        label for label, _ in located
    }
    unscoped = [label for label, ma in located if not isinstance(ma, LocationScopedAdmin)]
    assert unscoped == []


# An id in a URL names the object of the route's family (fulfilment-accept: a fulfilment).
ID_OBJECTS = {"fulfilment": "fulfilment", "webhook": "webhook", "alert": "alert"}
# URL arguments naming an object of one location: a user tied to others gets 404.
LOCATED_ARGUMENTS = {"number", "pk", "return_number", "transfer_number", "po_number"}


def _api_kwargs(name: str, kwargs: set[str], site: Site) -> dict | None:
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
        # A channel's routes name it by `code`: the channel of the site's order.
        values["code"] = site.order.channel.code
    family = ID_OBJECTS.get(name.split("-")[0])
    if family is not None:
        values["pk"] = getattr(site, family).pk
    if kwargs - set(values):
        return None
    return {arg: values[arg] for arg in kwargs}


def _api_requests(world: World):
    """Yield (route name, method, url, "own"/"other", view class) for every route."""
    for _route, _ns, pattern, kwargs in api_routes():
        view_class = pattern.callback.view_class
        for method in METHODS:
            if not hasattr(view_class, method):
                continue
            sites = [("own", world.own)]
            if LOCATED_ARGUMENTS & kwargs:
                sites.append(("other", world.other))
            for where, site in sites:
                values = _api_kwargs(pattern.name, kwargs, site)
                url = reverse(pattern.name, kwargs=values) if values is not None else None
                yield pattern.name, method, url, where, view_class


def _call(client, method: str, url: str):
    with rolled_back():
        return getattr(client, method)(url, {} if method != "get" else None, format="json")


def _needed(view_class, name: str, method: str, url: str):
    request = RequestFactory().generic(method.upper(), url)
    request.resolver_match = type("Match", (), {"url_name": name})()
    return required_permissions(view_class(), request)


def _token_from_command(username: str) -> str:
    out = StringIO()
    call_command("create_api_token", username, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.mark.parametrize("who", ["new API user", "superuser"])
def test_a_token_from_create_api_token_passes_every_routes_permission_check(world, db, who):
    # given: the command's API user (the integration role, no location), or a superuser
    username = "shop-integration"
    if who == "superuser":
        User.objects.create_superuser(username, "root@example.com", "root-pass-123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token_from_command(username)}")
    user = User.objects.get(username=username)
    assert not Membership.objects.filter(user=user).exists()
    if who != "superuser":
        assert list(user.groups.values_list("name", flat=True)) == [INTEGRATION]
    refused = []
    # when
    for name, method, url, _where, _view in _api_requests(world):
        assert url is not None, name
        status = _call(client, method, url).status_code
        # then: never refused; every object of every location is there to read
        passed = status < 500 and status not in {401, 403, 404}
        if not passed or (method == "get" and status not in {200, 400}):
            refused.append((method, url, status))
    assert refused == []


def test_every_api_route_says_which_permissions_it_needs():
    # given / when
    uncovered = []
    for route, _ns, pattern, _kwargs in api_routes():
        view = pattern.callback.view_class()
        if getattr(view, "required_permissions", None) is None and pattern.name not in (
            API_PERMISSIONS
        ):
            uncovered.append(route)
    # then
    assert uncovered == []


@pytest.mark.parametrize("role", [role for role in ROLE_NAMES if role != INTEGRATION])
def test_lists_show_only_the_roles_locations(world, db, role):
    # given
    own, other = world.own, world.other
    sees_other = ROLE_PLACES[role] is None
    client = Client()
    client.force_login(world.users[role])
    pages = [
        ("admin:inventory_stocklevel_changelist", "OTHER-MUG", "OWN-TEE"),
        ("admin:fulfilment_fulfilment_changelist", other.order.number, own.order.number),
        ("admin:orders_order_changelist", other.order.number, own.order.number),
        ("admin:outbox_webhooksubscription_changelist", "other.example.com", "own.example"),
        ("admin:alerts_alert_changelist", "OTHER-MUG", "OWN-TEE"),
        # rows and the subscription filter's choices
        ("admin:outbox_delivery_changelist", "other.example.com", "own.example"),
    ]
    shown = 0
    for name, other_mark, own_mark in pages:
        # when
        response = client.get(reverse(name))
        if response.status_code == 403:
            continue
        body = response.content.decode()
        # then
        assert response.status_code == 200
        assert own_mark in body, (role, name)
        assert (other_mark in body) is sees_other, (role, name)
        shown += 1
    assert shown >= 3


def test_integration_lists_only_its_locations_rows(world, db):
    # given
    own = world.own
    client = token_client(world.users[INTEGRATION])
    # when
    fulfilments = client.get(reverse("fulfilments")).json()["results"]
    stock = client.get(reverse("stock")).json()["results"]
    # An order is the channel's: a location sees of it what its fulfilments show.
    orders = client.get(reverse("orders")).json()["results"]
    webhooks = client.get(reverse("webhooks")).json()["results"]
    alerts = client.get(reverse("alerts")).json()["results"]
    # then
    assert {f["id"] for f in fulfilments} == {own.fulfilment.pk}
    assert {row["location"] for row in stock} == {own.location.code}
    assert orders == []
    assert {w["id"] for w in webhooks} == {own.webhook.pk}
    assert {a["id"] for a in alerts} == {own.alert.pk}


def test_the_admin_site_is_the_only_one():
    assert [s for s in AdminSite.__subclasses__() if s.__module__.startswith("oms")] == []
