"""Errors reach a Sentry-compatible server, tagged with the request id, when SENTRY_DSN is
set: a real local HTTP server takes the SDK's envelopes. Off when it is not."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.worker import ROOT

SCRIPT = """
import django, sentry_sdk
django.setup()
from core import request_id
with request_id.bound("sentry-r1"):
    try:
        1 / 0
    except ZeroDivisionError:
        sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=10)
print("initialised" if sentry_sdk.get_client().is_active() else "off")
"""


@pytest.fixture
def sentry_server():
    """Record the bodies posted to it, as Sentry's ingest would take them."""
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            encoding = self.headers.get("Content-Encoding", "")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            bodies.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], bodies
    server.shutdown()


def run(**env: str) -> str:
    # A DSN in this shell's environment must not leak into the "off" case.
    environment = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    environment.update({"DJANGO_SETTINGS_MODULE": "oms.test_settings", **env})
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_an_error_is_reported_with_its_request_id(sentry_server):
    port, bodies = sentry_server
    # when
    said = run(SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/1")
    # then
    assert said == "initialised"
    (envelope,) = [b for b in bodies if b"ZeroDivisionError" in b]
    assert b'"request_id":"sentry-r1"' in envelope.replace(b" ", b"")


def test_nothing_is_sent_without_a_dsn(sentry_server):
    _, bodies = sentry_server
    assert run() == "off"
    assert bodies == []
