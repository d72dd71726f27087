"""The reference deployment (ops/cluster) with its faults: `make cluster-test`.

Hosts are Linux network namespaces, so these tests need root and `ip`; they bring the
deployment up once, leave nothing behind, and are kept out of the ordinary run (marker
`cluster`; `.ci/run` runs them after the suite). One run at a time per machine: the
subnet and the namespace names are fixed.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import requests

from ops.cluster import cluster, soak

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("ip") is None or not cluster.PG_BIN.exists(),
        reason="needs root, `ip` and PostgreSQL 15's binaries (network namespaces)",
    ),
]


@pytest.fixture(scope="module")
def deployment():
    cluster.up()
    try:
        yield
    finally:
        logs = cluster.STATE / "logs"
        keep = os.environ.get("OMS_CLUSTER_KEEP_LOGS")
        if keep and logs.exists():
            shutil.copytree(logs, keep, dirs_exist_ok=True)
        cluster.down()


def test_it_serves_through_the_load_balancer_with_a_streaming_replica(deployment):
    # when
    answer = requests.get(f"{cluster.LB_URL}/healthz", timeout=5)

    # then
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert cluster.haproxy_servers() == {"app1": "UP", "app2": "UP"}
    assert cluster.psql("SELECT state FROM pg_stat_replication") == "streaming"
    assert cluster.psql("SELECT pg_is_in_recovery()", host="replica") == "t"
    for name, _host, _address, pid in cluster.status():
        if name not in cluster.ON_DEMAND:
            assert pid is not None, f"{name} is not running"


def test_each_service_listens_on_its_own_host_only(deployment):
    # The app hosts answer on their own address; nothing of the deployment listens on the
    # machine's loopback ports that other work uses.
    for host in ("app1", "app2"):
        answer = requests.get(
            f"http://{cluster.HOSTS[host]}:{cluster.APP_PORT}/healthz",
            headers={"Host": "localhost"},
            timeout=5,
        )
        assert answer.status_code == 200
    listening = subprocess.run(
        ["ip", "netns", "exec", cluster.namespace("db"), "ss", "-ltnH"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"{cluster.HOSTS['db']}:{cluster.PG_PORT}" in listening
    assert f"{cluster.HOSTS['db']}:{cluster.REDIS_PORT}" in listening
    assert "127.0.0.1:5432" not in listening


def test_a_short_soak_with_faults_loses_nothing(deployment):
    # given the deployment up, and clients that retry with an Idempotency-Key

    # when a few minutes of orders and shipments run through HAProxy while an app host
    # dies, a worker host dies, Redis restarts and the primary PostgreSQL restarts
    result = soak.soak_run(seconds=180, warm_up=45, drain_seconds=240)
    report = "\n".join(soak.report_lines(result))
    print(report)

    # then nothing was lost, doubled or promised twice, every event reached the receiver,
    # memory stayed flat, and every fault healed
    assert not result.problems, report
    assert result.orders_acknowledged > 100, report
    assert result.shipped > 0, report
    assert [fault["fault"] for fault in result.faults] == list(soak.FAULTS)
    for fault in result.faults:
        # A request cut by the database's restart keeps its Idempotency-Key claimed, and
        # its retries answered 409 "in progress", for OMS_IDEMPOTENCY_STALE_SECONDS (45 s
        # in the deployment).
        limit = 90 if "PostgreSQL" in fault["fault"] else 60
        assert fault["clients_healed_s"] < limit, report


def test_a_base_backup_restores_with_the_archived_wal(deployment):
    # given a base backup, and a row written after it (on top of the soak's orders)

    # when the base backup is restored on another host, replaying the WAL archive
    orders, restored_orders, later_row_found = cluster.backup_point_in_time_restore()

    # then the restored server holds what was written after the backup, from the archive
    assert later_row_found
    assert restored_orders == orders > 0


def test_a_logical_dump_restores_whole(deployment):
    # when the database is dumped and restored into a new one
    counts = cluster.backup_dump_restore()

    # then every table has the same rows
    for table, (live, restored) in counts.items():
        assert restored == live, table
    assert counts["orders_order"][0] > 0
