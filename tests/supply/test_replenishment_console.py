"""The replenishment page (/console/supply/replenishment/) and the alerts page's one-click
transfer: what each role sees, and that each button calls its service."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import INVENTORY_MANAGER, STORE_STAFF
from alerts.models import Alert
from alerts.services import alerts_evaluate_stock
from console.navigation import links_for
from inventory.models import StockLevel
from supply.models import ReplenishmentProposal, ReplenishmentRun, Transfer
from supply.services.replenishment import replenishment_run
from tests.alerts.helpers import set_available, ship
from tests.console.helpers import person
from tests.factories import LocationFactory, ProductFactory, StoreFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("supply_console:replenishment")


@pytest.fixture
def network():
    tee = ProductFactory(sku="TEE")
    rivoli = StoreFactory(code="ST-RIVOLI", lat=48.8606, lon=2.3376)
    dc = LocationFactory(code="DC-PARIS", lat=48.70, lon=2.40)
    set_available(tee, rivoli, 66)
    ship(tee, rivoli, 56, at=timezone.now() - timedelta(days=3))
    set_available(tee, dc, 100)
    return tee, rivoli, dc


@pytest.fixture
def manager(client):
    client.force_login(person("manager", INVENTORY_MANAGER))
    return client


def proposed(network) -> ReplenishmentProposal:
    replenishment_run(run_id=ReplenishmentRun.objects.create().pk)
    return ReplenishmentProposal.objects.get(status="proposed")


def test_the_page_lists_what_waits_with_its_lines(manager, network, django_assert_max_num_queries):
    # given
    proposal = proposed(network)

    # when
    with django_assert_max_num_queries(20):
        response = manager.get(PAGE)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="proposal-{proposal.pk}"' in html
    assert "TEE</a>: 38 (10 → 48)" in html
    assert "Confirm transfer" in html and "Propose transfers now" in html
    assert "proposed 1 transfer of 38 units" in html


def test_confirm_requests_the_transfer_in_one_click(manager, network):
    # given
    tee, rivoli, dc = network
    proposal = proposed(network)

    # when
    response = manager.post(
        reverse("supply_console:proposal-act", args=[proposal.pk, "confirm"]), follow=True
    )

    # then
    transfer = Transfer.objects.get()
    assert f"Transfer {transfer.number} requested" in response.content.decode()
    assert (transfer.source, transfer.destination) == (dc, rivoli)
    assert StockLevel.objects.get(product=tee, location=dc).allocated == 38
    proposal.refresh_from_db()
    assert proposal.status == "confirmed"
    # The page now lists it among the decided ones.
    assert transfer.number in response.content.decode()


def test_a_refused_confirm_says_why_and_changes_nothing(manager, network):
    # given: the source lost its stock after the run
    tee, _, dc = network
    proposal = proposed(network)
    set_available(tee, dc, 5)

    # when
    response = manager.post(
        reverse("supply_console:proposal-act", args=[proposal.pk, "confirm"]), follow=True
    )

    # then
    assert "38 asked, 5 available at DC-PARIS" in response.content.decode()
    assert Transfer.objects.count() == 0


def test_dismiss(manager, network):
    proposal = proposed(network)
    manager.post(reverse("supply_console:proposal-act", args=[proposal.pk, "dismiss"]))
    proposal.refresh_from_db()
    assert proposal.status == "dismissed"


def test_the_run_button_queues_a_run(manager, network):
    # when
    response = manager.post(reverse("supply_console:replenishment-run"), follow=True)

    # then: the worker works it out (tests/supply/test_replenishment_end_to_end.py)
    run = ReplenishmentRun.objects.get()
    assert run.status == "queued"
    assert f"Run #{run.pk} queued" in response.content.decode()


def test_store_staff_see_their_stores_proposals_and_may_not_run(client, network):
    # given: a clerk at another store
    proposal = proposed(network)
    elsewhere = StoreFactory(code="ST-LYON")
    client.force_login(person("clerk", STORE_STAFF, elsewhere))

    # when
    page = client.get(PAGE)
    confirm = client.post(reverse("supply_console:proposal-act", args=[proposal.pk, "confirm"]))
    run = client.post(reverse("supply_console:replenishment-run"))

    # then
    assert page.status_code == 200
    assert f"proposal-{proposal.pk}" not in page.content.decode()
    assert "Propose transfers now" not in page.content.decode()
    assert confirm.status_code == 404
    assert run.status_code == 403
    assert Transfer.objects.count() == 0


def test_navigation_links_the_page_for_roles_that_see_it(network):
    manager = person("manager", INVENTORY_MANAGER)
    assert any(link.url == PAGE for link in links_for(manager))


def test_an_alerts_suggested_transfer_is_one_click_from_the_alerts_page(manager, network):
    # given: the days-of-cover alert at the store suggests 38 from DC-PARIS
    tee, rivoli, dc = network
    alerts_evaluate_stock(now=timezone.now())
    alert = Alert.objects.get(kind=Alert.Kind.DAYS_OF_COVER, location=rivoli)
    page = manager.get(reverse("alerts_console:list")).content.decode()
    button = reverse("supply_console:alert-transfer", args=[alert.pk])
    assert button in page and "Transfer 38 from DC-PARIS" in page

    # when
    response = manager.post(button, {"next": "status=unresolved"})

    # then: the transfer is requested, the alert acknowledged
    assert response.status_code == 302
    assert response["Location"] == reverse("alerts_console:list") + "?status=unresolved"
    transfer = Transfer.objects.get()
    assert (transfer.source, transfer.destination, transfer.reference) == (
        dc,
        rivoli,
        f"alert {alert.pk}",
    )
    assert [(line.product, line.quantity) for line in transfer.lines.all()] == [(tee, 38)]
    alert.refresh_from_db()
    assert alert.status == "acknowledged"

    # when: a second click
    again = manager.post(button, follow=True)

    # then
    assert f"Transfer {transfer.number} was already requested" in again.content.decode()
    assert Transfer.objects.count() == 1


def test_an_alert_with_no_suggestion_shows_no_button_and_refuses(manager):
    # given: nobody can spare units
    tee, rivoli = ProductFactory(sku="TEE"), StoreFactory(code="ST-RIVOLI")
    set_available(tee, rivoli, 66)
    ship(tee, rivoli, 56, at=timezone.now() - timedelta(days=3))
    alerts_evaluate_stock(now=timezone.now())
    alert = Alert.objects.get(kind=Alert.Kind.DAYS_OF_COVER)
    button = reverse("supply_console:alert-transfer", args=[alert.pk])
    assert button not in manager.get(reverse("alerts_console:list")).content.decode()

    # when
    response = manager.post(button, follow=True)

    # then
    assert "suggests no transfer" in response.content.decode()
    assert Transfer.objects.count() == 0


def test_store_staff_are_not_given_the_networks_page_in_their_navigation(network):
    _, rivoli, _ = network
    clerk = person("clerk", STORE_STAFF, rivoli)
    assert not any(link.url == PAGE for link in links_for(clerk))
