"""With a real Celery worker: a store runs short, the transfer the OMS suggests is confirmed
in the console, shipped and received through the API, and the alert resolves itself."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from accounts.roles import INVENTORY_MANAGER
from alerts.models import Alert
from inventory.models import Product, StockLevel
from supply.models import ReplenishmentProposal, ReplenishmentRun, Transfer
from tests.alerts.helpers import ship
from tests.console.helpers import person
from tests.factories import LocationFactory, ProductFactory, StoreFactory
from tests.worker import wait_for

pytestmark = pytest.mark.worker

# Seconds to wait for the worker: the machine that runs the suite may be busy.
WAIT = 90


@pytest.fixture
def short_store(api, user):
    """ST-RIVOLI sold 56 tees over the last days and has 20 left (10 days of cover, on the
    line); DC-PARIS holds 100. The integrator may do everything."""
    user.user_permissions.add(*Permission.objects.all())
    ProductFactory(sku="TEE", name="Striped tee")
    rivoli = StoreFactory(code="ST-RIVOLI", lat=48.8606, lon=2.3376)
    LocationFactory(code="DC-PARIS", lat=48.70, lon=2.40)
    for code, units in (("ST-RIVOLI", 76), ("DC-PARIS", 100)):
        received = api.post(
            "/api/v1/stock/movements/",
            {"sku": "TEE", "location": code, "kind": "receipt", "quantity": units},
            format="json",
        )
        assert received.status_code == 201, received.content
    ship(Product.objects.get(sku="TEE"), rivoli, 56, at=timezone.now() - timedelta(days=3))
    return rivoli


def _damaged(api, units: int) -> None:
    """Units found damaged at the store: its stock drops and the worker evaluates it."""
    response = api.post(
        "/api/v1/stock/movements/",
        {"sku": "TEE", "location": "ST-RIVOLI", "kind": "damage", "quantity": units},
        format="json",
    )
    assert response.status_code == 201, response.content


def _available_at(store) -> int:
    return StockLevel.objects.get(product__sku="TEE", location=store).available


def _ship_and_receive(api, transfer: Transfer) -> None:
    shipped = api.post(reverse("transfer-ship", args=[transfer.number]))
    assert shipped.status_code == 200, shipped.content
    received = api.post(
        reverse("transfer-receive", args=[transfer.number]),
        {"lines": [{"sku": "TEE", "quantity": 38}]},
        format="json",
    )
    assert received.status_code == 200, received.content
    assert received.json()["status"] == "received"


def test_the_alerts_suggested_transfer_confirmed_shipped_received_resolves_it(
    api, short_store, client, celery_worker_process
):
    # given: 10 damaged units leave 10 (5 days of cover): the worker opens the alert, which
    # suggests 38 from DC-PARIS
    _damaged(api, 10)
    alert = wait_for(
        lambda: Alert.objects.filter(kind="days_of_cover", location=short_store).first(),
        timeout=WAIT,
    )
    assert (alert.details["transfer_from"], alert.details["transfer_quantity"]) == (
        "DC-PARIS",
        38,
    )

    # when: the inventory manager clicks it on the alerts page, the units travel
    client.force_login(person("manager", INVENTORY_MANAGER))
    page = client.get(reverse("alerts_console:list")).content.decode()
    button = reverse("supply_console:alert-transfer", args=[alert.pk])
    assert button in page
    assert client.post(button).status_code == 302
    transfer = Transfer.objects.get(reference=f"alert {alert.pk}")
    _ship_and_receive(api, transfer)

    # then: 48 at the store cover 24 days; the worker resolves the alert
    resolved = wait_for(
        lambda: Alert.objects.filter(pk=alert.pk, status="resolved").first(), timeout=WAIT
    )
    assert resolved.resolution == "cleared"
    assert _available_at(short_store) == 48


def test_a_replenishment_run_by_the_worker_confirmed_shipped_received_resolves_the_alert(
    api, short_store, client, celery_worker_process
):
    # given: the store runs short and the alert is open
    _damaged(api, 10)
    alert = wait_for(
        lambda: Alert.objects.filter(kind="days_of_cover", location=short_store).first(),
        timeout=WAIT,
    )
    client.force_login(person("manager", INVENTORY_MANAGER))

    # when: "Propose transfers now": the worker works the run out
    assert client.post(reverse("supply_console:replenishment-run")).status_code == 302
    run = wait_for(lambda: ReplenishmentRun.objects.filter(status="done").first(), timeout=WAIT)
    proposal = ReplenishmentProposal.objects.get(run=run)
    assert (proposal.source.code, proposal.destination.code, proposal.units) == (
        "DC-PARIS",
        "ST-RIVOLI",
        38,
    )
    # one click confirms it; the units travel
    confirm = reverse("supply_console:proposal-act", args=[proposal.pk, "confirm"])
    assert client.post(confirm).status_code == 302
    proposal.refresh_from_db()
    _ship_and_receive(api, proposal.transfer)

    # then
    resolved = wait_for(
        lambda: Alert.objects.filter(pk=alert.pk, status="resolved").first(), timeout=WAIT
    )
    assert resolved.resolution == "cleared"
    assert _available_at(short_store) == 48
