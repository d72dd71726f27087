"""Work queues: a filtered list of what waits for a person, with bulk actions.

A few ticked rows are acted on inside the request; more, or "every row matching the
filters", become a background job with a progress page. Each row is one service call.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.scoping import location_ids_for
from console.jobs import SYNC_MAX_ROWS, action_apply, job_start
from console.models import BackgroundJob
from console.queues import QUEUES, Queue
from console.views.context import console_context
from core.paginators import EstimatedCountPaginator
from core.replica import reads_from_replica
from fulfilment.models import RejectReason
from inventory.models import Location
from orders.console.forms import REJECT_REASON_CHOICES
from orders.models import Channel, Order

PER_PAGE = 50
FILTERS = ("location", "method", "channel", "q")
INPUTS = ("reason", "reason_code", "carrier")


def _queue(request: HttpRequest, slug: str) -> Queue:
    queue = QUEUES.get(slug)
    if queue is None:
        raise Http404("No such queue.")
    if not request.user.has_perm(queue.view_permission):
        raise PermissionDenied
    return queue


def _filters(data) -> dict[str, str]:
    return {name: data[name].strip()[:128] for name in FILTERS if data.get(name, "").strip()}


def _back(queue: Queue, filters: dict[str, str]) -> HttpResponse:
    url = reverse("oms_console:queue", args=[queue.slug])
    return redirect(f"{url}?{urlencode(filters)}" if filters else url)


@require_GET
@staff_member_required
@reads_from_replica
def queue_list(request: HttpRequest, slug: str) -> HttpResponse:
    queue = _queue(request, slug)
    user = request.user
    filters = _filters(request.GET)
    paginator = EstimatedCountPaginator(queue.rows(user, filters), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    scope = location_ids_for(user)
    locations = Location.objects.filter(active=True) if scope is None else Location.objects
    if scope is not None:
        locations = locations.filter(pk__in=scope)
    context = console_context(
        request,
        title=queue.title,
        queue=queue,
        page=page,
        rows=page.object_list,
        paginator=paginator,
        filters=filters,
        query=urlencode(filters),
        locations=locations.only("code", "name").order_by("code"),
        channels=Channel.objects.only("code", "name") if not queue.of_fulfilments else [],
        methods=Order.DeliveryMethod.choices,
        actions=[a for a in queue.actions if user.has_perm(a.permission)],
        reject_reasons=REJECT_REASON_CHOICES,
        default_reason_code=RejectReason.OTHER,
        sync_max=SYNC_MAX_ROWS,
    )
    return render(request, "console/queue.html", context)


@require_POST
@staff_member_required
def queue_act(request: HttpRequest, slug: str) -> HttpResponse:
    """Run the chosen action on the ticked rows, or on every row matching the filters."""
    queue = _queue(request, slug)
    user = request.user
    filters = _filters(request.POST)
    action = queue.action(request.POST.get("action", ""))
    if action is None:
        messages.error(request, "Choose an action.")
        return _back(queue, filters)
    if not user.has_perm(action.permission):
        raise PermissionDenied
    inputs = {name: request.POST[name] for name in INPUTS if name in request.POST}
    if action.needs == "reason" and not request.POST.get("reason", "").strip():
        messages.error(request, f"{action.label.rstrip('…')}: give a reason.")
        return _back(queue, filters)
    if request.POST.get("target") == "all":
        if not action.whole_queue:
            each = "pickup code" if action.needs == "code" else "tracking number"
            messages.error(request, f"{action.label}: tick the rows, each needs its own {each}.")
            return _back(queue, filters)
        job = job_start(
            kind=BackgroundJob.Kind.ACTION,
            queue=queue,
            actor=user,
            filters=filters,
            action=action,
            inputs=inputs,
        )
        return redirect("oms_console:job", pk=job.pk)
    ids = sorted({int(value) for value in request.POST.getlist("ids") if value.isdigit()})
    if not ids:
        messages.warning(request, "Tick the rows to act on first.")
        return _back(queue, filters)
    if action.needs == "code":
        inputs.update(
            {
                f"code-{pk}": request.POST[f"code-{pk}"][:32]
                for pk in ids
                if f"code-{pk}" in request.POST
            }
        )
    if action.needs == "ship":
        inputs.update(
            {
                name: request.POST[name][:128]
                for pk in ids
                for name in (f"carrier-{pk}", f"tracking-{pk}")
                if name in request.POST
            }
        )
    if len(ids) > SYNC_MAX_ROWS:
        job = job_start(
            kind=BackgroundJob.Kind.ACTION,
            queue=queue,
            actor=user,
            filters={},
            ids=ids,
            action=action,
            inputs=inputs,
        )
        return redirect("oms_console:job", pk=job.pk)
    # Only rows still in the queue and at the person's locations: others are not touched.
    rows = list(queue.rows(user).filter(pk__in=ids))
    outcome = action_apply(action=action, rows=rows, actor=user, inputs=inputs)
    label = action.label.rstrip("…")
    if outcome.succeeded:
        messages.success(request, f"{label}: done for {outcome.succeeded} row(s).")
    for row, message in outcome.failures:
        messages.error(request, f"{label}: {row}: {message}")
    if gone := len(ids) - len(rows):
        messages.warning(request, f"{label}: {gone} row(s) had already left this queue.")
    return _back(queue, filters)


@require_POST
@staff_member_required
def queue_export(request: HttpRequest, slug: str) -> HttpResponse:
    """Export the rows matching the filters as CSV, in the background."""
    queue = _queue(request, slug)
    job = job_start(
        kind=BackgroundJob.Kind.EXPORT,
        queue=queue,
        actor=request.user,
        filters=_filters(request.POST),
    )
    return redirect("oms_console:job", pk=job.pk)
