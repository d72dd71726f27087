#!/usr/bin/env python
"""Order capture with allocation over HTTP, against a raw-SQL floor, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/orders.py

It makes a database of its own (`<name>_bench`), migrates it, loads the demo
network (`seed_demo`), serves the OMS with gunicorn (`--server granian` to
compare), and sends 3-line orders from 16 concurrent clients (`--idempotency-key`:
each with a key, as integrations send them). Then a hot-SKU run (every client on one SKU with
fewer units than orders: none may be oversold), a mixed run (captures 70 %,
accept/ship 20 %, cancels 5 %, delivery quotes 5 %: each operation's latency and
the longest lock wait seen in `pg_locks`), then the floor: the same rows
written by raw SQL, one transaction per order, from 4 processes. Prints
orders/s and p50/p99 latency for each, and where the CPU went per order: the
server's processes (app), the PostgreSQL backends of the bench database, the
client processes, and the rest of the machine (other work sharing it), read from
/proc (PostgreSQL must run on this machine for its share to show).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import psycopg

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def _proc_cpu(pid: int) -> tuple[int, float] | None:
    """Return (parent pid, CPU seconds used so far) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _machine_cpu() -> float:
    """Return the CPU seconds every core of the machine has been busy so far."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(
            int, stat.readline().split()[1:9]
        )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


class CpuMeter:
    """CPU used during a phase by the server's processes and the bench database's backends."""

    def __init__(self, server_pid: int | None, database: str):
        self.server_pid, self.database = server_pid, database

    def sample(self) -> dict:
        app, postgres = {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            found = _proc_cpu(pid)
            if found is None:
                continue
            parent, seconds = found
            if self.server_pid is not None and self.server_pid in (pid, parent):
                app[pid] = seconds
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if command.startswith("postgres:") and f" {self.database} " in command:
                postgres[pid] = seconds
        return {"app": app, "postgres": postgres, "machine": _machine_cpu()}

    @staticmethod
    def used(before: dict, after: dict, key: str) -> float:
        # A process that ended during the phase is not counted: connections are persistent.
        return sum(seconds - before[key].get(pid, 0.0) for pid, seconds in after[key].items())


def cpu_report(before: dict, after: dict, clients: float, orders: int) -> tuple[str, float]:
    """Return a line telling where the CPU went per order, and the orders/s those costs allow
    when the machine's cores do nothing else (other work on a shared machine left out)."""
    app = CpuMeter.used(before, after, "app")
    postgres = CpuMeter.used(before, after, "postgres")
    rest = after["machine"] - before["machine"] - app - postgres - clients
    per = 1000 / max(orders, 1)
    ceiling = (os.cpu_count() or 1) * orders / max(app + postgres + clients, 1e-9)
    return (
        f"    CPU per order: app {app * per:.1f} ms, PostgreSQL {postgres * per:.1f} ms, "
        f"clients {clients * per:.1f} ms; other work on the machine {max(rest, 0) * per:.1f} ms"
        f" -> {ceiling:.0f} orders/s if this run had the {os.cpu_count()} CPUs to itself",
        ceiling,
    )


def bench_url(base: str) -> str:
    parsed = urlparse(base)
    return parsed._replace(path=f"{parsed.path.rstrip('/') or '/oms'}_bench").geturl()


def admin_dsn(url: str) -> str:
    return (
        urlparse(url)._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    )


def dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
    )
    return result.stdout or ""


def prepare(url: str, env: dict, *, seed_copy: bool = False) -> str:
    """Make the bench database afresh; answer the bench token's key. With `seed_copy`, it is
    a copy of `<name>_seed`, made once by migrate and seed_demo and kept: runs that alternate
    two versions of the code (with the same migrations) start from the same rows, seconds
    apart instead of minutes."""
    name = urlparse(url).path.lstrip("/")
    seed = f"{name}_seed"
    with psycopg.connect(admin_dsn(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copied = (
            seed_copy
            and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (seed,)).fetchone()
        )
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{seed}"' if copied else ""))
    if not copied:
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        # A production server's autovacuum has analysed a network this size long before
        # its first order; a server run with autovacuum off (as some test machines are)
        # would leave the planner guessing from empty statistics.
        with psycopg.connect(dsn(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        if seed_copy:
            with psycopg.connect(admin_dsn(url), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{seed}" TEMPLATE "{name}"')
    return manage(env, "create_api_token", "bench", capture=True).strip().split()[-1]


def server_env(url: str) -> dict:
    """Return the environment the OMS runs with against the bench database `url`."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }


def catalogue(url: str) -> tuple[list[str], list[str]]:
    """Return SKUs with stock in a shipping warehouse, and a SKU for the hot run."""
    with psycopg.connect(dsn(url)) as conn:
        skus = [
            row[0]
            for row in conn.execute(
                """SELECT DISTINCT p.sku FROM inventory_stocklevel s
                   JOIN inventory_product p ON p.id = s.product_id
                   JOIN inventory_location l ON l.id = s.location_id
                   WHERE l.kind = 'warehouse' AND s.on_hand - s.allocated - s.safety_stock > 200
                   ORDER BY p.sku"""
            )
        ]
    return skus, [f"HOT-{uuid.uuid4().hex[:6].upper()}"]


def server_command(port: int, options) -> list[str]:
    """Return the command that serves the OMS with `options.server` on `port`."""
    bin_dir = Path(PYTHON).parent
    if options.server == "granian":
        # Granian parses HTTP in Rust and calls the WSGI application from its blocking
        # threads; each worker process imports the app itself (there is no preload).
        command = [
            str(bin_dir / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "--blocking-threads",
            str(options.threads if options.worker_class == "gthread" else 1),
            "--runtime-threads",
            "1",
            "--no-ws",
            "--log-level",
            "warning",
            # As gunicorn.conf.py does: every request logged, as in production.
            "--access-log",
        ]
        return [*command, "oms.wsgi:application"]
    command = [
        str(bin_dir / "gunicorn"),
        "oms.wsgi",
        "-k",
        options.worker_class,
        "-w",
        str(options.workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        # A worker recycled mid-run (gunicorn.conf.py's max_requests) takes its CPU time
        # with it, out of the CpuMeter's count: no recycling during the bench.
        "--max-requests",
        "0",
    ]
    if options.worker_class == "gthread":
        command += ["--threads", str(options.threads)]
    if options.preload:
        command.append("--preload")
    return command


def start_server(env: dict, port: int, options) -> subprocess.Popen:
    command = server_command(port, options)
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        # The access log (gunicorn.conf.py: stdout) is written as in production, not shown.
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"{options.server} did not start")


def order_body(rng: random.Random, skus: list[str], hot: str | None) -> dict:
    lines = (
        [{"sku": hot, "quantity": 1, "unit_price": "9.90"}]
        if hot
        else [
            {"sku": sku, "quantity": rng.randint(1, 2), "unit_price": "19.90"}
            for sku in rng.sample(skus, 3)
        ]
    )
    return {
        "channel": "web",
        "external_id": f"B-{uuid.uuid4().hex}",
        "customer": {"email": f"c{rng.randint(1, 10**6)}@example.com", "name": "Bench Client"},
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "lat": 43 + rng.random() * 7,
            "lon": -1 + rng.random() * 8,
        },
        "delivery_method": "standard",
        "currency": "EUR",
        "lines": lines,
    }


def client_run(args) -> tuple[list[tuple[float, int]], float]:
    """One client process: `threads` threads sending `per_thread` orders each; answer the
    (latency, status) of each order and the CPU seconds the process used."""
    port, token, skus, hot, threads, per_thread, seed, keyed = args
    cpu = time.process_time()
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def work(n):
        rng = random.Random(seed * 1000 + n)
        mine = []
        for _ in range(per_thread):
            body = json.dumps(order_body(rng, skus, hot))
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            if keyed:
                headers["Idempotency-Key"] = str(uuid.uuid4())
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/api/v1/orders/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            mine.append((time.perf_counter() - started, response.status))
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results, time.process_time() - cpu


def load(
    port, token, skus, hot, clients, orders, keyed=False
) -> tuple[float, list[tuple[float, int]], float]:
    """Send `orders` orders from `clients` clients (`keyed`: each with an Idempotency-Key);
    answer the time it took, each order's (latency, status), and the CPU seconds of the
    client processes."""
    processes = 4
    threads = clients // processes
    per_thread = max(1, orders // clients)
    jobs = [(port, token, skus, hot, threads, per_thread, seed, keyed) for seed in range(processes)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        chunks = pool.map(client_run, jobs)
    results = [r for chunk, _ in chunks for r in chunk]
    return time.perf_counter() - started, results, sum(cpu for _, cpu in chunks)


# The mixed run's share of each operation (captures 70 %, accept/ship 20 %, cancels 5 %,
# delivery quotes 5 %).
MIX = (("capture", 70), ("accept/ship", 20), ("cancel", 5), ("quote", 5))


def _post(port: int, token: str, path: str, body: dict | None) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        path,
        body=json.dumps(body or {}),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    content = response.read()
    conn.close()
    return time.perf_counter() - started, response.status, content


def mixed_client_run(args) -> tuple[list[tuple[str, float, int]], float]:
    """One client process of the mixed run: each thread draws its operations from MIX,
    accepting, shipping and cancelling orders it placed itself; answer each request's
    (operation, latency, status) and the CPU seconds of the process."""
    port, token, skus, threads, per_thread, seed = args
    cpu = time.process_time()
    results: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]

    def work(n):
        rng = random.Random(seed * 1000 + n)
        placed: list[str] = []  # order numbers, oldest first
        requested: list[int] = []  # fulfilment ids to accept
        accepted: list[int] = []  # fulfilment ids to ship
        requests_of: dict[str, list[int]] = {}  # order number -> its fulfilment ids
        mine = []
        for _ in range(per_thread):
            operation = rng.choices(names, weights)[0]
            if operation == "accept/ship" and (accepted or requested):
                if accepted:
                    fulfilment = accepted.pop(0)
                    body = {"carrier": "bench", "tracking_number": f"T{rng.randint(1, 10**9)}"}
                    latency, status, _ = _post(
                        port, token, f"/api/v1/fulfilments/{fulfilment}/ship/", body
                    )
                    mine.append(("ship", latency, status))
                else:
                    fulfilment = requested.pop(0)
                    latency, status, _ = _post(
                        port, token, f"/api/v1/fulfilments/{fulfilment}/accept/", None
                    )
                    mine.append(("accept", latency, status))
                    if status == 200:
                        accepted.append(fulfilment)
            elif operation == "cancel" and placed:
                number = placed.pop(rng.randrange(len(placed)))
                latency, status, _ = _post(
                    port, token, f"/api/v1/orders/{number}/cancel/", {"reason": "bench"}
                )
                # Its requests are cancelled with it: no one accepts or ships them now.
                gone = set(requests_of.pop(number, ()))
                requested[:] = [f for f in requested if f not in gone]
                accepted[:] = [f for f in accepted if f not in gone]
                # An order with a shipment is a 409: the contract, not a failure.
                mine.append(("cancel", latency, 200 if status == 409 else status))
            elif operation == "quote":
                body = order_body(rng, skus, None)
                quote = {
                    "channel": "web",
                    "lines": [{"sku": x["sku"], "quantity": x["quantity"]} for x in body["lines"]],
                    "destination": {
                        key: body["shipping_address"][key]
                        for key in ("postcode", "country", "lat", "lon")
                    },
                }
                latency, status, _ = _post(port, token, "/api/v1/delivery-options/", quote)
                mine.append(("quote", latency, status))
            else:
                latency, status, content = _post(
                    port, token, "/api/v1/orders/", order_body(rng, skus, None)
                )
                mine.append(("capture", latency, status))
                if status == 201:
                    order = json.loads(content)
                    placed.append(order["number"])
                    requests_of[order["number"]] = [f["id"] for f in order["fulfilments"]]
                    requested.extend(requests_of[order["number"]])
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results, time.process_time() - cpu


class LockWaits:
    """Sample `pg_locks` every 10 ms during a run: the longest wait for a lock seen, and
    every wait over 50 ms with the table and the statement that waited."""

    def __init__(self, url: str, database: str):
        self.url, self.database = url, database
        self.longest = 0.0
        self.long: dict[tuple[str, str], tuple[float, str]] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(dsn(self.url), autocommit=True) as conn:
            while not self._stop.wait(0.01):
                self.samples += 1
                rows = conn.execute(
                    """SELECT EXTRACT(EPOCH FROM now() - l.waitstart), l.locktype,
                              COALESCE(l.relation::regclass::text, ''), left(a.query, 120)
                       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                       WHERE NOT l.granted AND a.datname = %s AND l.waitstart IS NOT NULL""",
                    (self.database,),
                ).fetchall()
                for waited, locktype, relation, query in rows:
                    waited = float(waited)
                    self.longest = max(self.longest, waited)
                    if waited > 0.05:
                        where = (locktype, relation)
                        if waited > self.long.get(where, (0.0, ""))[0]:
                            self.long[where] = (waited, " ".join(query.split()))

    def report(self) -> None:
        print(
            f"    longest lock wait {self.longest * 1000:.0f} ms "
            f"({self.samples} samples of pg_locks, every 10 ms)"
        )
        for (locktype, relation), (waited, query) in sorted(
            self.long.items(), key=lambda item: -item[1][0]
        ):
            print(f"    wait over 50 ms: {waited * 1000:.0f} ms on {locktype} {relation}: {query}")


def mixed(options, url: str, token: str, skus: list[str], meter: CpuMeter) -> None:
    """The mixed run: MIX's operations from the same clients, with each one's latency."""
    processes = 4
    threads = options.clients // processes
    per_thread = max(1, options.mixed // options.clients)
    jobs = [(options.port, token, skus, threads, per_thread, 100 + n) for n in range(processes)]
    before = meter.sample()
    with LockWaits(url, urlparse(url).path.lstrip("/")) as waits:
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            chunks = pool.map(mixed_client_run, jobs)
        elapsed = time.perf_counter() - started
    after = meter.sample()
    results = [r for chunk, _ in chunks for r in chunk]
    print(
        f"mixed: {len(results) / elapsed:.1f} requests/s over {elapsed:.1f} s "
        f"(captures 70 %, accept/ship 20 %, cancels 5 %, delivery quotes 5 %)"
    )
    for operation in ("capture", "accept", "ship", "cancel", "quote"):
        mine = [latency for op, latency, status in results if op == operation]
        ok = [latency for op, latency, status in results if op == operation and status < 300]
        print(
            f"    {operation:<8} {len(mine):5d} requests   p50 {percentile(ok, 50) * 1000:6.1f} ms"
            f"   p99 {percentile(ok, 99) * 1000:6.1f} ms   ({len(mine) - len(ok)} failed)"
        )
    print(
        cpu_report(before, after, sum(cpu for _, cpu in chunks), len(results))[0]
        .replace("per order", "per request")
        .replace("orders/s", "requests/s")
    )
    waits.report()


def report(label: str, elapsed: float, results: list[tuple[float, int]]) -> float:
    ok = [latency for latency, status in results if status in (200, 201)]
    failed = len(results) - len(ok)
    rate = len(ok) / elapsed
    print(
        f"{label:<34} {rate:8.1f} orders/s   p50 {percentile(ok, 50) * 1000:6.1f} ms   "
        f"p99 {percentile(ok, 99) * 1000:6.1f} ms   ({len(ok)} ok, {failed} failed)"
    )
    return rate


def floor_worker(args) -> tuple[list[float], float, float]:
    """Write `count` orders; answer their latencies, this process's CPU seconds and those of
    its PostgreSQL backend (0 when PostgreSQL runs elsewhere)."""
    url, skus, count, seed = args
    rng = random.Random(seed)
    latencies = []
    cpu = time.process_time()
    # autocommit: each `conn.transaction()` is then a real transaction, not a savepoint.
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        backend = _proc_cpu(conn.info.backend_pid)
        products = dict(
            conn.execute(
                "SELECT sku, id FROM inventory_product WHERE sku = ANY(%s)", (skus,)
            ).fetchall()
        )
        channel = conn.execute("SELECT id FROM orders_channel WHERE code = 'web'").fetchone()[0]
        warehouse = conn.execute(
            "SELECT id FROM inventory_location WHERE code = 'DC-PARIS'"
        ).fetchone()[0]
        for _ in range(count):
            chosen = sorted(rng.sample(skus, 3))
            started = time.perf_counter()
            with conn.transaction():
                order_id = conn.execute(
                    """INSERT INTO orders_order (number, channel_id, external_id, status,
                       customer_email, customer_name, customer_phone, customer_phone_digits,
                       ship_line1, ship_line2, ship_city, ship_postcode, ship_country,
                       ship_lat, ship_lon, delivery_method, currency, sourcing_attempts,
                       needs_attention, attention_reason, created_at, updated_at)
                       VALUES (%s, %s, %s, 'allocated', 'f@example.com', 'F', '', '',
                       '1 rue', '', 'Paris', '75001', 'FR', 48.8, 2.3, 'standard', 'EUR', 1,
                       false, '', now(), now()) RETURNING id""",
                    (uuid.uuid4().hex[:16], channel, uuid.uuid4().hex),
                ).fetchone()[0]
                line_ids = [
                    conn.execute(
                        """INSERT INTO orders_orderline (order_id, line_no, product_id, quantity,
                           unit_price, quantity_shipped, quantity_cancelled)
                           VALUES (%s, %s, %s, 1, 19.90, 0, 0) RETURNING id""",
                        (order_id, n, products[sku]),
                    ).fetchone()[0]
                    for n, sku in enumerate(chosen, start=1)
                ]
                stock = conn.execute(
                    """SELECT id FROM inventory_stocklevel WHERE location_id = %s
                       AND product_id = ANY(%s) ORDER BY id FOR UPDATE""",
                    (warehouse, [products[s] for s in chosen]),
                ).fetchall()
                conn.execute(
                    "UPDATE inventory_stocklevel SET allocated = allocated + 1 WHERE id = ANY(%s)",
                    ([row[0] for row in stock],),
                )
                fulfilment = conn.execute(
                    """INSERT INTO fulfilment_fulfilment (order_id, location_id, status, carrier,
                       tracking_number, reason, created_at, updated_at)
                       VALUES (%s, %s, 'requested', '', '', '', now(), now()) RETURNING id""",
                    (order_id, warehouse),
                ).fetchone()[0]
                for line_id, row in zip(line_ids, stock, strict=False):
                    conn.execute(
                        """INSERT INTO inventory_allocation (order_line_id, stock_id,
                           fulfilment_id, quantity, status, release_reason, created_at,
                           updated_at) VALUES (%s, %s, %s, 1, 'open', '', now(), now())""",
                        (line_id, row[0], fulfilment),
                    )
                conn.execute(
                    """INSERT INTO orders_orderevent (order_id, kind, message, data, public,
                       created_at) VALUES (%s, 'created', 'received', '{}', true, now()),
                       (%s, 'allocated', 'allocated', '{}', false, now())""",
                    (order_id, order_id),
                )
            latencies.append(time.perf_counter() - started)
        backend_after = _proc_cpu(conn.info.backend_pid)
    postgres = backend_after[1] - backend[1] if backend and backend_after else 0.0
    return latencies, time.process_time() - cpu, postgres


def floor(url: str, skus: list[str], orders: int) -> tuple[float, float]:
    processes = 4
    per = orders // processes
    before = {"app": {}, "postgres": {}, "machine": _machine_cpu()}
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        chunks = pool.map(floor_worker, [(url, skus[:200], per, seed) for seed in range(processes)])
    elapsed = time.perf_counter() - started
    # The backends are gone by now: each worker measured its own.
    after = {"app": {}, "postgres": {0: sum(pg for *_, pg in chunks)}, "machine": _machine_cpu()}
    latencies = [x for chunk, *_ in chunks for x in chunk]
    rate = report("floor: raw SQL, 4 processes", elapsed, [(x, 201) for x in latencies])
    line, ceiling = cpu_report(before, after, sum(cpu for _, cpu, _ in chunks), len(latencies))
    print(line)
    return rate, ceiling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--server",
        default="gunicorn",
        choices=["gunicorn", "granian"],
        help="the HTTP server (granian: its WSGI interface; needs granian installed)",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--worker-class",
        default="sync",
        choices=["sync", "gthread"],
        help="sync: one request at a time per worker; gthread: --threads per worker "
        "(granian: its blocking threads)",
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--preload",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=(
            "load the app in the gunicorn master before forking (default: the workers share "
            "its memory; ~5 %% less app CPU per order over six paired runs, within the noise)"
        ),
    )
    parser.add_argument("--hot-units", type=int, default=300)
    parser.add_argument(
        "--idempotency-key",
        action="store_true",
        help="send each order with an Idempotency-Key, as integrations do (its claim and "
        "stored answer are two more transactions per order)",
    )
    parser.add_argument(
        "--mixed",
        type=int,
        default=1000,
        help="requests of the mixed run (captures, accept/ship, cancels, quotes); 0: none",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--seed-copy",
        action="store_true",
        help="start from a copy of <name>_bench_seed (made by the first such run, then kept; "
        "drop it after a migration)",
    )
    options = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        print("bench/orders.py: skipped, set DATABASE_URL to a PostgreSQL database")
        return
    url = bench_url(base)
    env = server_env(url)
    print(f"preparing {urlparse(url).path.lstrip('/')}: migrate, seed_demo ...", flush=True)
    token = prepare(url, env, seed_copy=options.seed_copy)
    skus, (hot,) = catalogue(url)
    server = start_server(env, options.port, options)
    meter = CpuMeter(server.pid, urlparse(url).path.lstrip("/"))
    try:
        threads = f" x{options.threads} threads" if options.worker_class == "gthread" else ""
        preload = " --preload" if options.preload and options.server == "gunicorn" else ""
        keyed = options.idempotency_key
        print(
            f"{options.clients} clients, 3-line orders, {options.server} {options.worker_class} "
            f"x{options.workers}{threads}{preload}, "
            f"{len(skus)} SKUs in stock{', Idempotency-Key on each order' if keyed else ''}; "
            f"load average {os.getloadavg()[0]:.2f} "
            f"on {os.cpu_count()} CPUs",
            flush=True,
        )
        load(options.port, token, skus, None, options.clients, 160, keyed)  # warm up
        before = meter.sample()
        elapsed, results, clients_cpu = load(
            options.port, token, skus, None, options.clients, options.orders, keyed
        )
        after = meter.sample()
        capture = report("capture over HTTP (full path)", elapsed, results)
        line, capture_ceiling = cpu_report(before, after, clients_cpu, len(results))
        print(line)

        # Hot SKU: every client orders one unit of one SKU that has fewer units than orders.
        with psycopg.connect(dsn(url)) as conn:
            conn.execute(
                "INSERT INTO inventory_product (sku, name, barcode, active, created_at, "
                "updated_at) VALUES (%s, 'Hot item', '', true, now(), now())",
                (hot,),
            )
        for code, units in (
            ("DC-PARIS", options.hot_units // 2),
            ("DC-LYON", options.hot_units - options.hot_units // 2),
        ):
            conn = http.client.HTTPConnection("127.0.0.1", options.port, timeout=10)
            conn.request(
                "POST",
                "/api/v1/stock/movements/",
                body=json.dumps(
                    {
                        "sku": hot,
                        "location": code,
                        "kind": "receipt",
                        "quantity": units,
                        "reference": "bench",
                    }
                ),
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            assert conn.getresponse().status == 201, "hot-SKU receipt refused"
        hot_orders = options.hot_units * 2
        before = meter.sample()
        elapsed, results, clients_cpu = load(
            options.port, token, skus, hot, options.clients, hot_orders, keyed
        )
        after = meter.sample()
        report("hot SKU, all clients on one SKU", elapsed, results)
        print(cpu_report(before, after, clients_cpu, len(results))[0])
        with psycopg.connect(dsn(url)) as conn:
            allocated, on_hand = conn.execute(
                """SELECT COALESCE(SUM(s.allocated), 0), COALESCE(SUM(s.on_hand), 0)
                   FROM inventory_stocklevel s JOIN inventory_product p ON p.id = s.product_id
                   WHERE p.sku = %s""",
                (hot,),
            ).fetchone()
            held = conn.execute(
                """SELECT COALESCE(SUM(a.quantity), 0) FROM inventory_allocation a
                   JOIN inventory_stocklevel s ON s.id = a.stock_id
                   JOIN inventory_product p ON p.id = s.product_id
                   WHERE p.sku = %s AND a.status = 'open'""",
                (hot,),
            ).fetchone()[0]
        oversold = max(0, allocated - on_hand)
        print(
            f"hot SKU: {on_hand} on hand, {allocated} allocated, {held} in open allocations, "
            f"oversold {oversold}"
        )
        if oversold or allocated != held or allocated != options.hot_units:
            raise SystemExit("hot SKU run oversold or lost units")
        if options.mixed:
            mixed(options, url, token, skus, meter)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)

    floor_rate, floor_ceiling = floor(url, skus, options.orders)
    print(
        f"capture / floor: {capture / floor_rate:.2f} measured, "
        f"{capture_ceiling / floor_ceiling:.2f} from the CPU costs"
    )
    reconcile = subprocess.run(
        [PYTHON, "manage.py", "stock_reconcile"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    print("stock_reconcile:", "clean" if reconcile.returncode == 0 else reconcile.stdout[-500:])


if __name__ == "__main__":
    main()
