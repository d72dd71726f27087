"""Admin exports (django-import-export) of many rows run as a console background job.

A small export still answers its file in the request. A bigger one records the rows the
person chose (the primary keys of the changelist's filtered, location-scoped queryset) and
the export form's choices, and a worker writes the file with the same admin, resource and
format. The worker re-applies the person's scoping: a row they could no longer see, or a
location they left, is not written.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, QueryDict
from django.shortcuts import redirect
from django.utils import timezone

from console.models import BackgroundJob
from core.exceptions import DomainError, NotFoundError

# The export form's own fields which do not say what to write.
_FORM_NOISE = ("csrfmiddlewaretoken", "export_items")
CHUNK = 2000


class BackgroundExportMixin:
    """Send an export of more than OMS_EXPORT_SYNC_MAX_ROWS rows to a background job.

    Put it before django-import-export's ExportMixin (or ImportExportModelAdmin) in the
    bases of a ModelAdmin.
    """

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        from console.jobs import JOB_MAX_ROWS

        limit = settings.OMS_EXPORT_SYNC_MAX_ROWS
        # Bounded: a changelist of millions of rows is not counted to say "more than 2000".
        if queryset.values("pk")[: limit + 1].count() <= limit:
            return super()._do_file_export(file_format, request, queryset, export_form)
        formats = list(self.get_export_formats())
        data = export_form.data if export_form is not None else QueryDict()
        job = admin_export_start(
            model_admin=self,
            actor=request.user,
            file_format=formats.index(type(file_format)),
            form_data={key: data.getlist(key) for key in data if key not in _FORM_NOISE},
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
    from console.tasks import console_job_run_task

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
    transaction.on_commit(lambda: console_job_run_task.delay(job.pk))
    return job


def admin_export_write(job: BackgroundJob, progress) -> str:
    """Write the job's file with its admin's resource and format; return the summary."""
    model_admin = _model_admin(job.params["admin_model"])
    request = _request_as(job.actor)
    if not (
        model_admin.has_view_or_change_permission(request)
        and model_admin.has_export_permission(request)
    ):
        raise NotFoundError("This export is not open to the person who started the job.")
    formats = model_admin.get_export_formats()
    try:
        file_format = formats[int(job.params["format"])]()
    except (IndexError, ValueError, TypeError):
        raise DomainError("The export's file format is no longer offered.") from None
    form = _form(model_admin, request, formats, job.params.get("form") or {})
    # The rows chosen in the request, through the person's scope as it is now.
    visible = model_admin.get_queryset(request)
    ids = job.params.get("ids") or []
    progress(job, total=len(ids))
    dataset = None
    for start in range(0, len(ids), CHUNK):
        chunk = visible.filter(pk__in=ids[start : start + CHUNK])
        part = model_admin.get_data_for_export(
            request, chunk, export_form=form, force_native_type=file_format.is_binary()
        )
        if dataset is None:
            dataset = part
        else:
            for row in part:
                dataset.append(row)
        progress(job, processed=min(start + CHUNK, len(ids)))
    if dataset is None:
        dataset = model_admin.get_data_for_export(
            request, visible.none(), export_form=form, force_native_type=file_format.is_binary()
        )
    content = file_format.export_data(dataset)
    if isinstance(content, str):
        content = content.encode("utf-8")
    written = len(dataset)
    stamp = timezone.localtime()
    name = f"{model_admin.opts.model_name}-{stamp:%Y%m%d-%H%M}.{file_format.get_extension()}"
    BackgroundJob.objects.filter(pk=job.pk).update(
        output=content, output_name=name, processed=len(ids)
    )
    job.processed = len(ids)
    return f"Exported {written} row(s) to {name}."


def _model_admin(label: str):
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower == label:
            return model_admin
    raise DomainError("This list can no longer be exported.")


def _request_as(actor) -> HttpRequest:
    """Stand in for the person's request: the admin's scoping and permissions read it."""
    if actor is None or not actor.is_active or not actor.is_staff:
        raise DomainError("The person who started the job can no longer use the admin.")
    request = HttpRequest()
    request.method = "GET"
    request.user = actor
    return request


def _form(model_admin, request, formats, data: dict[str, list[str]]):
    if not data:
        return None
    query = QueryDict(mutable=True)
    for key, values in data.items():
        query.setlist(key, values)
    form = model_admin.get_export_form_class()(
        formats, model_admin.get_export_resource_classes(request), data=query
    )
    if not form.is_valid():
        raise DomainError("The export's choices are no longer valid; start it again.")
    return form
