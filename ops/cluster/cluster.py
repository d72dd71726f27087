"""The reference deployment on one machine, one network namespace per host (ops/cluster/net.sh).

    python -m ops.cluster.cluster up      # network, databases, Redis, apps, HAProxy, workers, beat
    python -m ops.cluster.cluster down    # everything stopped and removed, leftovers included
    python -m ops.cluster.cluster status  # each service, its host, address and pid

Every service is a real process started inside its host's namespace and bound to that
host's address; nothing here touches the machine's own PostgreSQL (5432) or Redis (6379).
State (data directories, WAL archive, logs, pid files) lives under OMS_CLUSTER_DIR
(default /var/tmp/oms-cluster) and is removed by `down`. The soak (ops/cluster/soak.py)
uses the functions below to kill hosts and restart services while it drives traffic.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("OMS_CLUSTER_DIR", "/var/tmp/oms-cluster"))
PG_BIN = Path(os.environ.get("OMS_PG_BIN", "/usr/lib/postgresql/15/bin"))
VENV_BIN = ROOT / ".venv" / "bin"

SUBNET = "10.231.0"
# The machine's own end of the bridge: the test driver and the webhook receiver live here.
GATEWAY = f"{SUBNET}.1"
HOSTS = {
    "lb": f"{SUBNET}.5",
    "db": f"{SUBNET}.10",
    "replica": f"{SUBNET}.11",
    "app1": f"{SUBNET}.21",
    "app2": f"{SUBNET}.22",
    "worker1": f"{SUBNET}.31",
    "worker2": f"{SUBNET}.32",
    "beat": f"{SUBNET}.41",
}
PG_PORT = 5433
REDIS_PORT = 6380
PGBOUNCER_PORT = 6433
APP_PORT = 8000
LB_PORT = 8080
LB_STATS_PORT = 8404
RECEIVER_PORT = 9100

LB_URL = f"http://{HOSTS['lb']}:{LB_PORT}"
DB_NAME = "oms"
DB_USER = "oms"
REPLICATION_USER = "replicator"


def namespace(host: str) -> str:
    return f"omsc-{host}"


@dataclass
class Service:
    name: str
    host: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    # Run as this user (PostgreSQL refuses to run as root).
    user: str | None = None
    # How it is asked to stop: PostgreSQL's TERM waits for every client to leave (a smart
    # shutdown); INT is the fast one, which systemd's unit uses too.
    stop_signal: signal.Signals = signal.SIGTERM


def _run(
    argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, text=True, capture_output=True, cwd=cwd, env=env)


def _in_host(host: str, argv: list[str], user: str | None = None) -> list[str]:
    prefix = ["ip", "netns", "exec", namespace(host)]
    if user:
        prefix += ["runuser", "-u", user, "--"]
    return prefix + argv


def _secret(name: str) -> str:
    """A secret made once per cluster (kept in its state directory)."""
    path = STATE / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(*, host: str = "db", port: int = PG_PORT) -> str:
    return f"postgres://{DB_USER}:{_secret('db-password')}@{HOSTS[host]}:{port}/{DB_NAME}"


def redis_url() -> str:
    return f"redis://{HOSTS['db']}:{REDIS_PORT}/0"


def app_environment(host: str, **extra: str) -> dict[str, str]:
    """The environment every OMS process of the deployment gets (docs/deployment.md)."""
    var_dir = STATE / "hosts" / host
    var_dir.mkdir(parents=True, exist_ok=True)
    environment = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "SECRET_KEY": _secret("secret-key"),
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url(),
        # Clients name the load balancer; HAProxy's health checks name localhost.
        "ALLOWED_HOSTS": f"{HOSTS['lb']},localhost",
        # HAProxy appends the client's address to X-Forwarded-For.
        "OMS_TRUSTED_PROXY_COUNT": "1",
        # No TLS inside the harness: HAProxy would terminate it in production.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "OMS_PUBLIC_URL": LB_URL,
        # The webhook receiver runs on the machine's end of the bridge, a private address.
        "OMS_OUTBOUND_ALLOWED_HOSTS": GATEWAY,
        "OMS_VAR_DIR": str(var_dir),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
        # A relay that dies (its worker host killed, its database restarted) holds the
        # deliveries it claimed this long: a minute instead of five, so the soak's drain is
        # short. A round (200 deliveries, 16 at once) ends well within it when receivers
        # answer in under 4 s; a round that outlasts its claim sends some twice, which
        # at-least-once delivery allows.
        "OMS_WEBHOOK_CLAIM_SECONDS": "60",
        # A claim whose session is still there (its request still running, or a pooler's
        # session) is retaken after this long (above gunicorn's 30-second timeout) instead
        # of the default two minutes; one whose session ended is retaken at once.
        "OMS_IDEMPOTENCY_STALE_SECONDS": "45",
    }
    for name in (
        "OMS_WEBHOOK_CLAIM_SECONDS",
        "OMS_IDEMPOTENCY_STALE_SECONDS",
        "OMS_IDEMPOTENCY_CLAIMER_CHECK",
        "CONN_MAX_AGE",
        "DB_SERVER_SIDE_BINDING",
        "DB_POOL",
    ):
        if name in os.environ:
            environment[name] = os.environ[name]
    environment.update(extra)
    return environment


# Started on demand (bench/pooling.py), not by `up`.
ON_DEMAND = {"pgbouncer"}


def services() -> dict[str, Service]:
    """Every long-running process of the deployment, by name."""
    pg_run = STATE / "pg" / "run"
    found: dict[str, Service] = {
        "postgres-primary": Service(
            "postgres-primary",
            "db",
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(STATE / "pg" / "primary"),
                "-c",
                f"listen_addresses={HOSTS['db']}",
                "-c",
                f"port={PG_PORT}",
                "-c",
                f"unix_socket_directories={pg_run}",
                "-c",
                f"archive_command=test ! -f {STATE / 'pg' / 'archive'}/%f && cp %p "
                f"{STATE / 'pg' / 'archive'}/%f",
            ],
            user="postgres",
            stop_signal=signal.SIGINT,
        ),
        "postgres-replica": Service(
            "postgres-replica",
            "replica",
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(STATE / "pg" / "replica"),
                "-c",
                f"listen_addresses={HOSTS['replica']}",
                "-c",
                f"port={PG_PORT}",
                "-c",
                f"unix_socket_directories={STATE / 'pg' / 'run-replica'}",
                # A standby archives nothing of its own.
                "-c",
                "archive_mode=off",
            ],
            user="postgres",
            stop_signal=signal.SIGINT,
        ),
        "redis": Service(
            "redis",
            "db",
            [
                "/usr/bin/redis-server",
                str(ROOT / "ops" / "redis" / "redis.conf"),
                "--bind",
                HOSTS["db"],
                "--port",
                str(REDIS_PORT),
                "--dir",
                str(STATE / "redis"),
            ],
        ),
        "haproxy": Service(
            "haproxy",
            "lb",
            ["/usr/sbin/haproxy", "-db", "-f", str(ROOT / "ops" / "haproxy" / "haproxy.cfg")],
            env={
                "OMS_LB_BIND": f"{HOSTS['lb']}:{LB_PORT}",
                "OMS_LB_STATS": f"{HOSTS['lb']}:{LB_STATS_PORT}",
                "OMS_APP1": f"{HOSTS['app1']}:{APP_PORT}",
                "OMS_APP2": f"{HOSTS['app2']}:{APP_PORT}",
            },
        ),
        "beat": Service(
            "beat",
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "oms",
                "beat",
                "--loglevel=INFO",
                "--pidfile=",
            ],
            env=app_environment("beat"),
        ),
    }
    found["pgbouncer"] = Service(
        "pgbouncer",
        "db",
        ["/usr/sbin/pgbouncer", str(STATE / "pgbouncer" / "pgbouncer.ini")],
        user="postgres",
    )
    for host in ("app1", "app2"):
        found[host] = Service(
            host,
            host,
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "--bind",
                f"{HOSTS[host]}:{APP_PORT}",
                "oms.wsgi",
            ],
            env=app_environment(host),
        )
    for host in ("worker1", "worker2"):
        found[host] = Service(
            host,
            host,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "oms",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                f"--hostname={host}@%h",
            ],
            env=app_environment(host),
        )
    return found


def _pid_file(name: str) -> Path:
    return STATE / "run" / f"{name}.pid"


def start(name: str, **overrides: str) -> int:
    """Start one service in its host's namespace, with `overrides` on top of its environment;
    return its pid (also its process group)."""
    service = services()[name]
    service.env.update(overrides)
    (STATE / "run").mkdir(parents=True, exist_ok=True)
    (STATE / "logs").mkdir(parents=True, exist_ok=True)
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG": "C.UTF-8"}
    environment.update(service.env)
    with (STATE / "logs" / f"{name}.log").open("a") as log:
        process = subprocess.Popen(
            _in_host(service.host, service.argv, service.user),
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its own session: it outlives `cluster up`, and its process group (gunicorn's
            # master and workers, postgres and its backends) is stopped as one.
            start_new_session=True,
        )
    _pid_file(name).write_text(str(process.pid))
    return process.pid


def pid(name: str) -> int | None:
    path = _pid_file(name)
    if not path.exists():
        return None
    value = int(path.read_text())
    try:
        os.kill(value, 0)
    except ProcessLookupError:
        return None
    return value


def stop(name: str, *, sig: signal.Signals | None = None, timeout: float = 30.0) -> None:
    """Ask a service's process group to stop (its own stop signal unless `sig` says) and
    wait until it has gone; kill what is left after `timeout`."""
    value = pid(name)
    if value is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(value, sig or services()[name].stop_signal)
    deadline = time.monotonic() + timeout
    while _group_alive(value):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(value, signal.SIGKILL)
        time.sleep(0.1)


def _group_alive(group: int) -> bool:
    # A leader this process started stays a zombie, and its group alive to killpg, until it
    # is reaped here.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(group, os.WNOHANG)
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def host_pids(host: str) -> list[int]:
    result = subprocess.run(
        ["ip", "netns", "pids", namespace(host)], text=True, capture_output=True, check=False
    )
    return [int(item) for item in result.stdout.split()]


def host_kill(host: str) -> None:
    """The host dies: every process in its namespace is killed at once, nothing shuts down."""
    for value in host_pids(host):
        with contextlib.suppress(ProcessLookupError):
            os.kill(value, signal.SIGKILL)
    for name, service in services().items():
        if service.host == host:
            with contextlib.suppress(FileNotFoundError, ValueError):
                _group_alive(int(_pid_file(name).read_text()))


def wait_for_port(address: str, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answers on {address}:{port}") from None
            time.sleep(0.2)


def wait_for_http(url: str, *, host_header: str | None = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"Host": host_header} if host_header else {})
    while True:
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} does not answer 200")
        time.sleep(0.3)


def wait_for_postgres(host: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while (
        subprocess.run(
            [str(PG_BIN / "pg_isready"), "-q", "-h", HOSTS[host], "-p", str(PG_PORT)],
            check=False,
        ).returncode
        != 0
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL on {host} does not accept connections")
        time.sleep(0.2)


def psql(sql: str, *, host: str = "db", database: str = "postgres") -> str:
    """Run SQL as the superuser over the host's Unix socket; return the unaligned output."""
    socket_dir = STATE / "pg" / ("run" if host == "db" else "run-replica")
    argv = [
        str(PG_BIN / "psql"),
        "-h",
        str(socket_dir),
        "-p",
        str(PG_PORT),
        "-U",
        "postgres",
        "-d",
        database,
        "-v",
        "ON_ERROR_STOP=1",
        "-qAtc",
        sql,
    ]
    return _run(_in_host(host, argv, "postgres")).stdout.strip()


def _postgres_primary_create() -> None:
    data = STATE / "pg" / "primary"
    for folder in (STATE / "pg", STATE / "pg" / "run", STATE / "pg" / "run-replica"):
        folder.mkdir(parents=True, exist_ok=True)
    (STATE / "pg" / "archive").mkdir(exist_ok=True)
    shutil.chown(STATE / "pg", "postgres", "postgres")
    for name in ("run", "run-replica", "archive"):
        shutil.chown(STATE / "pg" / name, "postgres", "postgres")
    _run(
        _in_host(
            "db",
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
            ],
            "postgres",
        )
    )
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\ninclude '{ROOT / 'ops' / 'postgresql' / 'oms.conf'}'\n")
        # Small for a machine shared with other work.
        conf.write("shared_buffers = 128MB\n")
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write(f"host {DB_NAME} {DB_USER} {SUBNET}.0/24 scram-sha-256\n")
        hba.write(f"host replication {REPLICATION_USER} {SUBNET}.0/24 scram-sha-256\n")


def _postgres_roles() -> None:
    password = _secret("db-password")
    replication = _secret("replication-password")
    psql(
        f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{password}';"
        f"CREATE ROLE {REPLICATION_USER} LOGIN REPLICATION PASSWORD '{replication}';"
        # The web's timeout: a statement running longer has no request waiting for it.
        f"ALTER ROLE {DB_USER} SET statement_timeout = '30s';"
    )
    psql(f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}")
    # The OMS makes its trigram and other extensions in migrations; it owns its schema.
    psql(f"ALTER SCHEMA public OWNER TO {DB_USER}", database=DB_NAME)
    psql("CREATE EXTENSION IF NOT EXISTS pg_trgm", database=DB_NAME)


def _postgres_replica_create() -> None:
    """A streaming standby made from a base backup of the primary (pg_basebackup -R)."""
    passfile = STATE / "pg" / "replica.pgpass"
    passfile.write_text(f"*:*:*:{REPLICATION_USER}:{_secret('replication-password')}\n")
    passfile.chmod(0o600)
    shutil.chown(passfile, "postgres", "postgres")
    environment = {**os.environ, "PGPASSFILE": str(passfile)}
    _run(
        _in_host(
            "replica",
            [
                "env",
                f"PGPASSFILE={passfile}",
                str(PG_BIN / "pg_basebackup"),
                "-h",
                HOSTS["db"],
                "-p",
                str(PG_PORT),
                "-U",
                REPLICATION_USER,
                "-D",
                str(STATE / "pg" / "replica"),
                "--wal-method=stream",
                "--write-recovery-conf",
                "--checkpoint=fast",
            ],
            "postgres",
        ),
        env=environment,
    )


def manage(*args: str, host: str = "app1") -> str:
    """Run a management command on an app host, with the deployment's environment."""
    argv = [str(VENV_BIN / "python"), str(ROOT / "manage.py"), *args]
    environment = app_environment(host)
    return _run(_in_host(host, argv), cwd=ROOT, env=environment).stdout


def backup_dump_restore() -> dict[str, tuple[int, int]]:
    """pg_dump the database, pg_restore it into a new one, and return each table's row count
    in both: the logical backup restores whole."""
    backup = STATE / "backup"
    backup.mkdir(parents=True, exist_ok=True)
    shutil.chown(backup, "postgres", "postgres")
    dump = backup / "oms.dump"
    socket_dir = str(STATE / "pg" / "run")
    connection = ["-h", socket_dir, "-p", str(PG_PORT), "-U", "postgres"]
    _run(
        _in_host(
            "db",
            [str(PG_BIN / "pg_dump"), *connection, "--format=custom", f"--file={dump}", DB_NAME],
            "postgres",
        )
    )
    psql("DROP DATABASE IF EXISTS oms_restored")
    psql(f"CREATE DATABASE oms_restored OWNER {DB_USER}")
    _run(
        _in_host(
            "db",
            [
                str(PG_BIN / "pg_restore"),
                *connection,
                "--dbname=oms_restored",
                "--exit-on-error",
                "--no-owner",
                f"--role={DB_USER}",
                str(dump),
            ],
            "postgres",
        )
    )
    tables = ["orders_order", "orders_orderline", "inventory_stockmovement", "inventory_stocklevel"]
    counts = {}
    for table in tables:
        counts[table] = (
            int(psql(f"SELECT count(*) FROM {table}", database=DB_NAME)),
            int(psql(f"SELECT count(*) FROM {table}", database="oms_restored")),
        )
    psql("DROP DATABASE oms_restored")
    return counts


def backup_point_in_time_restore() -> tuple[int, int, bool]:
    """Restore a base backup and replay the archived WAL on the replica's host, as after
    losing the primary: a base backup is taken, then a row is written after it; the
    restored server must hold that row (it came from the archive, not from the backup).
    Return (orders in the primary, orders in the restored server, the later row found)."""
    base = STATE / "backup" / "base"
    restored_run = STATE / "backup" / "run"
    for folder in (STATE / "backup", restored_run):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres", "postgres")
    _run(
        _in_host(
            "db",
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                str(STATE / "pg" / "run"),
                "-p",
                str(PG_PORT),
                "-U",
                "postgres",
                "-D",
                str(base),
                # The WAL comes from the archive at restore time, as with a nightly backup.
                "--wal-method=none",
                "--checkpoint=fast",
            ],
            "postgres",
        )
    )
    marker = secrets.token_hex(8)
    psql(
        "CREATE TABLE IF NOT EXISTS restore_marker (value text);"
        f"INSERT INTO restore_marker VALUES ('{marker}');"
    )
    orders = int(psql("SELECT count(*) FROM orders_order", database=DB_NAME))
    # Close the WAL segment holding the marker so that it reaches the archive now.
    segment = psql("SELECT pg_walfile_name(pg_switch_wal())")
    deadline = time.monotonic() + 60
    while not (STATE / "pg" / "archive" / segment).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the WAL segment {segment} was not archived")
        time.sleep(0.5)
    (base / "recovery.signal").touch()
    shutil.chown(base / "recovery.signal", "postgres", "postgres")
    (base / "standby.signal").unlink(missing_ok=True)
    port = PG_PORT + 1
    argv = [
        str(PG_BIN / "postgres"),
        "-D",
        str(base),
        "-c",
        f"listen_addresses={HOSTS['replica']}",
        "-c",
        f"port={port}",
        "-c",
        f"unix_socket_directories={restored_run}",
        "-c",
        "archive_mode=off",
        "-c",
        f"restore_command=cp {STATE / 'pg' / 'archive'}/%f %p",
        "-c",
        "recovery_target_action=promote",
    ]
    log = (STATE / "logs" / "postgres-restored.log").open("a")
    process = subprocess.Popen(
        _in_host("replica", argv, "postgres"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        query = [str(PG_BIN / "psql"), "-h", str(restored_run), "-p", str(port), "-U", "postgres"]
        deadline = time.monotonic() + 120
        while True:
            answer = subprocess.run(
                _in_host("replica", [*query, "-qAtc", "SELECT pg_is_in_recovery()"], "postgres"),
                capture_output=True,
                text=True,
                check=False,
            )
            if answer.stdout.strip() == "f":
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the restored server did not finish recovery")
            time.sleep(0.5)
        found = _run(
            _in_host(
                "replica",
                [*query, "-qAtc", f"SELECT count(*) FROM restore_marker WHERE value = '{marker}'"],
                "postgres",
            )
        ).stdout.strip()
        restored_orders = _run(
            _in_host(
                "replica",
                [*query, "-d", DB_NAME, "-qAtc", "SELECT count(*) FROM orders_order"],
                "postgres",
            )
        ).stdout.strip()
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        log.close()
        shutil.rmtree(base, ignore_errors=True)
    return orders, int(restored_orders), found == "1"


def pgbouncer_start() -> str:
    """Start PgBouncer on the database host with ops/pgbouncer/pgbouncer.ini; return the
    DATABASE_URL that reaches the database through it."""
    folder = STATE / "pgbouncer"
    folder.mkdir(parents=True, exist_ok=True)
    users = folder / "userlist.txt"
    users.write_text(f'"{DB_USER}" "{_secret("db-password")}"\n')
    config = (ROOT / "ops" / "pgbouncer" / "pgbouncer.ini").read_text()
    config = config.replace("/etc/pgbouncer/userlist.txt", str(users))
    (folder / "pgbouncer.ini").write_text(config)
    for path in (folder, users, folder / "pgbouncer.ini"):
        shutil.chown(path, "postgres", "postgres")
    users.chmod(0o600)
    start("pgbouncer")
    wait_for_port(HOSTS["db"], PGBOUNCER_PORT)
    return database_url(port=PGBOUNCER_PORT)


def up() -> None:
    """Start the whole deployment from nothing (a leftover of an earlier run is removed)."""
    down()
    STATE.mkdir(parents=True, exist_ok=True)
    _run([str(ROOT / "ops" / "cluster" / "net.sh"), "up"])
    _postgres_primary_create()
    start("postgres-primary")
    wait_for_port(HOSTS["db"], PG_PORT)
    wait_for_postgres("db")
    _postgres_roles()
    _postgres_replica_create()
    start("postgres-replica")
    (STATE / "redis").mkdir(exist_ok=True)
    start("redis")
    wait_for_port(HOSTS["db"], REDIS_PORT)
    wait_for_postgres("replica")

    # What a release does before its processes start: migrate once, collect static files.
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput", "--verbosity=0")
    for name in ("app1", "app2"):
        start(name)
    for name in ("app1", "app2"):
        # As HAProxy's health check asks.
        wait_for_http(f"http://{HOSTS[name]}:{APP_PORT}/healthz", host_header="localhost")
    start("haproxy")
    wait_for_port(HOSTS["lb"], LB_PORT)
    for name in ("worker1", "worker2", "beat"):
        start(name)
    wait_for_http(f"{LB_URL}/healthz")
    deadline = time.monotonic() + 30
    while haproxy_servers() != {"app1": "UP", "app2": "UP"}:
        if time.monotonic() > deadline:
            raise TimeoutError(f"HAProxy sees {haproxy_servers()}")
        time.sleep(0.5)


def haproxy_servers() -> dict[str, str]:
    """Each app server's state as HAProxy's health checks see it (UP, DOWN, ...)."""
    url = f"http://{HOSTS['lb']}:{LB_STATS_PORT}/stats;csv"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    rows = [line.split(",") for line in text.splitlines()]
    return {row[1]: row[17] for row in rows if row[0] == "app" and row[1] != "BACKEND"}


def down() -> None:
    """Stop every service and remove the network and the state (safe to run again)."""
    for name in reversed(list(services())):
        with contextlib.suppress(OSError, ValueError):
            stop(name, timeout=10)
    subprocess.run([str(ROOT / "ops" / "cluster" / "net.sh"), "down"], check=True)
    if STATE.exists():
        shutil.rmtree(STATE)


def status() -> list[tuple[str, str, str, int | None]]:
    return [
        (name, service.host, HOSTS[service.host], pid(name)) for name, service in services().items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    options = parser.parse_args(argv)
    if options.command == "up":
        begun = time.monotonic()
        up()
        print(f"The deployment is up in {time.monotonic() - begun:.0f} s: {LB_URL}/")
        for name, host, address, value in status():
            print(f"  {name:17} {host:8} {address:12} pid {value}")
        print(f"Logs: {STATE / 'logs'}; `make cluster-down` stops and removes it.")
    elif options.command == "down":
        down()
        print("The deployment is down; nothing of it is left.")
    else:
        for name, host, address, value in status():
            print(f"  {name:17} {host:8} {address:12} {'pid ' + str(value) if value else 'down'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
