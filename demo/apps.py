from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo network and its staff logins (`seed_demo`, `seed_demo_staff`): `make run` only."""

    name = "demo"
    verbose_name = "Demo data"
