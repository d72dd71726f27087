"""An index on the inventory ledger for the days-of-cover rule, created by the alerts app.

The rule aggregates the shipments of the velocity window per stock row on every sweep
(alerts.evaluation.stock.days_of_cover). Without this index that is a scan of the whole
ledger; with it, a range scan of the window's shipments that reads no table page
(PostgreSQL: an index-only scan). It is partial (shipments only) so it grows with the
shipments and adds nothing to the writes of receipts, counts and adjustments, and none
to the order capture path (allocation writes no ledger line).

It lives here, not in the inventory app's migrations, because the alerts app is what
reads it; plain SQL (`IF NOT EXISTS`) so it is the same on PostgreSQL and SQLite and
harmless if the inventory app ever declares the same index.
"""

from django.db import migrations

INDEX = "alerts_shipment_velocity"


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                f"CREATE INDEX IF NOT EXISTS {INDEX} ON inventory_stockmovement "
                "(created_at, stock_id, quantity) WHERE kind = 'shipment'"
            ),
            reverse_sql=f"DROP INDEX IF EXISTS {INDEX}",
        ),
    ]
