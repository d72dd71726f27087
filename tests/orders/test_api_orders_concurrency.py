"""The same order posted by many clients at once, through the API, on PostgreSQL."""

import threading

import pytest
from django.db import connections
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import IdempotencyRecord
from orders.models import Order
from tests.orders.helpers import product, stocked, warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BODY = {
    "channel": "web",
    "external_id": "W-RACE",
    "customer": {"email": "ada@example.com", "name": "Ada", "phone": ""},
    "shipping_address": {"line1": "1 rue", "city": "Paris", "postcode": "75001", "country": "FR"},
    "delivery_method": "standard",
    "pickup_location": None,
    "currency": "EUR",
    "lines": [{"sku": "TEE-1", "quantity": 1, "unit_price": "9.99"}],
}


def _post_at_once(key: str, headers: dict, count: int = 8) -> list:
    answers, barrier = [], threading.Barrier(count)

    def target():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}", **headers)
        try:
            barrier.wait()
            answers.append(client.post(reverse("orders"), BODY, format="json"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.fixture
def token(user):
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 100)
    return Token.objects.create(user=user).key


def test_one_external_id_posted_by_eight_clients_at_once_makes_one_order(token):
    # when
    answers = _post_at_once(token, {})
    # then
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.json()["number"] for a in answers}) == 1
    assert Order.objects.count() == 1


def test_one_idempotency_key_posted_by_eight_clients_at_once_makes_one_order(token):
    # when
    answers = _post_at_once(token, {"HTTP_IDEMPOTENCY_KEY": "race-1"})
    # then
    assert {a.status_code for a in answers} <= {200, 201, 409}
    assert [a.status_code for a in answers].count(201) >= 1
    numbers = {a.json()["number"] for a in answers if a.status_code in (200, 201)}
    assert len(numbers) == 1
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.get().response_status == 201
