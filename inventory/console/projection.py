"""The product stock page's 30-day projection of incoming supply, as SVG geometry drawn on
the server (no script): a bar per day for the units purchase orders bring, the part of them
already promised to backordered orders inside it, and a step line of what stays free to sell
(incoming minus promised, summed from today)."""

from __future__ import annotations

from collections.abc import Sequence

from inventory.incoming import IncomingDay

LEFT = 44  # room for the scale's figures
TOP = 10
DAY_WIDTH = 20
HEIGHT = 150
BOTTOM = 24  # room for the dates


def projection_chart(days: Sequence[IncomingDay]) -> dict:
    """Return the chart's geometry and its figures (also given as a table under it)."""
    free, running = [], 0
    for day in days:
        running += day.incoming - day.promised
        free.append(running)
    top = max([*(d.incoming for d in days), *free, 1])

    def y(units: float) -> float:
        return round(TOP + HEIGHT * (1 - max(units, 0) / top), 1)

    bars = []
    for index, day in enumerate(days):
        x = LEFT + index * DAY_WIDTH
        bars.append(
            {
                "x": x + 3,
                "width": DAY_WIDTH - 6,
                "incoming_y": y(day.incoming),
                "incoming_height": round(TOP + HEIGHT - y(day.incoming), 1),
                "promised_y": y(day.promised),
                "promised_height": round(TOP + HEIGHT - y(day.promised), 1),
                "day": day,
                "free": free[index],
                # A date under the first day and each week after it.
                "label": day.day.strftime("%d %b") if index % 7 == 0 else "",
            }
        )
    points = []
    for index, units in enumerate(free):
        x = LEFT + index * DAY_WIDTH
        points += [f"{x},{y(units)}", f"{x + DAY_WIDTH},{y(units)}"]
    return {
        "width": LEFT + DAY_WIDTH * len(days) + 10,
        "height": TOP + HEIGHT + BOTTOM,
        "left": LEFT,
        "base": TOP + HEIGHT,
        "top_y": TOP,
        "top": top,
        "right": LEFT + DAY_WIDTH * len(days),
        "bars": bars,
        "free_line": " ".join(points),
        "incoming": sum(d.incoming for d in days),
        "promised": sum(d.promised for d in days),
        "free": running,
    }
