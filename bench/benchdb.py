"""The throwaway PostgreSQL database each benchmark makes beside the configured one."""

from __future__ import annotations

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
