"""The OMS's own look: its name and logo on every staff page, `/` to the console, each role's
navigation, and the API docs served from the project (no CDN)."""

import pytest
from django.urls import reverse

from accounts.roles import CUSTOMER_SERVICE, INVENTORY_MANAGER, STORE_STAFF, WAREHOUSE_STAFF
from tests.console.helpers import person
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_the_root_goes_to_the_console(client):
    # when
    response = client.get("/")
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("oms_console:dashboard")


@pytest.mark.parametrize(
    "url",
    [
        reverse("oms_console:dashboard"),
        reverse("admin:index"),
        reverse("admin:orders_order_changelist"),
        reverse("alerts_console:list"),
        reverse("orders_console:find"),
    ],
)
def test_every_staff_page_carries_the_name_and_logo_not_django(admin_client_logged, url):
    # when
    response = admin_client_logged.get(url)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "console/logo.svg" in html
    assert "Django administration" not in html and "Django site admin" not in html
    assert 'href="#content-start"' in html  # the skip link, first stop on the page


def test_the_login_page_carries_the_name(client):
    # when
    html = client.get(reverse("admin:login")).content.decode()
    # then
    assert "console/logo.svg" in html and "Django administration" not in html


@pytest.mark.parametrize("role", [STORE_STAFF, WAREHOUSE_STAFF, CUSTOMER_SERVICE])
def test_location_and_service_staff_see_their_work_not_the_model_list(client, role):
    # given
    client.force_login(person("someone", role, StoreFactory(code="ST-ONE")))
    # when
    html = client.get(reverse("oms_console:dashboard")).content.decode()
    # then
    assert 'id="oms-nav"' in html
    assert 'id="nav-sidebar"' not in html
    assert reverse("admin:index") + '"' not in html.split('id="oms-nav"')[1].split("</nav>")[0]


def test_customer_service_gets_find_and_quote_store_staff_their_queues(client):
    # given
    store = StoreFactory(code="ST-ONE")
    service = person("service", CUSTOMER_SERVICE)
    clerk = person("clerk", STORE_STAFF, store)
    # when
    client.force_login(service)
    service_nav = client.get(reverse("oms_console:dashboard")).context["oms_links"]
    client.force_login(clerk)
    clerk_nav = client.get(reverse("oms_console:dashboard")).context["oms_links"]
    # then
    assert "Find a customer" in [link.label for link in service_nav]
    assert "Delivery quote" in [link.label for link in service_nav]
    assert "Delivery quote" not in [link.label for link in clerk_nav]
    assert any("/queues/" in link.url for link in clerk_nav)
    assert len(clerk_nav) <= 13  # their work, not the admin's 25 models


def test_inventory_managers_keep_the_admin_model_list(client):
    # given
    client.force_login(person("manager", INVENTORY_MANAGER))
    # when
    html = client.get(reverse("admin:inventory_product_changelist")).content.decode()
    # then
    assert 'id="nav-sidebar"' in html
    assert 'id="oms-nav"' in html


@pytest.mark.parametrize(("name", "asset"), [("api-docs", "swagger-ui"), ("api-redoc", "redoc")])
def test_the_api_docs_load_their_assets_from_the_project(client, name, asset):
    # when
    response = client.get(reverse(name))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert f"/static/drf_spectacular_sidecar/{asset}" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
