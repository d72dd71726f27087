"""A return from end to end, with a real Celery worker and a webhook receiver on this
machine: an order shipped, the customer starts a return on /track/, the store receives it,
customer service records the refund, and `return.refunded` arrives signed, once."""

import time

import pytest
from django.urls import reverse

from orders.models import OrderLine
from orders.tracking.links import tracking_token
from outbox.models import Delivery
from outbox.verify import signature_verify
from returns.models import Return
from tests.factories import StoreFactory
from tests.orders.helpers import product, stocked, warehouse
from tests.outbound.helpers import SECRET, subscribed
from tests.outbound.receiver import Receiver
from tests.returns.helpers import order_shipped
from tests.worker import wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def receiver(settings, monkeypatch):
    """A receiver on 127.0.0.1, which webhooks may reach only when allowed: here, and in
    the worker started after (it reads the environment)."""
    settings.OMS_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setenv("OMS_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")
    running = Receiver().start()
    yield running
    running.stop()


def test_a_refunded_return_reaches_the_payment_integration_signed_and_once(
    api, client, receiver, celery_worker_process
):
    # given: the payment integration listens to refunds; an order was shipped to Ada
    subscribed(receiver.url, events=["return.refunded"])
    tee = product("TEE-E2E")
    stocked(tee, warehouse("DC-PARIS", lat=48.86, lon=2.34), 5)
    StoreFactory(code="ST-RIVOLI", name="Paris Rivoli", lat=48.86, lon=2.34)
    order = order_shipped([(tee, 2, "19.90")])
    line = OrderLine.objects.get(order=order)

    # when: Ada starts a return of one unit on her tracking page, to bring to the store
    token = tracking_token(order.number)
    started = client.post(
        reverse("customer_returns:start", args=[token]),
        {
            f"quantity-{line.pk}": "1",
            f"reason-{line.pk}": "not_as_described",
            "method": "store",
            "store": "ST-RIVOLI",
        },
    )
    assert started.status_code == 302
    number = Return.objects.get().number

    # ... the store receives it back into stock
    received = api.post(
        reverse("return-receive", args=[number]),
        {
            "location": "ST-RIVOLI",
            "lines": [{"sku": "TEE-E2E", "quantity": 1, "disposition": "restock"}],
        },
        format="json",
    )
    assert received.status_code == 200, received.content
    # ... and customer service records the refund the OMS computes, then asks again
    refunded = api.post(reverse("return-refund", args=[number]), {}, format="json")
    again = api.post(reverse("return-refund", args=[number]), {}, format="json")

    # then: the refund is the unit and the delivery (the retailer's fault), recorded once
    assert refunded.status_code == again.status_code == 200
    assert refunded.json()["refund"] == {"amount": "24.80", "currency": "EUR", "status": "refunded"}

    # ... the worker delivers return.refunded to the receiver, signed with the secret
    wait_for(lambda: receiver.events("return.refunded"), timeout=30)
    time.sleep(3)  # a second delivery, if there were one, would have had time to arrive
    (delivered,) = receiver.events("return.refunded")
    assert signature_verify(delivered.body, delivered.headers, SECRET)
    assert not signature_verify(delivered.body, delivered.headers, "another-secret")
    data = delivered.json["data"]
    assert (data["number"], data["order"], data["status"]) == (number, order.number, "refunded")
    assert data["refund"] == {"amount": "24.80", "currency": "EUR", "status": "refunded"}
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
