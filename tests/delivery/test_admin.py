"""The admin of the delivery settings: carrier services with their transit bands, prices per
channel, location calendars, and the read-only reservations. Nonsense is refused and
nothing of it is saved."""

from datetime import time
from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Location, LocationClosedDay
from orders.models import CarrierService, DeliveryPrice, TransitBand
from orders.services.reservations import ReservedLine, reservation_create
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, StoreFactory
from tests.orders.helpers import stocked

pytestmark = pytest.mark.django_db


def changelist(model: str) -> str:
    app = "inventory" if model == "location" else "orders"
    return reverse(f"admin:{app}_{model}_changelist")


def add(model: str) -> str:
    app = "inventory" if model == "location" else "orders"
    return reverse(f"admin:{app}_{model}_add")


def shown(response) -> list:
    return list(response.context["cl"].result_list)


def errors(response) -> str:
    """Return every error the admin form and its inlines show, as one string."""
    found = [str(response.context["adminform"].form.errors)]
    for formset in response.context["inline_admin_formsets"]:
        found += [str(formset.formset.non_form_errors()), str(formset.formset.errors)]
    return " ".join(found)


@pytest.fixture
def settings_made():
    express = CarrierService.objects.create(
        code="colissimo-express", name="Express", method="express"
    )
    TransitBand.objects.create(service=express, max_km=500, days=1)
    TransitBand.objects.create(service=express, max_km=1500, days=2)
    standard = CarrierService.objects.create(code="colissimo", name="Standard", method="standard")
    TransitBand.objects.create(service=standard, max_km=2000, days=3)
    web = ChannelFactory(code="web", name="Web shop")
    shop = ChannelFactory(code="marketplace", name="Marketplace")
    DeliveryPrice.objects.create(channel=web, method="standard", price=Decimal("4.90"))
    DeliveryPrice.objects.create(channel=shop, method="express", price=Decimal("9.90"))
    return {"express": express, "standard": standard, "web": web}


def service_form(code: str, bands: list[tuple[str, str]], **fields) -> dict:
    data = {
        "code": code,
        "name": "A service",
        "method": "express",
        "active": "on",
        "closed_weekdays": "7",
        "bands-TOTAL_FORMS": str(len(bands)),
        "bands-INITIAL_FORMS": "0",
        "bands-MIN_NUM_FORMS": "0",
        "bands-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for n, (max_km, days) in enumerate(bands):
        data[f"bands-{n}-max_km"] = max_km
        data[f"bands-{n}-days"] = days
    return data


def location_form(code: str, **fields) -> dict:
    return {
        "code": code,
        "name": "Lille store",
        "kind": "store",
        "active": "on",
        "lat": "50.63",
        "lon": "3.06",
        "country": "FR",
        "time_zone": "Europe/Paris",
        "ships": "",
        "click_and_collect": "on",
        "priority": "100",
        "processing_days": "0",
        "cutoff_time": "12:00",
        "closed_weekdays": ["7"],
        "hold_days": "7",
        "opening_hours": "Mon-Sat 10:00-19:00",
        "shipment_cost": "0",
        "cost_per_km": "0",
        "unit_cost": "0",
        "closed_days-TOTAL_FORMS": "1",
        "closed_days-INITIAL_FORMS": "0",
        "closed_days-MIN_NUM_FORMS": "0",
        "closed_days-MAX_NUM_FORMS": "1000",
        "closed_days-0-date": "2026-12-25",
        "closed_days-0-reason": "Christmas Day",
        **fields,
    }


# --- Changelists and search ---------------------------------------------------------------


@pytest.mark.parametrize("model", ["carrierservice", "deliveryprice", "reservation", "location"])
def test_each_delivery_changelist_renders_for_staff_only(client, admin_client_logged, model):
    # when
    staff = admin_client_logged.get(changelist(model))
    client.logout()
    anonymous = client.get(changelist(model))

    # then
    assert staff.status_code == 200
    assert anonymous.status_code == 302 and reverse("admin:login") in anonymous["Location"]


def test_carrier_service_search_by_code_lists_its_bands(admin_client_logged, settings_made):
    # when
    response = admin_client_logged.get(changelist("carrierservice"), {"q": "express"})

    # then
    assert [service.code for service in shown(response)] == ["colissimo-express"]
    page = response.content.decode()
    assert "≤ 500 km: 1 day(s), ≤ 1500 km: 2 day(s)" in page


def test_delivery_price_search_by_channel_code(admin_client_logged, settings_made):
    # when
    response = admin_client_logged.get(changelist("deliveryprice"), {"q": "marketplace"})

    # then
    assert [(p.channel.code, p.method) for p in shown(response)] == [("marketplace", "express")]


def test_reservation_search_by_id_and_no_way_to_write_one(admin_client_logged, settings_made):
    # given
    product = ProductFactory(sku="TEE")
    stocked(product, LocationFactory(code="DC"), 5)

    held = reservation_create(
        channel=settings_made["web"], lines=[ReservedLine(product, 2)], minutes=15
    )
    reservation_create(channel=settings_made["web"], lines=[ReservedLine(product, 1)])

    # when
    found = admin_client_logged.get(changelist("reservation"), {"q": str(held.public_id)})
    adding = admin_client_logged.get(add("reservation"))

    # then
    assert [r.pk for r in shown(found)] == [held.pk]
    assert adding.status_code == 403


# --- Carrier services and their transit bands ---------------------------------------------


def test_carrier_service_is_added_with_its_bands(admin_client_logged):
    # when
    response = admin_client_logged.post(
        add("carrierservice"), service_form("dpd-express", [("300", "1"), ("1200", "2")])
    )

    # then
    assert response.status_code == 302
    service = CarrierService.objects.get(code="dpd-express")
    assert list(service.bands.order_by("max_km").values_list("max_km", "days")) == [
        (300, 1),
        (1200, 2),
    ]


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([("300", "-1")], "greater than or equal to"),
        ([("-5", "1")], "greater than or equal to"),
        ([("300", "0")], "greater than or equal to 1"),
        ([("300", "2"), ("1200", "1")], "a farther band cannot be faster"),
        ([], "at least one transit band"),
    ],
    ids=["negative-days", "negative-km", "zero-days", "farther-faster", "no-band"],
)
def test_carrier_service_with_nonsense_bands_is_refused(admin_client_logged, bands, message):
    # when
    response = admin_client_logged.post(add("carrierservice"), service_form("dpd", bands))

    # then
    assert response.status_code == 200
    assert message in errors(response)
    assert not CarrierService.objects.filter(code="dpd").exists()
    assert not TransitBand.objects.exists()


def test_carrier_service_closed_every_day_is_refused(admin_client_logged):
    # when
    response = admin_client_logged.post(
        add("carrierservice"),
        service_form("dpd", [("300", "1")], closed_weekdays="1,2,3,4,5,6,7"),
    )

    # then
    assert response.status_code == 200
    assert "can never serve" in errors(response)
    assert not CarrierService.objects.filter(code="dpd").exists()


# --- Prices per channel -------------------------------------------------------------------


def price_form(channel, **fields) -> dict:
    return {
        "channel": str(channel.pk),
        "method": "same_day",
        "price": "7.50",
        "free_above": "100.00",
        "currency": "eur",
        "active": "on",
        **fields,
    }


def test_delivery_price_is_added_with_its_currency_in_capitals(admin_client_logged, settings_made):
    # when
    response = admin_client_logged.post(add("deliveryprice"), price_form(settings_made["web"]))

    # then
    assert response.status_code == 302
    price = DeliveryPrice.objects.get(channel=settings_made["web"], method="same_day")
    assert (price.price, price.free_above, price.currency) == (
        Decimal("7.50"),
        Decimal("100.00"),
        "EUR",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"currency": "EURO"}, "Ensure this value has at most 3 characters"),
        ({"currency": "XYZ"}, "not an ISO 4217 currency code"),
        ({"price": "-1.00"}, "greater than or equal to 0"),
        ({"free_above": "-5"}, "greater than or equal to 0"),
        ({"method": "teleport"}, "Select a valid choice"),
    ],
    ids=["long-currency", "unknown-currency", "negative-price", "negative-threshold", "method"],
)
def test_delivery_price_nonsense_is_refused(admin_client_logged, settings_made, fields, message):
    # when
    response = admin_client_logged.post(
        add("deliveryprice"), price_form(settings_made["web"], **fields)
    )

    # then
    assert response.status_code == 200
    assert message in errors(response)
    assert not DeliveryPrice.objects.filter(method__in=["same_day", "teleport"]).exists()


def test_second_price_for_one_channel_and_method_is_refused(admin_client_logged, settings_made):
    # when: web already has a standard price
    response = admin_client_logged.post(
        add("deliveryprice"), price_form(settings_made["web"], method="standard")
    )

    # then
    assert response.status_code == 200
    assert (
        DeliveryPrice.objects.filter(channel=settings_made["web"], method="standard").count() == 1
    )


# --- Location calendars and hold periods --------------------------------------------------


def test_store_is_added_with_its_calendar_and_closed_days(admin_client_logged):
    # when
    response = admin_client_logged.post(
        add("location"), location_form("ST-LILLE", closed_weekdays=["6", "7"])
    )

    # then
    assert response.status_code == 302
    store = Location.objects.get(code="ST-LILLE")
    assert (store.closed_weekdays, store.cutoff_time, store.hold_days) == ("6,7", time(12), 7)
    assert list(
        LocationClosedDay.objects.filter(location=store).values_list("reason", flat=True)
    ) == ["Christmas Day"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"time_zone": ""}, "time_zone", "A cutoff needs the time zone it is read in."),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a known time zone"),
        ({"processing_days": "-1"}, "processing_days", "greater than or equal to 0"),
        ({"processing_days": "61"}, "processing_days", "less than or equal to 60"),
        ({"hold_days": "0"}, "hold_days", "greater than or equal to 1"),
        ({"hold_days": "-3"}, "hold_days", "greater than or equal to"),
        (
            {"closed_weekdays": ["1", "2", "3", "4", "5", "6", "7"]},
            "closed_weekdays",
            "can never serve",
        ),
    ],
    ids=[
        "cutoff-without-zone",
        "unknown-zone",
        "negative-processing",
        "processing-too-long",
        "zero-hold",
        "negative-hold",
        "closed-all-week",
    ],
)
def test_location_calendar_nonsense_is_refused(admin_client_logged, fields, field, message):
    # when
    response = admin_client_logged.post(add("location"), location_form("ST-LILLE", **fields))

    # then
    assert response.status_code == 200
    form_errors = response.context["adminform"].form.errors
    assert message in " ".join(form_errors.get(field, []))
    assert not Location.objects.filter(code="ST-LILLE").exists()
    assert not LocationClosedDay.objects.exists()


def test_changing_a_store_hold_period_is_saved(admin_client_logged):
    # given
    store = StoreFactory(code="ST-LYON", hold_days=7)
    url = reverse("admin:inventory_location_change", args=[store.pk])

    # when
    response = admin_client_logged.post(
        url, location_form("ST-LYON", hold_days="3", **{"closed_days-TOTAL_FORMS": "0"})
    )

    # then
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.hold_days == 3
