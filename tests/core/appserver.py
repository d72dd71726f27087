"""A second app process for tests: gunicorn with the production settings module and the
project's gunicorn.conf.py, on the test database, configured through its environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.worker import ROOT, _database_url


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppServer:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def app_server_start(var_dir: Path, **env: str) -> AppServer:
    """Start gunicorn (2 workers) and wait until /healthz answers."""
    port = free_port()
    log = var_dir / "gunicorn.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        # DEBUG serves the admin's static files without collectstatic; nothing else here
        # depends on it.
        "DEBUG": "1",
        "SECRET_KEY": "tests-only-" + "y" * 50,
        "DATABASE_URL": _database_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "OMS_VAR_DIR": str(var_dir),
        "OMS_TRUSTED_PROXY_COUNT": "0",
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "oms.wsgi",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    server = AppServer(process, port, log)
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{server.url}/healthz", timeout=30).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
