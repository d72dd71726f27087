"""The sourcing lab in the console: start a replay, follow it, read it, compare two.

Inventory managers and administrators (`lab.view_replayrun` to read, `lab.add_replayrun` to
start). Starting calls one service; the replay runs in a worker.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from console.charts import paired
from console.views.context import console_context
from lab.console.forms import FIELD_OF, ReplayForm, codes
from lab.models import ReplayRun
from lab.policy import ReplayInputError, live_policy, policy_read, policy_to_json
from lab.services import replay_run_csv, replay_run_start

VIEW = "lab.view_replayrun"
START = "lab.add_replayrun"
RUNS_SHOWN = 100
LOCATIONS_CHARTED = 20
NAMES = ("what happened", "replay")
# The totals a page shows: (label, key, format).
FIGURES = (
    ("Orders", "orders", "{:,}"),
    ("Logistics cost", "cost", "{:,.2f}"),
    ("Cost per order", "cost_per_order", "{:,.2f}"),
    ("Parcels", "parcels", "{:,}"),
    ("Parcels per order", "parcels_per_order", "{:.3f}"),
    ("Units allocated", "units", "{:,}"),
    ("Units unfilled or backordered", "unfilled", "{:,}"),
    ("Kilometres", "km", "{:,.0f}"),
    ("Promised on time", "on_time_share", "{:.1%}"),
)


def _allow(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied("The sourcing lab is for inventory managers and administrators.")


def _list_context(request: HttpRequest, form: ReplayForm) -> dict:
    runs = ReplayRun.objects.defer("output", "summary").select_related("actor")[:RUNS_SHOWN]
    return console_context(
        request,
        title="Sourcing lab",
        form=form,
        runs=runs,
        can_start=request.user.has_perm(START),
        live=policy_to_json(live_policy()),
    )


@require_GET
@staff_member_required
def run_list(request: HttpRequest) -> HttpResponse:
    _allow(request, VIEW)
    form = ReplayForm(initial=ReplayForm.initial_for(policy_to_json(live_policy())))
    return render(request, "lab/runs.html", _list_context(request, form))


@require_POST
@staff_member_required
def run_start(request: HttpRequest) -> HttpResponse:
    _allow(request, START)
    form = ReplayForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        sets = [f"OMS_MAX_SHIPMENTS={data['max_shipments'] or 'none'}"]
        if data["split_penalty"] is not None:
            sets.append(f"OMS_SPLIT_PENALTY={data['split_penalty']}")
        try:
            policy = policy_read(
                strategy=data["strategy"],
                sets=sets,
                exclude=codes(data["exclude"]),
                let_ship=codes(data["let_ship"]),
                cost_text=data["costs"] or None,
            )
            run = replay_run_start(
                actor=request.user,
                first_day=data["first_day"],
                last_day=data["last_day"],
                policy=policy,
                name=data["name"],
            )
        except ReplayInputError as error:
            form.add_error(FIELD_OF.get(error.field or "", None), error.message)
        else:
            return redirect("lab_console:run", pk=run.pk)
    return render(request, "lab/runs.html", _list_context(request, form), status=400)


def _figures(summary: dict, sides: list[tuple[str, dict]]) -> list[dict]:
    rows = []
    for label, key, shape in FIGURES:
        values = [side.get(key) for _, side in sides]
        rows.append(
            {"label": label, "values": ["—" if v is None else shape.format(v) for v in values]}
        )
    return rows


def _charts(summary: dict) -> list[tuple[str, dict]]:
    channels = summary["by_channel"]
    locations = summary["by_location"][:LOCATIONS_CHARTED]

    def pairs(rows, name, key, scale=1.0):
        return [
            (row[name], (row["real"][key] or 0) * scale, (row["replay"][key] or 0) * scale)
            for row in rows
        ]

    return [
        (
            "Logistics cost by channel",
            paired(pairs(channels, "channel", "cost"), names=NAMES, decimals=2),
        ),
        (
            "Parcels per order by channel",
            paired(pairs(channels, "channel", "parcels_per_order"), names=NAMES, decimals=2),
        ),
        (
            "Share of orders promised on time by channel",
            paired(
                pairs(channels, "channel", "on_time_share", 100), names=NAMES, unit=" %", decimals=1
            ),
        ),
        (
            "Units unfilled or backordered by channel",
            paired(pairs(channels, "channel", "unfilled"), names=NAMES),
        ),
        ("Units shipped by location", paired(pairs(locations, "location", "units"), names=NAMES)),
        (
            "Logistics cost by location",
            paired(pairs(locations, "location", "cost"), names=NAMES, decimals=2),
        ),
    ]


@require_GET
@staff_member_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _allow(request, VIEW)
    run = get_object_or_404(ReplayRun.objects.defer("output").select_related("actor"), pk=pk)
    summary = run.summary if run.status == ReplayRun.Status.DONE else {}
    for order in summary.get("changed_most", []):
        order["sides"] = [order["real"], order["replay"]]
    context = console_context(
        request,
        title=f"Replay {run.label}",
        run=run,
        summary=summary,
        figures=_figures(summary, [("real", summary["real"]), ("replay", summary["replay"])])
        if summary
        else [],
        charts=_charts(summary) if summary else [],
    )
    return render(request, "lab/run.html", context)


@require_GET
@staff_member_required
def run_progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    _allow(request, VIEW)
    run = get_object_or_404(
        ReplayRun.objects.only("status", "total", "processed", "message"), pk=pk
    )
    return JsonResponse(
        {
            "status": run.status,
            "status_display": run.get_status_display(),
            "percent": run.percent,
            "total": run.total,
            "processed": run.processed,
            "message": run.message,
            "finished": run.finished,
        }
    )


@require_GET
@staff_member_required
def run_csv(request: HttpRequest, pk: int) -> HttpResponse:
    _allow(request, VIEW)
    run = get_object_or_404(ReplayRun, pk=pk)
    if run.status != ReplayRun.Status.DONE:
        raise Http404("This replay has no figures yet.")
    response = HttpResponse(replay_run_csv(run), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="replay-{run.pk}.csv"'
    return response


@require_GET
@staff_member_required
def run_compare(request: HttpRequest) -> HttpResponse:
    """Two finished runs side by side: what happened, and each policy's replay."""
    _allow(request, VIEW)
    ids = [value for value in request.GET.getlist("run") if value.isdigit()][:2]
    if len(ids) != 2:
        raise Http404("Tick two replays to compare.")
    found = {
        run.pk: run
        for run in ReplayRun.objects.defer("output").filter(
            pk__in=ids, status=ReplayRun.Status.DONE
        )
    }
    if len(found) != 2:
        raise Http404("Both replays must exist and be done.")
    a, b = found[int(ids[0])], found[int(ids[1])]
    sides = [("real", a.summary["real"]), ("a", a.summary["replay"]), ("b", b.summary["replay"])]
    channels_b = {row["channel"]: row for row in b.summary["by_channel"]}
    cost_chart = paired(
        [
            (
                row["channel"],
                row["replay"]["cost"],
                channels_b.get(row["channel"], {}).get("replay", {}).get("cost", 0),
            )
            for row in a.summary["by_channel"]
        ],
        names=(f"replay {a.label}", f"replay {b.label}"),
        decimals=2,
    )
    context = console_context(
        request,
        title=f"Replays {a.label} and {b.label}",
        a=a,
        b=b,
        runs=[a, b],
        figures=_figures(a.summary, sides),
        cost_chart=cost_chart,
        same_period=(a.first_day, a.last_day) == (b.first_day, b.last_day),
    )
    return render(request, "lab/compare.html", context)
