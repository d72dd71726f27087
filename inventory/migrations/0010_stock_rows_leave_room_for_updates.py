from django.db import migrations

# Stock rows are updated all day (allocated, reserved, in_transit, incoming move on every
# order, transfer and purchase order). With a tenth of each page left free, the new version
# of a row fits beside the old one and no index changes (a heap-only update): a purchase-order
# file moving `incoming` on 50,000 rows writes the rows and not the eight indexes too
# (docs/performance.md). Existing pages keep their fill until the table is rewritten.
FILLFACTOR = 90


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE inventory_stocklevel SET (fillfactor = {FILLFACTOR})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE inventory_stocklevel RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0009_merge_bin_quarantined_supply"),
    ]

    operations = [migrations.RunPython(fillfactor_set, fillfactor_reset)]
