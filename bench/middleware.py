#!/usr/bin/env python
"""The middleware stack's CPU per request, each middleware's share, with no view work.

    python bench/middleware.py [--requests 10000] [--multiprocess]

Calls the WSGI application in-process, as gunicorn calls it, on a view that does
nothing (mounted at the order capture's path, so the route and its metrics are those
of capture), and prints the CPU per request of:

* the whole stack for a token-authenticated API POST (no cookie) and for a console GET
  carrying a session cookie;
* the stack without each middleware in turn: the difference is that middleware's cost;
* no middleware at all: Django's handler, the URL resolver and the view.

`--multiprocess` runs with `PROMETHEUS_MULTIPROC_DIR` set (a fresh folder), as the
gunicorn workers run in production: every sample is then written to an mmap'd file.
No database is touched: the figures are the stack's own, free of PostgreSQL's noise.
"""

from __future__ import annotations

import argparse
import atexit
import io
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def environ_for(method: str, path: str, body: bytes, cookie: str | None) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "HTTP_USER_AGENT": "bench/1.0",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if cookie is None:
        environ["HTTP_AUTHORIZATION"] = "Token " + "0" * 40
    else:
        environ["HTTP_COOKIE"] = cookie
    return environ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--multiprocess", action="store_true")
    options = parser.parse_args()
    if options.multiprocess:
        # Read by prometheus_client when it is first imported.
        folder = tempfile.mkdtemp(prefix="oms-bench-prom-")
        atexit.register(shutil.rmtree, folder, True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oms")

    import django

    django.setup()
    # A stack missing the session middleware answers 500s: counted, not logged.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    settings.ROOT_URLCONF = "bench.middleware_urls"
    full = list(settings.MIDDLEWARE)
    body = b'{"lines": []}'
    kinds = {
        "API POST, token": ("POST", "/api/v1/orders/", body, None),
        "console GET, session cookie": ("GET", "/console/", b"", "sessionid=x" + "0" * 31),
    }

    def per_request(middleware: list[str], kind: str) -> float | None:
        settings.MIDDLEWARE = middleware
        application = WSGIHandler()
        method, path, payload, cookie = kinds[kind]
        statuses: set[str] = set()

        def start_response(status: str, headers: list) -> None:
            statuses.add(status)

        def run(count: int) -> None:
            for _ in range(count):
                chunks = application(environ_for(method, path, payload, cookie), start_response)
                chunks.close()

        run(200)  # warm up
        if statuses != {"201 Created"}:
            return None  # a stack that cannot work without the one left out
        best = float("inf")
        # The least of three: other work on the machine only ever adds to a figure.
        for _ in range(3):
            started = time.process_time()
            run(options.requests)
            best = min(best, time.process_time() - started)
        return best * 1e6 / options.requests

    mode = "multiprocess" if options.multiprocess else "single-process"
    print(f"{options.requests} requests each, prometheus_client {mode}, CPU µs per request")
    for kind in kinds:
        print(f"\n{kind}: whole stack {per_request(full, kind):.1f}, ", end="")
        print(f"no middleware {per_request([], kind):.1f}")
    # Each one's share of the API request: the stack without it, against the whole. (Not
    # for the console: its middleware lean on one another, and one missing is a 500.)
    kind = next(iter(kinds))
    whole = per_request(full, kind)
    assert whole is not None
    print(f"\n{kind}, the stack without each middleware, against the whole:")
    for name in full:
        without = per_request([m for m in full if m != name], kind)
        share = "   n/a" if without is None else f"{whole - without:6.1f}"
        print(f"  {share}  {name}")
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
