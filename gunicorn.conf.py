"""gunicorn's settings for the OMS in production: `gunicorn -c gunicorn.conf.py oms.wsgi`.

The Procfile and the README use this file; a flag on the command line (or in
GUNICORN_CMD_ARGS) overrides any line here. The limits below refuse a malformed or oversized
request head before Django sees it; bodies are capped per endpoint by core/limits.py.
"""

import multiprocessing
import os

# Behind the reverse proxy on the same machine; `--bind 0.0.0.0:8000` in a container.
bind = [f"127.0.0.1:{os.environ.get('PORT', '8000')}"]
# Sync workers: each request holds one database connection, and nothing else waits on I/O.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)

# A request that takes longer is killed and its worker replaced: nothing legitimate in the
# web process runs that long (big counts and exports run as background tasks).
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle a worker after this many requests (give or take the jitter, so that they do not
# all restart at once): memory a long run accumulates goes back.
max_requests = 2000
max_requests_jitter = 200

# The request head: its first line (URL with query: availability of many SKUs fits), the
# number of header fields, and each field's size.
limit_request_line = 8190
limit_request_fields = 50
limit_request_field_size = 8190

# The app is imported once, before the workers fork: a recycled worker starts at once.
preload_app = True
# No control socket: one fixed path per user, which two servers on a machine would share.
control_socket_disable = True

accesslog = "-"
errorlog = "-"


def child_exit(server, worker):
    # Prometheus's multiprocess mode (PROMETHEUS_MULTIPROC_DIR): a worker that exits (recycled
    # after max_requests, or killed) leaves its files; its live gauges must stop counting.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def when_ready(server):
    """Read the data that places addresses (orders.places) once, in the master: every
    worker forked from it has it, and no order waits seconds for it."""
    from orders.places import places_load

    places_load()
