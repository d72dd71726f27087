"""An admin export run as a background job: the file written with the admin's own resource
and format, as the person who asked would have downloaded it.

`console.jobs.job_run` calls it for a job that names an admin; the mixin that starts such
jobs is in `console.admin_exports`.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from console.models import BackgroundJob
from core.exceptions import DomainError, NotFoundError
from core.replica import heavy_reads

CHUNK = 2000


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
    # The rows chosen in the request, through the person's scope as it is now (read here,
    # on the primary, with the permissions above).
    visible = model_admin.get_queryset(request)
    ids = job.params.get("ids") or []
    progress(job, total=len(ids))
    dataset = None
    # The rows are read from the read replica when it keeps up: a file of what they were a
    # moment ago. The job's progress and file are written on the primary.
    with heavy_reads():
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
                request,
                visible.none(),
                export_form=form,
                force_native_type=file_format.is_binary(),
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
