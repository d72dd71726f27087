"""/api/v1/webhooks/: subscribe, list, delete (docs/api.md "Webhooks")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Membership
from outbox.models import Delivery, WebhookSubscription
from outbox.relay import outbox_relay
from tests.factories import LocationFactory
from tests.outbound.helpers import an_order, subscribed

pytestmark = pytest.mark.django_db
URL = reverse("webhooks")
SECRET = "s3cret-of-the-3pl-0042"


def body(**changes) -> dict:
    return {
        "url": "https://3pl.example.com/oms",
        "secret": SECRET,
        "events": ["fulfilment.requested", "fulfilment.cancelled"],
        "location": "DC-LYON",
        **changes,
    }


def test_it_subscribes_a_url_and_never_shows_the_secret_back(api):
    # given
    lyon = LocationFactory(code="DC-LYON")

    # when
    response = api.post(URL, body(), format="json")

    # then
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["url"] == "https://3pl.example.com/oms"
    assert answer["events"] == ["fulfilment.cancelled", "fulfilment.requested"]
    assert answer["location"] == "DC-LYON"
    assert answer["secret"] == "…0042"
    assert SECRET not in response.content.decode()
    stored = WebhookSubscription.objects.get(pk=answer["id"])
    assert (stored.secret, stored.location, stored.active) == (SECRET, lyon, True)


def test_a_subscription_without_a_location_gets_every_location(api):
    response = api.post(URL, body(location=None, events=["order.created"]), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["location"] is None
    assert WebhookSubscription.objects.get().location is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://3pl.example.com/x"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["order.exploded"]}, "events"),
        ({"events": "order.created"}, "events"),
        ({"location": "NOWHERE"}, "location"),
        ({"secret": "short"}, "secret"),
        ({"secret": None}, "secret"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api, changes, field):
    # given
    LocationFactory(code="DC-LYON")

    # when
    response = api.post(URL, body(**changes), format="json")

    # then
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not WebhookSubscription.objects.exists()


def test_it_lists_subscriptions_and_deletes_one_with_its_deliveries(api, receiver):
    # given
    kept = subscribed("https://erp.example.com/hooks", events=["order.created"])
    gone = subscribed(receiver.url, events=["order.created"])
    receiver.status = 500
    an_order()
    outbox_relay()
    assert Delivery.objects.filter(subscription=gone).exists()

    # when
    listed = api.get(URL)
    deleted = api.delete(reverse("webhook-detail", args=[gone.pk]))

    # then
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["results"]] == [kept.pk, gone.pk]
    assert all("secret" in s and len(s["secret"]) <= 5 for s in listed.json()["results"])
    assert deleted.status_code == 204
    assert list(WebhookSubscription.objects.all()) == [kept]
    assert not Delivery.objects.filter(subscription_id=gone.pk).exists()
    assert api.delete(reverse("webhook-detail", args=[gone.pk])).status_code == 404
    assert api.delete(reverse("webhook-detail", args=[2**64])).status_code == 404


def test_the_same_idempotency_key_subscribes_once(api):
    # when
    headers = {"HTTP_IDEMPOTENCY_KEY": "sub-1"}
    first = api.post(URL, body(location=None), format="json", **headers)
    again = api.post(URL, body(location=None), format="json", **headers)

    # then
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert WebhookSubscription.objects.count() == 1


def test_a_3pl_token_manages_only_its_own_locations_subscriptions(api, user):
    # given: the API user works for the Lyon 3PL
    lyon, paris = LocationFactory(code="DC-LYON"), LocationFactory(code="DC-PARIS")
    Membership.objects.create(user=user, location=lyon)
    other = subscribed("https://paris.example.com/hooks", location=paris)

    # when
    everything = api.post(URL, body(location=None), format="json")
    not_mine = api.post(URL, body(location="DC-PARIS"), format="json")
    mine = api.post(URL, body(location="DC-LYON"), format="json")

    # then
    assert (everything.status_code, not_mine.status_code, mine.status_code) == (400, 400, 201)
    assert "location" in everything.json()["errors"]
    assert [s["id"] for s in api.get(URL).json()["results"]] == [mine.json()["id"]]
    assert api.delete(reverse("webhook-detail", args=[other.pk])).status_code == 404
    assert WebhookSubscription.objects.filter(pk=other.pk).exists()


def test_anonymous_callers_are_refused(anonymous_api):
    assert anonymous_api.get(URL).status_code in (401, 403)
    assert anonymous_api.post(URL, body(), format="json").status_code in (401, 403)
