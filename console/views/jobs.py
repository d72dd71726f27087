"""Background jobs: a person's list, a job's progress and result, an export's file."""

from __future__ import annotations

import mimetypes

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from console.jobs import job_progress
from console.models import BackgroundJob
from console.queues import QUEUES
from console.views.context import console_context

JOBS_SHOWN = 50


def _jobs(request: HttpRequest):
    """A person sees their own jobs; a superuser sees everyone's."""
    jobs = BackgroundJob.objects.defer("output")
    return jobs if request.user.is_superuser else jobs.filter(actor=request.user)


@require_GET
@staff_member_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = list(_jobs(request).select_related("actor")[:JOBS_SHOWN])
    for job in jobs:
        job.queue_title = QUEUES[job.queue].title if job.queue in QUEUES else job.queue
    context = console_context(request, title="Background jobs", jobs=jobs)
    return render(request, "console/jobs.html", context)


@require_GET
@staff_member_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(_jobs(request).select_related("actor"), pk=pk)
    queue = QUEUES.get(job.queue)
    action = queue.action(job.action) if queue else None
    context = console_context(
        request,
        title=f"Job #{job.pk}",
        job=job,
        queue=queue,
        action=action,
        progress=job_progress(job),
        filters=(job.params.get("filters") or {}).items(),
        ticked=len(job.params.get("ids") or []),
    )
    return render(request, "console/job.html", context)


@require_GET
@staff_member_required
def job_progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Answer the job page's poll with a few columns, never the export's file."""
    job = get_object_or_404(
        _jobs(request).only(
            "status", "total", "processed", "succeeded", "failed", "summary", "actor_id"
        ),
        pk=pk,
    )
    return JsonResponse(job_progress(job))


@require_GET
@staff_member_required
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(_jobs(request).defer(None), pk=pk)
    if job.kind != BackgroundJob.Kind.EXPORT or job.status != BackgroundJob.Status.DONE:
        raise Http404("This job has no file.")
    if not job.output_name:
        raise Http404("This job's file was deleted: files are kept for a limited time.")
    # Admin exports may be XLSX as well as CSV.
    content_type, _ = mimetypes.guess_type(job.output_name)
    if content_type in (None, "text/csv"):
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(bytes(job.output), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{job.output_name}"'
    return response
