"""Idempotency records move to the core app; their table stays."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0005_console_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is: only Django's idea of its owner moves.
            state_operations=[
                migrations.DeleteModel(
                    name='IdempotencyRecord',
                ),
            ],
        ),
    ]
