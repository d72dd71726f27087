"""A 3PL confirms through the API: a repeated confirmation changes nothing and answers the
current state."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fulfilment.models import Fulfilment
from inventory.models import StockLevel, StockMovement
from outbox.models import OutboxEvent
from tests.outbound.helpers import an_order

pytestmark = pytest.mark.django_db
SHIP = {"carrier": "DHL", "tracking_number": "JD014600003828"}


def test_shipping_again_with_the_same_tracking_number_is_a_no_op_with_the_current_state(api):
    # given
    fulfilment = an_order(quantity=2).fulfilments.get()
    url = reverse("fulfilment-ship", args=[fulfilment.pk])
    first = api.post(url, SHIP, format="json")
    state = (StockMovement.objects.count(), OutboxEvent.objects.count())

    # when: the 3PL sends its confirmation again (no Idempotency-Key)
    again = api.post(url, SHIP, format="json")

    # then
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == api.get(reverse("fulfilment-detail", args=[fulfilment.pk])).json()
    assert again.json()["status"] == "shipped"
    assert (StockMovement.objects.count(), OutboxEvent.objects.count()) == state
    assert StockLevel.objects.get().on_hand == 8


def test_shipping_again_with_another_tracking_number_is_a_conflict(api):
    # given
    fulfilment = an_order().fulfilments.get()
    url = reverse("fulfilment-ship", args=[fulfilment.pk])
    api.post(url, SHIP, format="json")

    # when
    other = api.post(url, {**SHIP, "tracking_number": "OTHER-1"}, format="json")

    # then
    assert other.status_code == 409
    assert "tracking_number" in other.json()["errors"]
    assert Fulfilment.objects.get().tracking_number == SHIP["tracking_number"]


def test_the_same_idempotency_key_replays_the_first_answer(api):
    # given
    fulfilment = an_order().fulfilments.get()
    url = reverse("fulfilment-accept", args=[fulfilment.pk])
    first = api.post(url, format="json", HTTP_IDEMPOTENCY_KEY="accept-1")
    state = OutboxEvent.objects.count()

    # when
    again = api.post(url, format="json", HTTP_IDEMPOTENCY_KEY="accept-1")

    # then
    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.json()["status"] == "accepted"
    assert OutboxEvent.objects.count() == state
