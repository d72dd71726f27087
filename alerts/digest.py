"""Alert e-mails: one digest per person per interval, of the alerts opened since their last.

A person's `DigestReceipt` is claimed (locked, checked, moved forward) before the mail
goes: two runs at once send one mail, and a run that cannot send gives the claim back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from alerts.models import Alert, AlertPolicy, DigestReceipt
from alerts.recipients import digest_recipients

logger = logging.getLogger(__name__)

# A first digest reaches back this far.
FIRST_LOOKBACK = timedelta(days=1)
MAX_LISTED = 200


def alerts_digests_send(*, now: datetime | None = None) -> int:
    """Send each recipient the alerts opened since their last digest; return mails sent."""
    now = now or timezone.now()
    interval = timedelta(minutes=AlertPolicy.current().digest_interval_minutes)
    sent = 0
    User = get_user_model()  # a class, named as one
    recipients = digest_recipients()
    users = User.objects.in_bulk(list(recipients))
    for user_id, location_ids in sorted(recipients.items()):
        user = users.get(user_id)
        if user is None:
            continue
        if _digest_send_one(user=user, location_ids=location_ids, now=now, interval=interval):
            sent += 1
    return sent


def _waiting(*, location_ids, since: datetime, now: datetime):
    alerts = (
        Alert.objects.filter(status=Alert.Status.OPEN, opened_at__gt=since, opened_at__lte=now)
        .awake(now)
        .select_related("product", "location", "order")
        .order_by("location__code", "kind", "opened_at")
    )
    if location_ids is not None:
        alerts = alerts.filter(location_id__in=location_ids)
    return alerts


def _digest_send_one(*, user, location_ids, now: datetime, interval: timedelta) -> bool:
    with transaction.atomic(durable=True):
        receipt = DigestReceipt.objects.select_for_update().filter(user=user).first()
        if receipt is not None and receipt.sent_at > now - interval:
            return False  # one digest per interval
        since = receipt.sent_at if receipt else now - FIRST_LOOKBACK
        alerts = list(_waiting(location_ids=location_ids, since=since, now=now)[: MAX_LISTED + 1])
        if not alerts:
            return False
        previous = receipt.sent_at if receipt else None
        if receipt is None:
            receipt = DigestReceipt.objects.create(user=user, sent_at=now, alerts=len(alerts))
        else:
            receipt.sent_at, receipt.alerts = now, len(alerts)
            receipt.save(update_fields=["sent_at", "alerts"])
    try:
        _mail(user=user, alerts=alerts[:MAX_LISTED], more=len(alerts) > MAX_LISTED)
    except Exception:
        # Give the claim back: the next run sends these alerts.
        logger.exception("could not send the alert digest to %s", user.email)
        if previous is None:
            DigestReceipt.objects.filter(pk=receipt.pk, sent_at=now).delete()
        else:
            DigestReceipt.objects.filter(pk=receipt.pk, sent_at=now).update(sent_at=previous)
        return False
    return True


def _mail(*, user, alerts: list[Alert], more: bool) -> None:
    context = {
        "user": user,
        "alerts": alerts,
        "more": more,
        "public_url": settings.OMS_PUBLIC_URL,
    }
    places = sorted({alert.location.code for alert in alerts if alert.location_id})
    where = f" at {', '.join(places[:3])}{'…' if len(places) > 3 else ''}" if places else ""
    subject = f"[OMS] {len(alerts)}{'+' if more else ''} new alert(s){where}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("alerts/digest.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("alerts/digest.html", context), "text/html")
    message.send()
