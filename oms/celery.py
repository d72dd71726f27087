"""The Celery app: settings from Django (CELERY_*), tasks autodiscovered.

Its processes log as the web does (Django's LOGGING: JSON lines with the request id), and
each task runs under the request id of whatever sent it (core.task_context). A worker host
serves its processes' metrics itself when OMS_WORKER_METRICS_PORT is set: the web's
/metrics cannot read another host's files.
"""

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _logging_from_django(**_: Any) -> None:
    # Connected, this signal stops Celery from installing its own text format on the root
    # logger: worker and beat write the same JSON lines as the web processes.
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@worker_init.connect
def _metrics_server(**_: Any) -> None:
    # In the worker's main process, before it forks its pool: the pool's processes write
    # their figures into PROMETHEUS_MULTIPROC_DIR, which this server adds up per scrape.
    from django.conf import settings

    if settings.OMS_WORKER_METRICS_PORT:
        from core.metrics import worker_metrics_serve

        worker_metrics_serve(
            address=settings.OMS_WORKER_METRICS_ADDRESS, port=settings.OMS_WORKER_METRICS_PORT
        )


def _connect_task_context() -> None:
    from core import task_context

    task_context.connect()


_connect_task_context()
