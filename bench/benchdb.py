"""The throwaway PostgreSQL database each benchmark makes beside the configured one."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def database_create(url: str, suffix: str) -> str:
    """Create (again) the database `<name of url><suffix>`; return its URL."""
    import psycopg

    name, admin = _names(url, suffix)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(url, suffix)


def database_url(url: str, suffix: str) -> str:
    """The URL of the database `database_create(url, suffix)` makes (a kept one, reused)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{_names(url, suffix)[0]}"))


def database_drop(url: str, suffix: str) -> None:
    """Drop the database `database_create(url, suffix)` made."""
    import psycopg

    name, admin = _names(url, suffix)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _names(url: str, suffix: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "oms") + suffix
    return name, urlunsplit(parts._replace(path="/postgres"))


def backend_pid() -> int:
    """The process id of the PostgreSQL backend serving Django's default connection."""
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def backend_seconds(pid: int) -> float:
    """CPU seconds a PostgreSQL backend on this machine has used (user + system): on a
    loaded machine a comparison's steadier figure than the wall clock."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # PostgreSQL on another machine
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
