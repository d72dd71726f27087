"""The Idempotency-Key header on the inventory POST endpoints (core.api.idempotency)."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.api.idempotency import idempotency_records_purge
from core.models import IdempotencyRecord
from inventory.models import Product, StockLevel, StockMovement
from tests.factories import LocationFactory, ProductFactory

MOVEMENTS = reverse("stock-movements")
RECEIPT = {"sku": "SHIRT", "location": "DC", "kind": "receipt", "quantity": 5}


def _client(username: str) -> APIClient:
    user = get_user_model().objects.create_user(username=username)
    user.groups.add(Group.objects.get(name="integration"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def place():
    return ProductFactory(sku="SHIRT"), LocationFactory(code="DC")


def _on_hand() -> int:
    return StockLevel.objects.get(product__sku="SHIRT", location__code="DC").on_hand


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_first_answer_and_moves_once(api, place):
    # given
    first = api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="rcpt-1")
    # when
    again = api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="rcpt-1")
    # then
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _on_hand() == 5
    assert StockMovement.objects.count() == 1


@pytest.mark.django_db
def test_the_same_body_with_keys_in_another_order_is_the_same_request(api, place):
    # given
    api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="k")
    reordered = b'{"quantity": 5, "kind": "receipt", "location": "DC", "sku": "SHIRT"}'
    # when
    again = api.post(
        MOVEMENTS, reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    # then
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _on_hand() == 5


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_409(api, place):
    # given
    api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="k")
    # when
    response = api.post(
        MOVEMENTS, {**RECEIPT, "quantity": 6}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    # then
    assert response.status_code == 409
    assert list(response.json()["errors"]) == ["idempotency_key"]
    assert _on_hand() == 5


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_is_a_409(api, place):
    # given
    api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="k")
    # when
    response = api.post(
        reverse("products"), {"sku": "NEW", "name": "New"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    # then
    assert response.status_code == 409
    assert not Product.objects.filter(sku="NEW").exists()


@pytest.mark.django_db
def test_two_users_with_the_same_key_are_independent(place):
    # given
    alice, bob = _client("alice"), _client("bob")
    # when
    first = alice.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    second = bob.post(
        MOVEMENTS, {**RECEIPT, "quantity": 7}, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    # then
    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second.headers
    assert _on_hand() == 12
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


@pytest.mark.django_db
def test_a_refused_request_is_replayed_too(api, place):
    # given: a damage of more than is on hand
    damage = {**RECEIPT, "kind": "damage"}
    first = api.post(MOVEMENTS, damage, format="json", HTTP_IDEMPOTENCY_KEY="d")
    api.post(MOVEMENTS, RECEIPT, format="json")
    # when
    again = api.post(MOVEMENTS, damage, format="json", HTTP_IDEMPOTENCY_KEY="d")
    # then: the answer the key got stays its answer
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _on_hand() == 5


@pytest.mark.django_db
def test_product_and_location_creation_are_idempotent(api):
    # given
    location = {"code": "DC", "name": "DC", "kind": "warehouse", "lat": 1.0, "lon": 2.0}
    product = {"sku": "P", "name": "P"}
    # when
    answers = [
        api.post(reverse(name), body, format="json", HTTP_IDEMPOTENCY_KEY=f"create-{name}")
        for name, body in [("products", product), ("locations", location)] * 2
    ]
    # then: the retries are the first 201s, not 400 "already exists"
    assert [a.status_code for a in answers] == [201, 201, 201, 201]
    assert answers[2].json() == answers[0].json()
    assert answers[3].headers["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "clé-accentuée"])
def test_a_malformed_key_is_a_400_on_idempotency_key(api, place, key):
    # when
    response = api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY=key)
    # then
    assert response.status_code == 400
    assert "idempotency_key" in response.json()["errors"]
    assert not StockMovement.objects.exists()


@pytest.mark.django_db
def test_a_request_still_in_progress_is_a_409_with_retry_after(api, place, user, settings):
    # given: a claim taken a moment ago by a request that is still running
    settings.OMS_IDEMPOTENCY_WAIT_SECONDS = 0
    first = api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    IdempotencyRecord.objects.filter(key="busy").update(response_status=None, response_body="")
    # when
    response = api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    # then
    assert first.status_code == 201
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert _on_hand() == 5


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_is_taken_over_and_the_ledger_does_not_repeat(
    api, place, settings
):
    # given: the movement was written, but the worker died before storing the answer
    api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="crash")
    long_ago = timezone.now() - timedelta(minutes=10)
    IdempotencyRecord.objects.filter(key="crash").update(
        response_status=None, response_body="", claimed_at=long_ago
    )
    # when
    response = api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="crash")
    # then
    assert response.status_code == 201
    assert _on_hand() == 5
    assert StockMovement.objects.count() == 1
    assert IdempotencyRecord.objects.get(key="crash").response_status == 201


@pytest.mark.django_db
def test_records_past_their_time_to_live_are_purged_and_no_longer_replay(api, place):
    # given
    api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    # when
    purged = idempotency_records_purge()
    again = api.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="old")
    # then
    assert purged.rows == 1
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_twins_with_one_key_move_stock_once():
    # given
    assert connection.vendor == "postgresql"
    ProductFactory(sku="SHIRT")
    LocationFactory(code="DC")
    user = get_user_model().objects.create_user(username="twin")
    user.groups.add(Group.objects.get(name="integration"))
    token = Token.objects.create(user=user).key
    barrier = threading.Barrier(6)
    answers, errors = [], []

    def post():
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            barrier.wait()
            answers.append(
                client.post(MOVEMENTS, RECEIPT, format="json", HTTP_IDEMPOTENCY_KEY="twin")
            )
        except BaseException as error:  # asserted on below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(6)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert errors == []
    assert sorted(a.status_code for a in answers) == [201] * 6
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 5
    assert len({a.content for a in answers}) == 1
    assert _on_hand() == 5
    assert StockMovement.objects.count() == 1
