"""Request bodies are capped per endpoint and refused before they are read (core/limits.py)."""

from __future__ import annotations

import io
import json
import socket
import threading

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token

from core.limits import API_MAX_OBJECTS, COUNT_MAX_OBJECTS
from inventory.api.counts import MAX_LINES as COUNT_MAX_LINES
from inventory.models import StockCountImport, StockLevel, StockMovement
from orders.api.serializers import MAX_LINES as ORDER_MAX_LINES
from orders.models import Order
from tests.core.appserver import app_server_start
from tests.orders.helpers import product, stocked, warehouse

COUNTS = "/api/v1/stock/counts/"
ORDERS = "/api/v1/orders/"
MB = 1024 * 1024


def _count_body(lines: int) -> bytes:
    rows = ",".join('{"sku":"TEE-1","quantity":5}' for _ in range(lines))
    return f'{{"location":"DC-PARIS","lines":[{rows}]}}'.encode()


def _order_body(lines: int) -> dict:
    return {
        "channel": "web",
        "external_id": "W-HUGE",
        "customer": {"email": "a@example.com", "name": "Ada"},
        "shipping_address": {
            "line1": "1 rue",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
        },
        "delivery_method": "standard",
        "currency": "EUR",
        "lines": [{"sku": f"SKU-{n}", "quantity": 1, "unit_price": "1.00"} for n in range(lines)],
    }


def test_the_object_caps_cover_the_longest_legitimate_lists():
    assert COUNT_MAX_OBJECTS > COUNT_MAX_LINES
    assert API_MAX_OBJECTS > ORDER_MAX_LINES + 10


@pytest.mark.django_db
def test_a_58_mb_body_on_an_api_path_is_refused_with_json_413_before_it_is_read(api):
    # given: a declared length of 58 MB and a body the test client would refuse to read past
    # its few bytes (FakePayload): reading it at all would fail the request
    declared = str(58 * MB)

    # when
    for path in (ORDERS, COUNTS, "/api/v1/products/", "/api/v1/no-such-endpoint/"):
        response = api.generic(
            "POST", path, b"{}", content_type="application/json", CONTENT_LENGTH=declared
        )

        # then
        assert response.status_code == 413, (path, response.content[:300])
        assert response["Content-Type"] == "application/json"
        assert "at most" in response.json()["detail"]


@pytest.mark.django_db
def test_a_body_over_the_cap_on_a_page_is_refused_with_413(client):
    response = client.generic("POST", reverse("admin:login"), b"", CONTENT_LENGTH=str(60 * MB))
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_an_order_with_10000_lines_is_refused_while_parsing_and_nothing_is_made(api):
    # when
    response = api.post(ORDERS, _order_body(10_000), format="json")

    # then
    assert response.status_code == 413, response.content[:300]
    assert "objects" in response.json()["detail"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_an_order_over_its_line_limit_but_under_the_object_cap_is_a_400_on_lines(api):
    response = api.post(ORDERS, _order_body(ORDER_MAX_LINES + 1), format="json")
    assert response.status_code == 400
    assert "lines" in response.json()["errors"]
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_count_with_more_lines_than_its_cap_is_refused_while_parsing(api, settings):
    # given
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 3)
    movements = StockMovement.objects.count()

    # when
    response = api.generic(
        "POST", COUNTS, _count_body(COUNT_MAX_LINES + 1), content_type="application/json"
    )

    # then
    assert response.status_code == 413, response.content[:300]
    assert StockMovement.objects.count() == movements
    assert StockLevel.objects.get().on_hand == 3


@pytest.mark.django_db
def test_a_count_file_over_the_count_cap_is_refused_with_413(api, settings):
    # given
    settings.OMS_STOCK_COUNT_MAX_BODY_BYTES = 64 * 1024
    rows = "".join(f"SKU-{n},DC-PARIS,1\n" for n in range(10_000))
    upload = SimpleUploadedFile("count.csv", f"sku,location,quantity\n{rows}".encode())

    # when
    response = api.post(COUNTS, {"file": upload}, format="multipart")

    # then
    assert response.status_code == 413
    assert not StockCountImport.objects.exists()


@pytest.mark.django_db
def test_a_count_under_the_cap_larger_than_other_api_bodies_is_applied(api, settings):
    # given: a count body above the general API cap, within the count's own
    settings.OMS_API_MAX_BODY_BYTES = 1024
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 3)
    body = json.dumps(
        {"location": "DC-PARIS", "lines": [{"sku": "TEE-1", "quantity": 7}], "pad": "x" * 4000}
    )

    # when
    response = api.generic("POST", COUNTS, body, content_type="application/json")

    # then
    assert response.status_code == 201, response.content[:500]
    assert StockLevel.objects.get().on_hand == 7


@pytest.mark.django_db
def test_a_chunked_body_is_counted_while_read_and_cut_at_the_cap(api, settings):
    # given: a body without a length, as a server that decodes chunked bodies passes it on
    settings.OMS_API_MAX_BODY_BYTES = 4096
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 3)

    def chunked(body: bytes):
        return api.generic(
            "POST",
            COUNTS if len(body) < 4096 else ORDERS,
            b"",
            content_type="application/json",
            CONTENT_LENGTH="",
            HTTP_TRANSFER_ENCODING="chunked",
            **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
        )

    # when
    refused = chunked(json.dumps(_order_body(200)).encode())
    applied = chunked(_count_body(1))

    # then
    assert refused.status_code == 413
    assert refused.json()["detail"].startswith("The body is larger")
    assert not Order.objects.exists()
    assert applied.status_code == 201, applied.content[:500]
    assert StockLevel.objects.get().on_hand == 5


# Through a real server: gunicorn with the project's configuration.


@pytest.fixture
def server(transactional_db, tmp_path):
    running = app_server_start(tmp_path, OMS_STOCK_COUNT_MAX_BODY_BYTES=str(2 * MB))
    yield running
    running.stop()


def _oversize_post(port: int, token: str, declared: int) -> int:
    """Send the head of a count of `declared` bytes and its first 64 KB; return the status
    the server answers without waiting for the rest."""
    head = (
        f"POST {COUNTS} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head + _count_body(2500)[: 64 * 1024])
        answer = conn.makefile("rb").readline()
    return int(answer.split()[1])


def test_parallel_oversize_counts_are_refused_and_healthz_answers_meanwhile(server, user):
    # given
    token = Token.objects.create(user=user).key
    stocked(product("TEE-1"), warehouse("DC-PARIS"), 3)
    movements = StockMovement.objects.count()
    statuses: list[int] = []
    health: list[int] = []

    def post() -> None:
        statuses.append(_oversize_post(server.port, token, 48 * MB))

    def check() -> None:
        health.append(requests.get(f"{server.url}/healthz", timeout=30).status_code)

    # when
    threads = [threading.Thread(target=post) for _ in range(4)]
    threads.append(threading.Thread(target=check))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    assert statuses == [413] * 4
    assert health == [200]
    assert StockMovement.objects.count() == movements
    assert not StockCountImport.objects.exists()
    assert StockLevel.objects.get().on_hand == 3


def test_a_chunked_count_over_the_cap_is_cut_by_the_server(server, user):
    # given
    token = Token.objects.create(user=user).key

    def chunks():
        for _ in range(64):  # 64 x 64 KB: twice the count cap of this server
            yield b"x" * 64 * 1024

    # when
    response = requests.post(
        f"{server.url}{COUNTS}",
        data=chunks(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        timeout=30,
    )

    # then
    assert response.status_code == 413
    assert response.json()["detail"].startswith("The body is larger")
