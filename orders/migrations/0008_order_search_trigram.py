"""Trigram indexes for finding customers by part of a name, e-mail or phone number.

PostgreSQL only (the pg_trgm extension); SQLite reads the table instead (orders.search).
The expressions are those Django writes for `icontains` and `contains`, so the planner uses
them. Built CONCURRENTLY: the orders table stays writable while they build.
"""

from django.db import migrations

INDEXES = {
    "order_name_trgm": "(UPPER((customer_name)::text)) gin_trgm_ops",
    "order_email_trgm": "(UPPER((customer_email)::text)) gin_trgm_ops",
    "order_phone_trgm": "customer_phone_digits gin_trgm_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON orders_order USING gin ({expression})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("orders", "0007_channel_code_unique_ignoring_case")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
