"""Alert e-mails: to the location's staff, at most one per person per interval."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Membership
from alerts.digest import alerts_digests_send
from alerts.models import Alert, DigestReceipt
from alerts.services import alert_snooze, alerts_evaluate_stock
from tests.alerts.helpers import set_available
from tests.factories import LocationFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(global_threshold):
    paris, lyon = LocationFactory(code="PARIS"), LocationFactory(code="LYON")
    paris_staff = UserFactory(username="paula", email="paula@example.com")
    lyon_staff = UserFactory(username="leo", email="leo@example.com")
    Membership.objects.create(user=paris_staff, location=paris)
    Membership.objects.create(user=lyon_staff, location=lyon)
    return {"paris": paris, "lyon": lyon, "paula": paris_staff, "leo": lyon_staff}


def test_each_location_s_staff_get_their_alerts_in_one_e_mail(places):
    # given: two alerts at PARIS, none at LYON
    for sku in ("TEE", "CAP"):
        set_available(ProductFactory(sku=sku), places["paris"], 1)
    alerts_evaluate_stock()

    # when
    sent = alerts_digests_send()

    # then
    assert sent == 1
    (message,) = mail.outbox
    assert message.to == ["paula@example.com"]
    assert "2 new alert(s) at PARIS" in message.subject
    assert "TEE" in message.body and "CAP" in message.body and "available: 1" in message.body
    assert "/console/alerts/" in message.body
    assert DigestReceipt.objects.get(user=places["paula"]).alerts == 2


def test_no_second_e_mail_within_the_interval_then_only_the_new_alerts(places):
    # given: a first digest
    now = timezone.now()
    set_available(ProductFactory(sku="TEE"), places["paris"], 1)
    alerts_evaluate_stock(now=now)
    alerts_digests_send(now=now)
    set_available(ProductFactory(sku="CAP"), places["paris"], 1)
    alerts_evaluate_stock(now=now + timedelta(minutes=5))

    # when: ten minutes later (interval 60), then seventy
    early = alerts_digests_send(now=now + timedelta(minutes=10))
    later = alerts_digests_send(now=now + timedelta(minutes=70))

    # then
    assert (early, later) == (0, 1)
    assert len(mail.outbox) == 2
    second = mail.outbox[1]
    assert "CAP" in second.body and "TEE" not in second.body


def test_snoozed_alerts_and_alerts_without_a_place_go_where_they_belong(places, staff_user):
    # given: a snoozed PARIS alert and a network-level one
    set_available(ProductFactory(sku="TEE"), places["paris"], 1)
    alerts_evaluate_stock()
    alert_snooze(alert=Alert.objects.get(), until=timezone.now() + timedelta(days=1), actor=None)
    Alert.objects.create(
        kind=Alert.Kind.BACKORDER, subject="1", opened_at=timezone.now(), details={"order": "X"}
    )

    # when
    alerts_digests_send()

    # then: head office (staff with no membership) hears of the backorder; Paula of nothing
    assert [m.to for m in mail.outbox] == [[staff_user.email]]
    assert "Backorder" in mail.outbox[0].body
