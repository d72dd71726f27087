"""A replay's figures: totals, by channel, by location, beside what really happened; its CSV.

Every total is the sum of the orders' own figures, so the channels add up to the total and
the locations' costs add up to it too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from lab.replay import Figures, OrderOutcome, ReplayResult

SIDES = ("real", "replay")
CSV_COLUMNS = (
    "order",
    "created_at",
    "channel",
    "delivery_method",
    "units_wanted",
    "changed",
    *(
        f"{side}_{name}"
        for side in SIDES
        for name in ("locations", "units", "unfilled", "parcels", "cost", "km", "on_time")
    ),
)
# Spreadsheets run cells that start with these as formulas.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _totals() -> dict:
    return {
        "orders": 0,
        "units": 0,
        "unfilled": 0,
        "parcels": 0,
        "cost": 0.0,
        "km": 0.0,
        "promised": 0,
        "on_time": 0,
    }


def _add(totals: dict, figures: Figures) -> None:
    totals["orders"] += 1
    totals["units"] += figures.units
    totals["unfilled"] += figures.unfilled
    totals["parcels"] += figures.parcels
    totals["cost"] += figures.cost
    totals["km"] += figures.km
    if figures.on_time is not None:
        totals["promised"] += 1
        totals["on_time"] += figures.on_time


def _finish(totals: dict) -> dict:
    orders = totals["orders"]
    totals["cost"] = round(totals["cost"], 6)
    totals["km"] = round(totals["km"], 3)
    totals["parcels_per_order"] = round(totals["parcels"] / orders, 4) if orders else 0.0
    totals["cost_per_order"] = round(totals["cost"] / orders, 4) if orders else 0.0
    totals["on_time_share"] = (
        round(totals["on_time"] / totals["promised"], 4) if totals["promised"] else None
    )
    return totals


def summary_of(result: ReplayResult) -> dict:
    """Return the run's figures as it keeps them (JSON)."""
    total = {side: _totals() for side in SIDES}
    channels: dict[str, dict] = {}
    locations: dict[str, dict] = {}
    changed = 0
    for outcome in result.outcomes:
        changed += outcome.changed
        by_channel = channels.setdefault(outcome.channel, {side: _totals() for side in SIDES})
        for side, figures in (("real", outcome.real), ("replay", outcome.replay)):
            _add(total[side], figures)
            _add(by_channel[side], figures)
            for code, (units, cost, km) in figures.by_location.items():
                place = locations.setdefault(
                    code,
                    {s: {"units": 0, "parcels": 0, "cost": 0.0, "km": 0.0} for s in SIDES},
                )[side]
                place["units"] += units
                place["parcels"] += 1
                place["cost"] += cost
                place["km"] += km
    for place in locations.values():
        for side in SIDES:
            place[side]["cost"] = round(place[side]["cost"], 6)
            place[side]["km"] = round(place[side]["km"], 3)
    return {
        "orders": len(result.outcomes),
        "changed": changed,
        **{side: _finish(total[side]) for side in SIDES},
        "by_channel": [
            {"channel": code, **{side: _finish(sides[side]) for side in SIDES}}
            for code, sides in sorted(channels.items())
        ],
        "by_location": [
            {"location": code, **sides}
            for code, sides in sorted(
                locations.items(),
                key=lambda item: (-item[1]["replay"]["units"] - item[1]["real"]["units"], item[0]),
            )
        ],
        "changed_most": result.changed_most,
    }


def csv_of(outcomes: Iterable[OrderOutcome]) -> str:
    """Return one CSV row per order: what happened, and what the replay did."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for outcome in outcomes:
        row: list = [
            _cell(outcome.number),
            outcome.at.isoformat(timespec="seconds"),
            _cell(outcome.channel),
            outcome.method,
            outcome.wanted,
            int(outcome.changed),
        ]
        for figures in (outcome.real, outcome.replay):
            row += [
                _cell(" ".join(figures.locations)),
                figures.units,
                figures.unfilled,
                figures.parcels,
                f"{figures.cost:.2f}",
                f"{figures.km:.1f}",
                "" if figures.on_time is None else int(figures.on_time),
            ]
        writer.writerow(row)
    return buffer.getvalue()


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text
