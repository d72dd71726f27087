#!/usr/bin/env python
"""The API token's statement alone: PostgreSQL's and the app's CPU per request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/token_query.py \
        [--calls 3000]

Runs against the database in `DATABASE_URL` as it is (`manage.py seed_demo` loaded). It
makes a key with `create_api_token` (the integration role), then runs, on one
connection, the statement `accounts.authentication` sends for every API request, and the
same statement without the caller's access columns (the bare token read), in turns, and
prints for each the CPU per call of the PostgreSQL backend and of this process, and the
app's work of turning the row into the user's access (`remember_access`), with the load
average.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
os.environ.setdefault("LOG_LEVEL", "WARNING")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("bench/token_query.py: skipped, set DATABASE_URL to a PostgreSQL database")
        return

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from accounts.access import remember_access
    from accounts.authentication import _token_query

    printed = io.StringIO()
    call_command("create_api_token", "bench-profile", stdout=printed, stderr=io.StringIO())
    key = printed.getvalue().strip().split()[-1]
    statement, token_fields, user_fields, _ = _token_query(
        Token, get_user_model(), connection.vendor
    )
    # The bare read: the token and its user, none of the access columns after them.
    columns = len(token_fields) + len(user_fields)
    source = f" FROM {Token._meta.db_table} t"
    select, rest = statement.rsplit(source, 1)
    bare = ", ".join(select.split(", ")[:columns]) + source + rest
    statements = {"token query": statement, "bare token read": bare}

    class Caller:
        pass

    with connection.cursor() as cursor:
        backend = connection.connection.info.backend_pid
        for _ in range(options.rounds):
            for name, sql in statements.items():
                for _ in range(50):  # prepared, planned, cached
                    cursor.execute(sql, [key])
                    row = cursor.fetchone()
                pg, app = _backend_cpu(backend), time.process_time()
                for _ in range(options.calls):
                    cursor.execute(sql, [key])
                    row = cursor.fetchone()
                pg, app = _backend_cpu(backend) - pg, time.process_time() - app
                access = ""
                if len(row) > columns:
                    started = time.process_time()
                    for _ in range(options.calls):
                        remember_access(Caller(), *row[columns:])
                    spent = time.process_time() - started
                    access = f", access {spent / options.calls * 1e6:.1f} µs"
                print(
                    f"{name}: PostgreSQL {pg / options.calls * 1e3:.3f} ms CPU per call,"
                    f" app {app / options.calls * 1e3:.3f} ms{access};"
                    f" load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
                )


if __name__ == "__main__":
    main()
