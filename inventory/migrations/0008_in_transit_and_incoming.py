from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0007_keys_ignoring_case_and_count_import_lease'),
    ]

    operations = [
        migrations.AddField(
            model_name='stocklevel',
            name='in_transit',
            field=models.IntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name='stocklevel',
            name='incoming',
            field=models.IntegerField(db_default=0, default=0),
        ),
        migrations.AddConstraint(
            model_name='stocklevel',
            constraint=models.CheckConstraint(condition=models.Q(('in_transit__gte', 0)), name='stock_in_transit_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='stocklevel',
            constraint=models.CheckConstraint(condition=models.Q(('incoming__gte', 0)), name='stock_incoming_not_negative'),
        ),
    ]
