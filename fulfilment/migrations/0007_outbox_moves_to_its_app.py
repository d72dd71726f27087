"""The outbox models move to the outbox app; their tables stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('fulfilment', '0006_location_order_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is: only Django's idea of its owner moves.
            state_operations=[
                migrations.RemoveField(
                    model_name='delivery',
                    name='event',
                ),
                migrations.RemoveField(
                    model_name='delivery',
                    name='subscription',
                ),
                migrations.DeleteModel(
                    name='OutboxCursor',
                ),
                migrations.RemoveField(
                    model_name='outboxevent',
                    name='location',
                ),
                migrations.RemoveField(
                    model_name='webhooksubscription',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='webhooksubscription',
                    name='location',
                ),
                migrations.DeleteModel(
                    name='Delivery',
                ),
                migrations.DeleteModel(
                    name='OutboxEvent',
                ),
                migrations.DeleteModel(
                    name='WebhookSubscription',
                ),
            ],
        ),
    ]
