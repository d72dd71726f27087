#!/usr/bin/env python
"""Connection pooling in the reference deployment: order capture through HAProxy with each
way of reaching PostgreSQL, one after another on the same deployment.

    sudo .venv/bin/python bench/pooling.py [--seconds 30] [--clients 8]

Modes (each app host restarted with the mode's environment; the workers stay as they are):
  reconnect     CONN_MAX_AGE=0: a new connection per request
  persistent    CONN_MAX_AGE=600: one connection per gunicorn worker (the default)
  django-pool   DB_POOL=2: psycopg's pool inside each worker (Django's OPTIONS["pool"])
  pgbouncer     PgBouncer in transaction mode on the database host
                (ops/pgbouncer/pgbouncer.ini), DB_SERVER_SIDE_BINDING=0, CONN_MAX_AGE=600
                to PgBouncer
Prints orders/s, p50 and p99 latency, and the most server connections PostgreSQL held for
the app (pg_stat_activity) during each run. Needs root; brings the deployment up and
removes it afterwards. Figures in docs/deployment.md ("Connection pooling").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from ops.cluster import cluster, soak


def _app_hosts_restart(**env: str) -> None:
    for host in ("app1", "app2"):
        cluster.stop(host)
        cluster.start(host, **env)
    for host in ("app1", "app2"):
        cluster.wait_for_http(
            f"http://{cluster.HOSTS[host]}:{cluster.APP_PORT}/healthz", host_header="localhost"
        )
    deadline = time.monotonic() + 30
    while cluster.haproxy_servers() != {"app1": "UP", "app2": "UP"}:
        if time.monotonic() > deadline:
            raise TimeoutError("HAProxy does not see both app hosts")
        time.sleep(0.5)


def _server_connections() -> int:
    return int(
        cluster.psql(
            f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{cluster.DB_USER}' "
            "AND backend_type = 'client backend'"
        )
    )


def _drive(token: str, seconds: float, clients: int) -> tuple[int, list[float], int, int]:
    """Orders from `clients` threads for `seconds`: (orders, latencies, errors, most
    server connections)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        sequence = 0
        while not stop.is_set():
            sequence += 1
            body = {
                "channel": "web",
                "external_id": f"POOL-{uuid.uuid4().hex[:12]}",
                "customer": {"email": "pool@example.com", "name": "Pool Bench"},
                "shipping_address": {
                    "line1": "1 rue du Test",
                    "city": "Paris",
                    "postcode": "75001",
                    "country": "FR",
                    "lat": 48.86,
                    "lon": 2.35,
                },
                "delivery_method": "standard",
                "currency": "EUR",
                "lines": [
                    {
                        "sku": soak.SKUS[(number * 7 + sequence + k) % len(soak.SKUS)],
                        "quantity": 1,
                        "unit_price": "9.90",
                    }
                    for k in range(3)
                ],
            }
            begun = time.perf_counter()
            try:
                answer = session.post(f"{cluster.LB_URL}/api/v1/orders/", json=body, timeout=35)
                ok = answer.status_code == 201
            except requests.RequestException:
                ok = False
            took = time.perf_counter() - begun
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    most = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        most = max(most, _server_connections())
        time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join()
    return len(latencies), latencies, errors[0], most


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    options = parser.parse_args()
    if os.geteuid() != 0:
        parser.error("network namespaces need root")
    cluster.up()
    try:
        token = cluster.manage("create_api_token", "pool-bench", "--role", "administrator")
        token = token.strip()
        setup = soak.Client(token, soak.Journal())
        soak.catalogue_create(setup, receiver=None)
        via_pgbouncer = cluster.pgbouncer_start()
        modes = {
            "reconnect": {"CONN_MAX_AGE": "0"},
            "persistent": {"CONN_MAX_AGE": "600"},
            "django-pool": {"DB_POOL": "2"},
            "pgbouncer": {
                "DATABASE_URL": via_pgbouncer,
                "DB_SERVER_SIDE_BINDING": "0",
                "CONN_MAX_AGE": "600",
                # A claim's session is not its request's in transaction mode.
                "OMS_IDEMPOTENCY_CLAIMER_CHECK": "0",
            },
        }
        print(
            f"{options.clients} clients, {options.seconds:g} s each, 3-line orders through "
            "HAProxy to 2 app hosts x 2 gunicorn workers"
        )
        print("mode         orders/s   p50 ms   p99 ms   errors   most server connections")
        for name, env in modes.items():
            # Each mode starts from the same environment, with its own settings on top.
            base = {
                "CONN_MAX_AGE": "600",
                "DB_POOL": "0",
                "DB_SERVER_SIDE_BINDING": "1",
                "OMS_IDEMPOTENCY_CLAIMER_CHECK": "1",
            }
            base["DATABASE_URL"] = cluster.database_url()
            _app_hosts_restart(**{**base, **env})
            _drive(token, 5, options.clients)  # warm-up
            count, latencies, errors, most = _drive(token, options.seconds, options.clients)
            latencies.sort()
            p50 = statistics.median(latencies) * 1000 if latencies else 0.0
            p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
            print(
                f"{name:12} {count / options.seconds:8.1f} {p50:8.0f} {p99:8.0f} "
                f"{errors:8} {most:8}"
            )
        load = os.getloadavg()
        print(f"machine load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    finally:
        cluster.down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
