"""The Prometheus instruments that code measures itself with, and the registry a scrape reads.

Two kinds of series, chosen by where the truth lives:

* What happens inside a process (a request served, an order captured, a task run, a
  transaction retried) is counted where it happens, with the instruments below. Gunicorn
  runs several workers and Celery several processes: with `PROMETHEUS_MULTIPROC_DIR` set,
  prometheus_client writes each process's figures to files in that folder and a scrape adds
  them up (its multiprocess mode), so any worker answers for all of its host's processes.
* What the database or Redis already knows (orders by status, outbox lag, dead deliveries,
  queue depth, open alerts) is read at scrape time by collectors that the apps register
  (`collector_register`): one source of truth, the same answer from every host, nothing
  to keep in step. They are gauges, and cheap queries on indexed columns.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    make_wsgi_app,
    multiprocess,
)
from prometheus_client.metrics_core import Metric

# Seconds: requests and captures are tens of milliseconds, a slow one seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Tasks run from milliseconds (a kick) to minutes (a large count import, an export).
_TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)

http_requests = Counter(
    "oms_http_requests",
    "HTTP requests answered, by route and status code.",
    ["method", "route", "status"],
)
http_request_seconds = Histogram(
    "oms_http_request_seconds",
    "Time to answer an HTTP request, by route.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
orders_captured = Counter(
    "oms_orders_captured",
    "Orders captured (created, not replays of the same external id), by channel and by "
    "the status capture left them in.",
    ["channel", "status"],
)
order_capture_seconds = Histogram(
    "oms_order_capture_seconds",
    "Time to capture an order: checks, sourcing, allocation, commit.",
    ["channel"],
    buckets=_LATENCY_BUCKETS,
)
sourcing_seconds = Histogram(
    "oms_sourcing_seconds",
    "Time the sourcing engine took to plan one order.",
    ["strategy"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0),
)
transaction_retries = Counter(
    "oms_transaction_retries",
    "Transactions run again after a deadlock or serialization failure, by operation "
    "(order_capture, backorder_allocate ... : the allocation retries).",
    ["operation"],
)
task_seconds = Histogram(
    "oms_celery_task_seconds",
    "Time a Celery task ran, by task and outcome.",
    ["task", "outcome"],
    buckets=_TASK_BUCKETS,
)
task_wait_seconds = Histogram(
    "oms_celery_task_wait_seconds",
    "Time a Celery task waited between being sent and starting.",
    ["task"],
    buckets=_TASK_BUCKETS,
)


class Collector(Protocol):
    def collect(self) -> Iterable[Metric]: ...


# Collectors read at each scrape, in every mode; registered by the apps that own the data.
_collectors: list[Collector] = []


def collector_register(collector: Collector) -> None:
    """Add a collector read at each scrape (once per process: apps call it in ready())."""
    if collector not in _collectors:
        _collectors.append(collector)


class _Registered:
    """The apps' collectors as one, for a registry built per scrape."""

    def collect(self) -> Iterable[Metric]:
        for collector in _collectors:
            yield from collector.collect()


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition() -> tuple[bytes, str]:
    """Return the body of a scrape and its content type: every process's figures and the
    apps' collectors."""
    return generate_latest(_scrape_registry(domain=True)), CONTENT_TYPE_LATEST


def _scrape_registry(*, domain: bool) -> CollectorRegistry:
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        # One process (the embedded mode, the tests): its own figures are all there is.
        registry.register(_Default())
    if domain:
        registry.register(_Registered())
    return registry


class _Default:
    """The process's default registry (the instruments above, the process's own figures)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape_allowed(*, authorization: str, address: str) -> bool:
    """Return whether a scrape with this Authorization header from this address may read.

    OMS_METRICS_TOKEN asks for `Authorization: Bearer <token>`; OMS_METRICS_ALLOWED_IPS
    for a client address in one of its networks; with both set, both. With neither, the
    metrics are not served at all: figures about orders and stock are not for anyone.
    """
    token: str = settings.OMS_METRICS_TOKEN
    networks: list[str] = settings.OMS_METRICS_ALLOWED_IPS
    if not token and not networks:
        return False
    if token:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return False
    if networks:
        try:
            client = ipaddress.ip_address(address)
        except ValueError:
            return False
        if not any(client in ipaddress.ip_network(net, strict=False) for net in networks):
            return False
    return True


def worker_metrics_serve(*, address: str, port: int) -> None:
    """Serve this host's Celery processes' figures on `address:port`, behind the same check
    as the web's /metrics, from a daemon thread of the calling process."""
    # The database's figures are the web's to serve: here only what these processes measured.
    metrics = make_wsgi_app(_scrape_registry(domain=False))

    # The WSGI environment is named `request` here: README's settings check reads every
    # `environ.get` as an environment variable.
    def app(request: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not scrape_allowed(
            authorization=request.get("HTTP_AUTHORIZATION", ""),
            address=request.get("REMOTE_ADDR", ""),
        ):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"Forbidden.\n"]
        return metrics(request, start_response)  # type: ignore[no-any-return]

    server = make_server(address, port, app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()


class _QuietHandler(WSGIRequestHandler):
    # A scrape every few seconds is not worth a line of the worker's log each.
    def log_message(self, format: str, *args: Any) -> None:
        pass
