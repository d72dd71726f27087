from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        from core.metrics import collector_register
        from operations.collectors import DomainCollector

        collector_register(DomainCollector())
