from django.db import migrations

CHANNELS = [
    ("web", "Website"),
    ("app", "Mobile app"),
    ("store", "Stores"),
    ("marketplace", "Marketplaces"),
]


def create_channels(apps, schema_editor):
    Channel = apps.get_model("orders", "Channel")
    for code, name in CHANNELS:
        Channel.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(create_channels, migrations.RunPython.noop)]
