"""The figures a scrape reads from the database and the broker, at the moment of the scrape.

Every web process answers the same (they read the same rows), so Prometheus may scrape any
of them; nothing is kept in a process that a restart would lose. Each query reads an index:
a scrape every 15 seconds must not weigh on the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from redis import Redis
from redis.exceptions import RedisError

from alerts.models import Alert
from outbox.models import Delivery, OutboxEvent

logger = logging.getLogger(__name__)

# kombu's Redis transport keeps a queue's messages of priority p > 0 under "<queue>\x06\x16<p>".
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)


class DomainCollector:
    def collect(self) -> Iterable[Metric]:
        try:
            yield from _outbox()
            yield from _alerts()
        except DatabaseError:
            # A scrape while the database is away says so by the missing series (and by
            # /healthz); it must not turn into a 500 that hides the process's own figures.
            logger.warning("metrics: the database did not answer; domain series left out")
        yield from _queues()


def _outbox() -> Iterable[Metric]:
    now = timezone.now()
    unsent = OutboxEvent.objects.filter(fanned_out=False).aggregate(
        count=Count("id"), oldest=Min("created_at")
    )
    waiting = Delivery.objects.filter(status__in=Delivery.WAITING).aggregate(
        count=Count("id"), oldest=Min("created_at")
    )
    dead = Delivery.objects.filter(status=Delivery.Status.DEAD).count()
    oldest = [at for at in (unsent["oldest"], waiting["oldest"]) if at is not None]
    lag = GaugeMetricFamily(
        "oms_outbox_lag_seconds",
        "Age of the oldest event not yet delivered to every subscriber (0: none waiting).",
    )
    lag.add_metric([], max(0.0, (now - min(oldest)).total_seconds()) if oldest else 0.0)
    yield lag
    yield GaugeMetricFamily(
        "oms_outbox_events_unsent",
        "Events written but not yet turned into deliveries by the relay.",
        value=unsent["count"],
    )
    yield GaugeMetricFamily(
        "oms_outbox_deliveries_waiting",
        "Deliveries not yet answered with a 2xx (pending or failed, to be retried).",
        value=waiting["count"],
    )
    yield GaugeMetricFamily(
        "oms_outbox_deliveries_dead",
        "Deliveries given up after their horizon without a 2xx.",
        value=dead,
    )


def _alerts() -> Iterable[Metric]:
    open_by_kind = dict(
        Alert.objects.unresolved().values_list("kind").annotate(count=Count("id")).order_by()
    )
    alerts = GaugeMetricFamily(
        "oms_alerts_open", "Alerts not resolved (open or acknowledged), by kind.", labels=["kind"]
    )
    for kind in Alert.Kind.values:
        alerts.add_metric([kind], open_by_kind.get(kind, 0))
    yield alerts
    # Each stock row whose counters disagree with its ledger holds one unresolved alert
    # until the nightly reconciliation finds it right again.
    yield GaugeMetricFamily(
        "oms_stock_drift_rows",
        "Stock rows the last reconciliation found drifting from their ledger.",
        value=open_by_kind.get(Alert.Kind.STOCK_DRIFT, 0),
    )


def _queues() -> Iterable[Metric]:
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    depth = GaugeMetricFamily(
        "oms_celery_queue_length", "Task messages waiting in the broker.", labels=["queue"]
    )
    length = _queue_length(queue)
    if length is not None:
        depth.add_metric([queue], length)
    yield depth


def _queue_length(queue: str) -> int | None:
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("redis://", "rediss://", "unix://")):
        try:
            client = Redis.from_url(broker, socket_timeout=1.0, socket_connect_timeout=1.0)
            try:
                names = [queue] + [f"{queue}{_PRIORITY_SEPARATOR}{p}" for p in _PRIORITY_STEPS[1:]]
                pipe = client.pipeline(transaction=False)
                for name in names:
                    pipe.llen(name)
                return sum(pipe.execute())
            finally:
                client.close()
        except RedisError:
            logger.warning("metrics: the broker did not answer; queue length left out")
            return None
    if broker == "filesystem://":
        folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
        return sum(1 for _ in folder.glob(f"*.{queue}.msg"))
    return None
