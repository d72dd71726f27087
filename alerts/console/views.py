"""The alerts page: what needs someone, filtered, with the figures that raised each alert.

Staff only; each button is a POST that calls one lifecycle service.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from alerts.console.forms import UNRESOLVED, AlertFilterForm, SnoozeForm
from alerts.console.words import alert_in_words
from alerts.models import Alert
from alerts.selectors import alerts_visible_to
from alerts.services import alert_acknowledge, alert_resolve, alert_snooze
from core.exceptions import DomainError
from core.replica import reads_from_replica

CHANGE_PERMISSION = "alerts.change_alert"
TRANSFER_PERMISSION = "supply.add_transfer"
PER_PAGE = 100
ACTIONS = ("acknowledge", "snooze", "resolve")
BULK_ACTIONS = ("acknowledge", "snooze")


@require_GET
@staff_member_required
@reads_from_replica
def alert_list(request: HttpRequest) -> HttpResponse:
    """List the alerts a person may see, newest first, by kind, location and status."""
    now = timezone.now()
    form = AlertFilterForm(request.GET or {"status": UNRESOLVED})
    alerts = alerts_visible_to(request.user).select_related("product", "location", "order")
    if form.is_valid():
        data = form.cleaned_data
        if data["kind"]:
            alerts = alerts.filter(kind=data["kind"])
        if data["status"] == UNRESOLVED:
            alerts = alerts.unresolved()
        elif data["status"]:
            alerts = alerts.filter(status=data["status"])
        if data["location"]:
            alerts = alerts.filter(location__code=data["location"])
        if not data["snoozed"]:
            alerts = alerts.awake(now)
    else:
        alerts = alerts.none()
    page = Paginator(alerts.order_by("-opened_at", "-id"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    # A days-of-cover alert's suggested transfer is one click away (supply's console page
    # requests it): for people who may request transfers.
    can_transfer = request.user.has_perm(TRANSFER_PERMISSION)
    for alert in page.object_list:
        alert.words = alert_in_words(alert.kind, alert.details)
        alert.transfer_button = (
            can_transfer
            and alert.kind == Alert.Kind.DAYS_OF_COVER
            and alert.status != Alert.Status.RESOLVED
            and bool(alert.details.get("transfer_from"))
            and bool(alert.details.get("transfer_quantity"))
        )
    context = {
        **admin.site.each_context(request),
        "title": "Alerts",
        "form": form,
        "page": page,
        "alerts": page.object_list,
        "now": now,
        "can_change": request.user.has_perm(CHANGE_PERMISSION),
        "query": request.GET.urlencode(),
        "snooze_form": SnoozeForm(),
    }
    return render(request, "alerts/console/alerts.html", context)


@require_POST
@staff_member_required
def alert_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if not request.user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied
    if action not in ACTIONS:
        return HttpResponse("Unknown action.", status=404)
    alert = get_object_or_404(alerts_visible_to(request.user), pk=pk)
    try:
        if action == "acknowledge":
            alert_acknowledge(alert=alert, actor=request.user)
            messages.info(request, f"Alert #{alert.pk} acknowledged.")
        elif action == "resolve":
            alert_resolve(alert=alert, actor=request.user)
            messages.info(request, f"Alert #{alert.pk} resolved.")
        else:
            form = SnoozeForm(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(str(error) for error in form.errors["until"]))
            else:
                until = form.until_moment()
                alert_snooze(alert=alert, until=until, actor=request.user)
                messages.info(request, f"Alert #{alert.pk} snoozed until {until:%Y-%m-%d}.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    # Back to the list as it was filtered: only a query string is taken, never a place.
    query = request.POST.get("next", "").lstrip("?")
    return HttpResponseRedirect(reverse("alerts_console:list") + (f"?{query}" if query else ""))


@require_POST
@staff_member_required
def alert_bulk(request: HttpRequest) -> HttpResponse:
    """Acknowledge or snooze the ticked alerts, each through its lifecycle service; say how
    many moved and why any did not."""
    if not request.user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied
    action = request.POST.get("action", "")
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose Acknowledge or Snooze.")
        return _back(request)
    ids = [int(pk) for pk in request.POST.getlist("alert") if pk.isdigit() and len(pk) < 19]
    if not ids:
        messages.error(request, "Tick the alerts to act on first.")
        return _back(request)
    form = SnoozeForm(request.POST)
    if action == "snooze" and not form.is_valid():
        messages.error(request, "Snooze until: " + " ".join(form.errors["until"]))
        return _back(request)
    done, refused = 0, []
    for alert in alerts_visible_to(request.user).filter(pk__in=ids).order_by("pk"):
        try:
            if action == "acknowledge":
                alert_acknowledge(alert=alert, actor=request.user)
            else:
                alert_snooze(alert=alert, until=form.until_moment(), actor=request.user)
        except DomainError as exc:
            refused.append(f"#{alert.pk}: {exc.message}")
        else:
            done += 1
    said = "acknowledged" if action == "acknowledge" else "snoozed"
    messages.info(request, f"{done} alert(s) {said}.")
    if refused:
        messages.error(request, "Not changed: " + " ".join(refused))
    return _back(request)
