"""The outbox models, taken over from the fulfilment app with their tables and permissions."""

import django.core.serializers.json
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


MODELS = ("webhooksubscription", "outboxevent", "delivery", "outboxcursor")


def content_types_move(apps, schema_editor):
    """Relabel the models' content types, so permissions already granted still apply."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="outbox", model=model).exists():
            ContentType.objects.filter(app_label="fulfilment", model=model).update(
                app_label="outbox"
            )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('fulfilment', '0007_outbox_moves_to_its_app'),
        ('inventory', '0006_stock_state_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is: only Django's idea of its owner moves.
            state_operations=[
                migrations.CreateModel(
                    name='OutboxCursor',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=64, unique=True)),
                        ('position', models.BigIntegerField(default=0)),
                        ('gap_since', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'fulfilment_outboxcursor',
                    },
                ),
                migrations.CreateModel(
                    name='OutboxEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('uid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('event', models.CharField(max_length=64)),
                        ('key', models.CharField(blank=True, max_length=100)),
                        ('data', models.JSONField(encoder=django.core.serializers.json.DjangoJSONEncoder)),
                        ('created_at', models.DateTimeField()),
                        ('fanned_out', models.BooleanField(default=False)),
                        ('location', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inventory.location')),
                    ],
                    options={
                        'verbose_name': 'outbox event',
                        'db_table': 'fulfilment_outboxevent',
                        'ordering': ['-id'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookSubscription',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.URLField(max_length=500)),
                        ('secret', models.CharField(help_text='Signs each body (HMAC-SHA256).', max_length=255)),
                        ('events', models.JSONField(default=list, help_text='Event types to send, e.g. order.created.')),
                        ('description', models.CharField(blank=True, max_length=255)),
                        ('active', models.BooleanField(default=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('location', models.ForeignKey(blank=True, help_text='A warehouse or 3PL: only its own fulfilment and stock events. Empty: every location.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='webhook_subscriptions', to='inventory.location')),
                    ],
                    options={
                        'verbose_name': 'webhook subscription',
                        'db_table': 'fulfilment_webhooksubscription',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='Delivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(blank=True, max_length=100)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('failed', 'Failed, will retry'), ('delivered', 'Delivered'), ('dead', 'Dead')], default='pending', max_length=12)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('next_try_at', models.DateTimeField()),
                        ('horizon_at', models.DateTimeField()),
                        ('claimed_until', models.DateTimeField(blank=True, null=True)),
                        ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('last_status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('last_response', models.TextField(blank=True, help_text='The start of the last answer.')),
                        ('last_error', models.CharField(blank=True, max_length=255)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField()),
                        ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='outbox.outboxevent')),
                        ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='outbox.webhooksubscription')),
                    ],
                    options={
                        'verbose_name_plural': 'deliveries',
                        'db_table': 'fulfilment_delivery',
                        'ordering': ['-id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='outboxevent',
                    index=models.Index(condition=models.Q(('fanned_out', False)), fields=['id'], name='outbox_event_to_fan_out'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(condition=models.Q(('status__in', ['pending', 'failed'])), fields=['next_try_at'], name='delivery_due'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(condition=models.Q(('status__in', ['pending', 'failed'])), fields=['subscription', 'key', 'event'], name='delivery_waiting_by_key'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(fields=['subscription', 'status', 'id'], name='delivery_by_subscription'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(condition=models.Q(('status', 'dead')), fields=['id'], name='delivery_dead'),
                ),
                migrations.AddConstraint(
                    model_name='delivery',
                    constraint=models.UniqueConstraint(fields=('subscription', 'event'), name='delivery_one_per_subscription_event'),
                ),
            ],
            database_operations=[migrations.RunPython(content_types_move, migrations.RunPython.noop)],
        ),
    ]
