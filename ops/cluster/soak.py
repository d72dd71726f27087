"""The soak: a busy day through the load balancer while hosts die and services restart.

Clients (threads on the machine's end of the bridge) capture orders, and warehouses accept
and ship their fulfilment requests, all through HAProxy with an Idempotency-Key on every
POST, retried as the API documents: the same key and body until an answer that is not a
5xx or a broken connection. Meanwhile the harness kills an app host, kills a worker host,
restarts Redis and restarts the primary PostgreSQL, one after another. A webhook receiver
counts each event id it is sent. At the end `soak_check` answers: no order lost or doubled,
no unit promised twice, every ledger balanced (stock_reconcile), every event delivered,
the resident memory of every process flat after warm-up, and the errors clients saw during
each fault with the time each took to heal.

    python -m ops.cluster.soak --minutes 30     # with the deployment up (make cluster-up)
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from ops.cluster import cluster

WEBHOOK_EVENTS = [
    "order.created",
    "order.cancelled",
    "order.shipped",
    "fulfilment.requested",
    "fulfilment.cancelled",
]
WAREHOUSES = [("SOAK-DC-PARIS", 48.86, 2.35), ("SOAK-DC-LYON", 45.76, 4.84)]
STORES = [("SOAK-ST-LILLE", 50.63, 3.06), ("SOAK-ST-NANTES", 47.22, -1.55)]
SKUS = [f"SOAK-{number:03d}" for number in range(40)]
# Enough that the day rarely runs out; a line that finds none is backordered, also fine.
UNITS_RECEIVED = 5000
# Each answer a client waits for; a request longer than gunicorn's timeout is not coming.
CLIENT_TIMEOUT = 35.0
# A client gives up on one request after this long of failed attempts (reported as lost).
GIVE_UP_AFTER = 180.0


# -- The webhook receiver ---------------------------------------------------------------


class Receiver:
    """An HTTP server that plays a subscriber: checks each delivery's signature, counts ids."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.seen: Counter[str] = Counter()
        self.kinds: dict[str, str] = {}
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(
                    self.headers.get("X-OMS-Signature", ""), f"sha256={expected}"
                ):
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                envelope = json.loads(body)
                with receiver.lock:
                    receiver.seen[envelope["id"]] += 1
                    receiver.kinds[envelope["id"]] = envelope["event"]
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((cluster.GATEWAY, cluster.RECEIVER_PORT), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{cluster.GATEWAY}:{cluster.RECEIVER_PORT}/oms-events"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- Clients -----------------------------------------------------------------------------


@dataclass
class Attempt:
    at: float
    what: str
    # The HTTP status, or the name of the connection error.
    outcome: str
    ok: bool


@dataclass
class Journal:
    """What the clients did and saw, shared by their threads."""

    attempts: list[Attempt] = field(default_factory=list)
    orders_acknowledged: set[str] = field(default_factory=set)
    orders_given_up: set[str] = field(default_factory=set)
    shipped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, what: str, outcome: str, ok: bool) -> None:
        with self.lock:
            self.attempts.append(Attempt(time.monotonic(), what, outcome, ok))


class Client:
    def __init__(self, token: str, journal: Journal) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.journal = journal

    def post(self, path: str, body: dict[str, Any], *, what: str) -> requests.Response | None:
        """POST with one Idempotency-Key, retried through failures; None if it never worked."""
        key = str(uuid.uuid4())
        begun = time.monotonic()
        delay = 0.2
        while True:
            try:
                answer = self.session.post(
                    cluster.LB_URL + path,
                    json=body,
                    headers={"Idempotency-Key": key},
                    timeout=CLIENT_TIMEOUT,
                )
            except requests.RequestException as error:
                self.journal.record(what, type(error).__name__, ok=False)
            else:
                # Retried: 5xx, 429, and the 409 that says the first request with this key is
                # still running (with Retry-After; its claim is kept until it answers, or for
                # OMS_IDEMPOTENCY_STALE_SECONDS if its process died). Any other answer is
                # final: a 409 there is the domain's (the order was cancelled meanwhile).
                code = answer.status_code
                if (
                    code < 500
                    and code != 429
                    and not (code == 409 and "Retry-After" in answer.headers)
                ):
                    self.journal.record(what, str(code), ok=code < 400 or code == 409)
                    return answer
                self.journal.record(
                    what, f"{code} in progress" if code == 409 else str(code), ok=False
                )
            if time.monotonic() - begun > GIVE_UP_AFTER:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def get(self, path: str, *, what: str) -> requests.Response | None:
        try:
            answer = self.session.get(cluster.LB_URL + path, timeout=CLIENT_TIMEOUT)
        except requests.RequestException as error:
            self.journal.record(what, type(error).__name__, ok=False)
            return None
        self.journal.record(what, str(answer.status_code), ok=answer.ok)
        return answer if answer.ok else None


def catalogue_create(client: Client, receiver: Receiver | None) -> None:
    """The soak's own network: two warehouses, two stores, 40 products in stock everywhere;
    and the receiver's webhook subscription, given one."""
    for code, lat, lon in WAREHOUSES + STORES:
        kind = "warehouse" if (code, lat, lon) in WAREHOUSES else "store"
        answer = client.post(
            "/api/v1/locations/",
            {
                "code": code,
                "name": code.title(),
                "kind": kind,
                "lat": lat,
                "lon": lon,
                "ships": True,
                "click_and_collect": kind == "store",
                "priority": 1,
                "shipment_cost": "5.00",
                "cost_per_km": "0.01",
                "unit_cost": "0.50",
                "processing_days": 0,
                "cutoff_time": "23:59",
            },
            what="setup",
        )
        _expect(answer, "a location")
    for sku in SKUS:
        _expect(client.post("/api/v1/products/", {"sku": sku, "name": sku}, what="setup"), sku)
        for code, *_ in WAREHOUSES + STORES:
            answer = client.post(
                "/api/v1/stock/movements/",
                {
                    "sku": sku,
                    "location": code,
                    "kind": "receipt",
                    "quantity": UNITS_RECEIVED,
                    "reference": "soak opening stock",
                },
                what="setup",
            )
            _expect(answer, f"stock of {sku} at {code}")
    if receiver is None:
        return
    answer = client.post(
        "/api/v1/webhooks/",
        {"url": receiver.url, "secret": receiver.secret.decode(), "events": WEBHOOK_EVENTS},
        what="setup",
    )
    _expect(answer, "the webhook subscription")


def _expect(answer: requests.Response | None, what: str) -> None:
    if answer is None or answer.status_code not in (200, 201):
        detail = "no answer" if answer is None else f"{answer.status_code} {answer.text[:300]}"
        raise RuntimeError(f"The soak could not create {what}: {detail}")


def shopper(client: Client, stop: threading.Event, rate: float, number: int) -> None:
    """Place orders at `rate` per second, each retried until it is answered."""
    rng = random.Random(number)
    sequence = 0
    while not stop.is_set():
        begun = time.monotonic()
        sequence += 1
        external_id = f"SOAK-{number}-{sequence}"
        lat, lon = rng.uniform(43.3, 50.6), rng.uniform(-1.5, 7.2)
        body = {
            "channel": "web",
            "external_id": external_id,
            "customer": {"email": f"soak{number}@example.com", "name": "Soak Shopper"},
            "shipping_address": {
                "line1": "1 rue du Test",
                "city": "Paris",
                "postcode": "75001",
                "country": "FR",
                "lat": round(lat, 4),
                "lon": round(lon, 4),
            },
            "delivery_method": "standard",
            "currency": "EUR",
            "lines": [
                {"sku": sku, "quantity": rng.randint(1, 3), "unit_price": "19.90"}
                for sku in rng.sample(SKUS, rng.randint(1, 3))
            ],
        }
        answer = client.post("/api/v1/orders/", body, what="order")
        with client.journal.lock:
            if answer is not None and answer.status_code in (200, 201):
                client.journal.orders_acknowledged.add(external_id)
            else:
                client.journal.orders_given_up.add(external_id)
        if answer is not None and answer.status_code in (200, 201) and rng.random() < 0.05:
            client.post(f"/api/v1/orders/{answer.json()['number']}/cancel/", {}, what="cancel")
        stop.wait(max(0.0, 1.0 / rate - (time.monotonic() - begun)))


def warehouse(client: Client, stop: threading.Event) -> None:
    """Accept and ship what is requested, as a warehouse's system would, every few seconds."""
    while not stop.is_set():
        answer = client.get("/api/v1/fulfilments/?status=requested&page_size=50", what="list")
        for request in (answer.json()["results"] if answer is not None else [])[:20]:
            if stop.is_set():
                break
            accepted = client.post(
                f"/api/v1/fulfilments/{request['id']}/accept/", {}, what="accept"
            )
            if accepted is None or accepted.status_code != 200:
                continue
            shipped = client.post(
                f"/api/v1/fulfilments/{request['id']}/ship/",
                {"carrier": "soak-post", "tracking_number": f"TRK{request['id']}"},
                what="ship",
            )
            if shipped is not None and shipped.status_code == 200:
                with client.journal.lock:
                    client.journal.shipped += 1
        stop.wait(2.0)


# -- Resident memory ----------------------------------------------------------------------


class MemoryWatch:
    """Samples the private resident memory (RssAnon: shared buffers are not the process's
    growth) of every process in every host's namespace."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        # pid -> (host, command, [(at, kib)])
        self.samples: dict[int, tuple[str, str, list[tuple[float, int]]]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            for host in cluster.HOSTS:
                for value in cluster.host_pids(host):
                    kib = _rss_anon(value)
                    if kib is None:
                        continue
                    if value not in self.samples:
                        self.samples[value] = (host, _command(value), [])
                    self.samples[value][2].append((now, kib))
            self.stop.wait(self.interval)

    def growth(self, warm_up: float, least: float) -> list[tuple[str, str, int, int, int, float]]:
        """(host, command, pid, KiB after warm-up, KiB at the end, growth) of each process
        that lived at least `least` seconds beyond its warm-up."""
        rows = []
        for value, (host, command, points) in self.samples.items():
            born = points[0][0]
            later = [point for point in points if point[0] >= born + warm_up]
            if not later or later[-1][0] - later[0][0] < least:
                continue
            first, last = later[0][1], later[-1][1]
            rows.append((host, command, value, first, last, (last - first) / max(first, 1)))
        return sorted(rows)


def _rss_anon(value: int) -> int | None:
    try:
        for line in Path(f"/proc/{value}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _command(value: int) -> str:
    try:
        words = Path(f"/proc/{value}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(word.decode(errors="replace") for word in words if word)
    return text[:90]


# -- Faults -------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    at: float
    # Filled as it runs: when it began, and when what it broke was back.
    began: float = 0.0
    restored: float = 0.0


def _app_host_kill() -> None:
    cluster.host_kill("app1")


def _app_host_back() -> None:
    cluster.start("app1")


def _worker_host_kill() -> None:
    cluster.host_kill("worker1")


def _worker_host_back() -> None:
    cluster.start("worker1")


def _redis_restart() -> None:
    cluster.stop("redis")
    cluster.start("redis")
    cluster.wait_for_port(cluster.HOSTS["db"], cluster.REDIS_PORT)


def _primary_restart() -> None:
    # A fast shutdown (what `systemctl restart postgresql` does): sessions are cut.
    cluster.stop("postgres-primary", sig=signal.SIGINT)
    cluster.start("postgres-primary")
    cluster.wait_for_postgres("db")


FAULTS = {
    "app host killed": (_app_host_kill, _app_host_back),
    "worker host killed": (_worker_host_kill, _worker_host_back),
    "Redis restarted": (_redis_restart, None),
    "primary PostgreSQL restarted": (_primary_restart, None),
}


# -- The run ------------------------------------------------------------------------------


@dataclass
class SoakResult:
    seconds: float
    orders_acknowledged: int
    orders_given_up: int
    shipped: int
    attempts: int
    failed_attempts: int
    faults: list[dict[str, object]]
    checks: dict[str, object]
    figures: dict[str, object]
    memory: list[tuple[str, str, int, int, int, float]]

    @property
    def problems(self) -> list[str]:
        return [name for name, value in self.checks.items() if value is not True]


def soak_run(
    *,
    seconds: float,
    warm_up: float,
    shoppers: int = 3,
    rate: float = 2.0,
    drain_seconds: float = 240.0,
    say: Callable[[str], object] = print,
) -> SoakResult:
    """Drive the deployment (already up) for `seconds`: `warm_up` seconds of load, then the
    four faults one after another until three quarters of the run, then steady load to the
    end; drain what is queued, and check."""
    secret = uuid.uuid4().hex
    receiver = Receiver(secret)
    receiver.start()
    journal = Journal()
    token = cluster.manage("create_api_token", "soak", "--role", "administrator").strip()
    setup = Client(token, journal)
    catalogue_create(setup, receiver)
    journal.attempts.clear()
    say("catalogue ready; load starts")

    memory = MemoryWatch(interval=5.0)
    memory.thread.start()
    stop = threading.Event()
    threads = [
        threading.Thread(target=shopper, args=(Client(token, journal), stop, rate, number))
        for number in range(shoppers)
    ] + [threading.Thread(target=warehouse, args=(Client(token, journal), stop))]
    begun = time.monotonic()
    for thread in threads:
        thread.start()

    spacing = max(10.0, (seconds * 0.75 - warm_up) / len(FAULTS))
    faults = [Fault(name, at=warm_up + spacing * index) for index, name in enumerate(FAULTS)]
    try:
        for fault in faults:
            time.sleep(max(0.0, begun + fault.at - time.monotonic()))
            breaker, mender = FAULTS[fault.name]
            say(f"{time.monotonic() - begun:6.0f} s  {fault.name}")
            fault.began = time.monotonic()
            breaker()
            if mender is not None:
                # The dead host comes back after a while (replaced, rebooted).
                time.sleep(min(20.0, spacing / 4))
                mender()
            fault.restored = time.monotonic()
            if fault.name == "app host killed":
                while (
                    cluster.haproxy_servers().get("app1") != "UP"
                    and time.monotonic() - fault.began < 120
                ):
                    time.sleep(0.2)
                fault.restored = time.monotonic()
        time.sleep(max(0.0, begun + seconds - time.monotonic()))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    ran = time.monotonic() - begun
    say(f"{ran:6.0f} s  load stopped; draining")

    checks: dict[str, object] = {}
    figures: dict[str, object] = {}
    outbox_drained = _drain(drain_seconds)
    memory.stop.set()
    memory.thread.join()
    _checks_database(journal, receiver, checks, figures, outbox_drained)
    receiver.stop()
    rows = memory.growth(warm_up=warm_up, least=warm_up)
    # A PostgreSQL backend of ~10 MiB fills its catalog and plan caches for a while: a MiB
    # more is 10 % of it and no leak. Growth counts from 4 MiB on, which for the Python
    # processes (100-200 MiB) is far below their 10 %.
    grown = [row for row in rows if row[5] >= 0.10 and row[4] - row[3] > 4096]
    checks["resident memory flat (< 10 % after warm-up)"] = not grown or [
        f"{host} {command} {first}→{last} KiB" for host, command, _, first, last, _ in grown
    ]
    return SoakResult(
        seconds=ran,
        orders_acknowledged=len(journal.orders_acknowledged),
        orders_given_up=len(journal.orders_given_up),
        shipped=journal.shipped,
        attempts=len(journal.attempts),
        failed_attempts=sum(1 for attempt in journal.attempts if not attempt.ok),
        faults=_fault_report(faults, journal, begun),
        checks=checks,
        figures=figures,
        memory=rows,
    )


def _drain(seconds: float) -> bool:
    """Wait until every delivery of the soak's subscription is delivered (or dead)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pending = cluster.psql(
            "SELECT (SELECT count(*) FROM fulfilment_delivery WHERE status NOT IN "
            "('delivered', 'dead')) + (SELECT count(*) FROM fulfilment_outboxevent "
            "WHERE NOT fanned_out)",
            database=cluster.DB_NAME,
        )
        if pending == "0":
            return True
        time.sleep(2)
    return False


def _checks_database(
    journal: Journal,
    receiver: Receiver,
    checks: dict[str, object],
    figures: dict[str, object],
    outbox_drained: bool,
) -> None:
    def query(sql: str) -> list[list[str]]:
        text = cluster.psql(sql, database=cluster.DB_NAME)
        return [line.split("|") for line in text.splitlines() if line]

    orders = {
        external_id: int(count)
        for external_id, count in query(
            "SELECT o.external_id, count(*) FROM orders_order o JOIN orders_channel c "
            "ON c.id = o.channel_id WHERE c.code = 'web' AND o.external_id LIKE 'SOAK-%' "
            "GROUP BY o.external_id"
        )
    }
    lost = sorted(journal.orders_acknowledged - set(orders))
    doubled = sorted(external_id for external_id, count in orders.items() if count > 1)
    checks["no order lost"] = not lost or lost[:10]
    checks["no order doubled"] = not doubled or doubled[:10]
    checks["every order a client sent was answered"] = (
        not journal.orders_given_up or sorted(journal.orders_given_up)[:10]
    )
    over = query(
        "SELECT l.id FROM orders_orderline l JOIN inventory_allocation a ON a.order_line_id = l.id "
        "WHERE a.status <> 'released' GROUP BY l.id, l.quantity HAVING sum(a.quantity) > l.quantity"
    )
    oversold = query("SELECT id FROM inventory_stocklevel WHERE allocated > on_hand OR on_hand < 0")
    checks["no unit promised twice"] = (not over and not oversold) or {
        "lines allocated beyond their quantity": len(over),
        "stock rows allocated beyond on hand": len(oversold),
    }
    try:
        cluster.manage("stock_reconcile")
        checks["every ledger balanced (stock_reconcile)"] = True
    except subprocess.CalledProcessError as error:
        checks["every ledger balanced (stock_reconcile)"] = error.stdout[-500:]
    kinds = ", ".join(f"'{kind}'" for kind in WEBHOOK_EVENTS)
    events = {
        uid for (uid,) in query(f"SELECT uid FROM fulfilment_outboxevent WHERE event IN ({kinds})")
    }
    with receiver.lock:
        received = dict(receiver.seen)
    missing = sorted(events - set(received))
    checks["outbox drained (every delivery delivered or dead)"] = outbox_drained
    dead = query("SELECT count(*) FROM fulfilment_delivery WHERE status = 'dead'")[0][0]
    checks["no delivery dead"] = dead == "0" or f"{dead} dead"
    checks["every event delivered"] = (bool(events) and not missing) or {
        "events": len(events),
        "missing": missing[:10],
    }
    checks["webhook signatures valid"] = receiver.bad_signatures == 0 or receiver.bad_signatures
    # The standby reconnected after the primary's restart and replays what it wrote since.
    streaming = cluster.psql("SELECT state FROM pg_stat_replication")
    checks["the replica streams again"] = streaming == "streaming" or streaming or "no standby"
    figures["replica behind the primary at the end (bytes of WAL)"] = cluster.psql(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication"
    )
    figures["events"] = len(events)
    figures["event ids received"] = len(received)
    # At least once: a delivery whose answer was lost (a worker killed mid-request) is sent
    # again with the same id, which a receiver takes once.
    figures["event ids received more than once"] = sum(
        1 for count in received.values() if count > 1
    )


def _fault_report(faults: list[Fault], journal: Journal, begun: float) -> list[dict[str, object]]:
    """For each fault: the errors clients saw from its start to the next one's, and how long
    it took until clients stopped seeing errors (and until the broken part was back)."""
    report = []
    for index, fault in enumerate(faults):
        end = faults[index + 1].began if index + 1 < len(faults) else float("inf")
        window = [a for a in journal.attempts if fault.began <= a.at < end]
        errors = [a for a in window if not a.ok]
        last_error = max((a.at for a in errors), default=fault.began)
        report.append(
            {
                "fault": fault.name,
                "at_s": round(fault.began - begun),
                "requests": len(window),
                "errors": dict(Counter(f"{a.what} {a.outcome}" for a in errors)),
                "clients_healed_s": round(last_error - fault.began, 1),
                "restored_s": round(fault.restored - fault.began, 1),
            }
        )
    return report


def report_lines(result: SoakResult) -> list[str]:
    lines = [
        f"ran {result.seconds:.0f} s: {result.orders_acknowledged} orders acknowledged, "
        f"{result.shipped} fulfilments shipped, {result.attempts} requests, "
        f"{result.failed_attempts} failed attempts (each retried)",
        "",
        "fault | at (s) | requests in its window | errors clients saw | clients healed after (s)"
        " | part back after (s)",
    ]
    for item in result.faults:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(item["errors"].items())) or "none"  # type: ignore[attr-defined]
        lines.append(
            f"{item['fault']} | {item['at_s']} | {item['requests']} | {errors} | "
            f"{item['clients_healed_s']} | {item['restored_s']}"
        )
    lines.append("")
    for name, value in result.checks.items():
        lines.append(f"ok   {name}" if value is True else f"FAIL {name}: {value}")
    lines.extend(f"     {name}: {value}" for name, value in result.figures.items())
    lines.append("")
    lines.append("resident memory (RssAnon KiB) after warm-up → at the end:")
    for host, command, _pid, first, last, growth in result.memory:
        lines.append(f"  {host:8} {command[:60]:60} {first:>8} → {last:>8} ({growth:+.1%})")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description="The soak, against a deployment that is up.")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--shoppers", type=int, default=3)
    parser.add_argument("--rate", type=float, default=2.0, help="orders a second per shopper")
    parser.add_argument(
        "--warm-up", type=float, default=300.0, help="seconds of load before the first fault"
    )
    options = parser.parse_args()
    result = soak_run(
        seconds=options.minutes * 60,
        warm_up=options.warm_up,
        shoppers=options.shoppers,
        rate=options.rate,
    )
    print("\n".join(report_lines(result)))
    return 1 if result.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
