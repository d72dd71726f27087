"""A storefront on localhost: a real HTTP server on a thread of the test process.

It keeps what it was sent (`calls`), answers from the state the test gave it, and can be
told to misbehave the way real storefronts do: down (503) until a given moment of a clock
the test controls (`down_until`, `now`), or the next answers scripted (`script`: a status,
headers and a body for each of the next requests), for rate limits and server errors.

Its clock stands still unless a test moves it (`now = ...`), so that an outage or a rate
limit's refill lasts exactly what the test says. `real_clock=True` makes it follow the wall
clock instead, for a run that lasts minutes (the benchmark): a standing clock never refills
Shopify's cost budget, and the shop would answer THROTTLED for good once it is spent.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Call:
    """One request the storefront received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class Answer:
    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeStorefront:
    """Subclasses answer `handle(call) -> Answer` from their state."""

    def __init__(self, *, real_clock: bool = False) -> None:
        self.calls: list[Call] = []
        self.script: deque[Answer] = deque()
        self.down_until: datetime | None = None
        # The storefront's clock: the test moves it (no sleeping through an outage).
        self._now: datetime = datetime.now(UTC)
        self.real_clock = real_clock
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    @property
    def now(self) -> datetime:
        return datetime.now(UTC) if self.real_clock else self._now

    @now.setter
    def now(self, moment: datetime) -> None:
        self.real_clock = False
        self._now = moment

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, call: Call) -> Answer:
        raise NotImplementedError

    def answer(self, call: Call) -> Answer:
        with self.lock:
            self.calls.append(call)
            if self.down_until is not None and self.now < self.down_until:
                return Answer(503, {"errors": "Service Unavailable"})
            if self.script:
                return self.script.popleft()
            return self.handle(call)

    def start(self) -> FakeStorefront:
        storefront = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                call = Call(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers.items()),
                    body,
                )
                answer = storefront.answer(call)
                raw = (
                    answer.body
                    if isinstance(answer.body, bytes)
                    else json.dumps(answer.body).encode()
                )
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = _serve  # http.server's names

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256

        self._server = Server(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
