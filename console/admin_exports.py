"""Admin exports (django-import-export) of many rows run as a console background job.

The admins' mixin (core.admin_exports) hands such exports to `admin_export_run_later`,
which the console registers when it starts.

A small export still answers its file in the request. A bigger one records the rows the
person chose (the primary keys of the changelist's filtered, location-scoped queryset) and
the export form's choices, and a worker writes the file with the same admin, resource and
format. The worker re-applies the person's scoping: a row they could no longer see, or a
location they left, is not written.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from console.jobs import JOB_MAX_ROWS, JOB_TASK
from console.models import BackgroundJob
from core.enqueue import task_send_after_commit


def admin_export_run_later(
    *, model_admin, request: HttpRequest, file_format: int, form_data, queryset
) -> HttpResponse:
    """Start the export as a job (the rows chosen, up to JOB_MAX_ROWS) and send the person to
    its page: the runner of `core.admin_exports.BackgroundExportMixin`."""
    job = admin_export_start(
        model_admin=model_admin,
        actor=request.user,
        file_format=file_format,
        form_data=form_data,
        ids=list(queryset.values_list("pk", flat=True)[:JOB_MAX_ROWS]),
    )
    return redirect("oms_console:job", job.pk)


def _label(model_admin) -> str:
    return model_admin.opts.label_lower


@transaction.atomic(durable=True)
def admin_export_start(
    *,
    model_admin,
    actor: AbstractBaseUser,
    file_format: int,
    form_data: dict[str, list[str]],
    ids: list,
) -> BackgroundJob:
    """Record an admin export job and enqueue its task once the record is committed."""
    job = BackgroundJob.objects.create(
        kind=BackgroundJob.Kind.EXPORT,
        # Shown on the job pages where a work queue's title would be.
        queue=_label(model_admin)[:32],
        params={
            "admin_model": _label(model_admin),
            "format": file_format,
            "form": form_data,
            "ids": ids,
        },
        actor=actor,
        total=len(ids),
        summary="Waiting for a worker.",
    )
    task_send_after_commit(JOB_TASK, job.pk)
    return job
