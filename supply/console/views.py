"""Replenishment in the console: the transfers a run proposes, each confirmed (the real
transfer is requested) or dismissed in one click; and a days-of-cover alert's suggested
transfer, requested from the alerts page in one click.

Staff only; each button is a POST form that calls one service.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.actors import acting_person
from accounts.scoping import location_ids_for
from alerts.selectors import alerts_visible_to
from core.exceptions import DomainError
from core.text import code_lookup_form
from supply.models import ReplenishmentLine, ReplenishmentProposal, ReplenishmentRun
from supply.services.replenishment import (
    alert_transfer_request,
    replenishment_proposal_confirm,
    replenishment_proposal_dismiss,
    replenishment_request,
)

PER_PAGE = 50
VIEW = "supply.view_replenishmentproposal"
DECIDE = ("supply.change_replenishmentproposal", "supply.add_transfer")
RUN = "supply.add_replenishmentrun"
Status = ReplenishmentProposal.Status


def _proposals(request: HttpRequest):
    """The proposals a person may see: staff tied to locations, those from or to theirs."""
    proposals = ReplenishmentProposal.objects.all()
    if (own := location_ids_for(request.user)) is not None:
        proposals = proposals.filter(Q(source_id__in=own) | Q(destination_id__in=own))
    return proposals


@require_GET
@staff_member_required
def replenishment(request: HttpRequest) -> HttpResponse:
    """Show the last run and the transfers waiting for a decision, store by store."""
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    store = code_lookup_form(request.GET.get("store", "")) or ""
    proposals = _proposals(request).filter(status=Status.PROPOSED)
    if store:
        proposals = proposals.filter(destination__code=store)
    proposals = (
        proposals.select_related("source", "destination")
        .prefetch_related(
            Prefetch(
                "proposed_lines",
                queryset=ReplenishmentLine.objects.select_related("product").order_by("id"),
            )
        )
        .order_by("destination__code", "cost", "id")
    )
    page = Paginator(proposals, PER_PAGE).get_page(request.GET.get("page"))
    decided = (
        _proposals(request)
        .filter(status__in=[Status.CONFIRMED, Status.DISMISSED])
        .select_related("source", "destination", "transfer", "decided_by")
        .order_by("-decided_at", "-id")[:10]
    )
    context = {
        **admin.site.each_context(request),
        "title": "Replenishment",
        "run": ReplenishmentRun.objects.order_by("-id").first(),
        "page": page,
        "proposals": page.object_list,
        "decided": decided,
        "store": store,
        "can_run": request.user.has_perm(RUN),
        "can_decide": request.user.has_perms(DECIDE),
    }
    return render(request, "supply/console/replenishment.html", context)


@require_POST
@staff_member_required
def replenishment_start(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(RUN):
        raise PermissionDenied
    run = replenishment_request(actor=acting_person(request.user))
    messages.info(
        request, f"Run #{run.pk} queued: its proposals appear here when it ends (reload)."
    )
    return redirect("supply_console:replenishment")


@require_POST
@staff_member_required
def proposal_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ("confirm", "dismiss"):
        raise Http404("No such action.")
    if not request.user.has_perms(DECIDE):
        raise PermissionDenied
    if not _proposals(request).filter(pk=pk).exists():
        raise Http404("No such proposal.")
    try:
        if action == "confirm":
            transfer = replenishment_proposal_confirm(
                proposal_id=pk, actor=acting_person(request.user)
            )
            messages.info(
                request,
                f"Transfer {transfer.number} requested: its units are held at "
                f"{transfer.source.code}.",
            )
        else:
            replenishment_proposal_dismiss(proposal_id=pk, actor=acting_person(request.user))
            messages.info(request, f"Proposal #{pk} dismissed.")
    except DomainError as exc:
        messages.error(request, exc.message)
    query = request.POST.get("next", "").lstrip("?")
    url = reverse("supply_console:replenishment")
    return HttpResponseRedirect(url + (f"?{query}" if query else ""))


@require_POST
@staff_member_required
def alert_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """Request a days-of-cover alert's suggested transfer, then back to the alerts page."""
    if not request.user.has_perm("supply.add_transfer"):
        raise PermissionDenied
    if not alerts_visible_to(request.user).filter(pk=pk).exists():
        raise Http404("No such alert.")
    try:
        transfer = alert_transfer_request(alert_id=pk, actor=acting_person(request.user))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(
            request,
            f"Transfer {transfer.number} requested: {transfer.lines.get().quantity} units from "
            f"{transfer.source.code} to {transfer.destination.code}; alert #{pk} acknowledged.",
        )
    query = request.POST.get("next", "").lstrip("?")
    url = reverse("alerts_console:list")
    return HttpResponseRedirect(url + (f"?{query}" if query else ""))
