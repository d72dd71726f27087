"""A real HTTP receiver on localhost for webhook tests: it records what it is sent.

It answers `status` (200 by default), with `answer` as the body and `headers` when set;
`hold` makes it keep each request waiting until
released (to kill a worker in the middle of a delivery). It can stop and start again on the
same port (a receiver that is down, then back).
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["X-OMS-Event-Id"]


class Receiver:
    def __init__(self, *, status: int = 200):
        self.status = status
        self.answer: bytes | None = None
        self.headers: dict[str, str] = {}
        self.received: list[Received] = []
        self.hold = threading.Event()
        self.hold.set()  # set: answer at once
        self.arrived = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: stop() means down

            def do_POST(self):  # http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(Received(dict(self.headers.items()), body))
                receiver.arrived.set()
                receiver.hold.wait(60)
                answer = receiver.answer
                if answer is None:
                    answer = b'{"ok": true}' if receiver.status < 300 else b"receiver exploded"
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many relay threads connect at once

        self._server = Server(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.hold.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self, name: str | None = None) -> list[Received]:
        return [r for r in self.received if name is None or r.json["event"] == name]
