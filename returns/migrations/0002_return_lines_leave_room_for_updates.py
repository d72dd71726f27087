from django.db import migrations

# Every return line is updated when its units come in (its received, restocked, damaged and
# disposed counters), often all the lines of a page at once: a 3PL's file receives whole
# returns, and a return's lines are written together. With half of each page left free the
# new version of every line fits beside the old one and no index changes (a heap-only
# update): a file of 10,000 lines writes the rows and not their five indexes too
# (docs/performance.md). Existing pages keep their fill until the table is rewritten.
FILLFACTOR = 50


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE returns_returnline SET (fillfactor = {FILLFACTOR})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE returns_returnline RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0001_return_models"),
    ]

    operations = [migrations.RunPython(fillfactor_set, fillfactor_reset)]
