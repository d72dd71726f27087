"""Charts drawn on the server as SVG geometry: no script, no library, nothing to download.

Each function returns a plain dict that `templates/console/charts/*.html` turns into an
`<svg>`; labels go through the template's escaping. Bars are horizontal, so long labels
(locations, channels) stay readable.
"""

from __future__ import annotations

from collections.abc import Sequence

# Colours readable on the admin's light and dark themes, one per series.
PALETTE = (
    "#417690",
    "#e0a526",
    "#70bf2b",
    "#c94f4f",
    "#8e6bbf",
    "#3fa7a0",
    "#d47fa6",
    "#7a7a7a",
    "#b5832c",
    "#5470c6",
)
ROW = 22
BAR = 14
LABEL_WIDTH = 140
BAR_WIDTH = 320
VALUE_WIDTH = 80


def bars(
    items: Sequence[tuple[str, float]], *, unit: str = "", decimals: int = 0, color: str = ""
) -> dict:
    """Return one horizontal bar per (label, value), scaled to the largest value."""
    top = max((value for _, value in items), default=0) or 1
    rows = []
    for i, (label, value) in enumerate(items):
        width = BAR_WIDTH * value / top if value > 0 else 0
        rows.append(
            {
                "label": label,
                "y": i * ROW,
                "text_y": i * ROW + BAR - 2,
                "width": round(width, 1),
                "value": f"{value:,.{decimals}f}{unit}",
            }
        )
    return {
        "rows": rows,
        "height": max(len(items), 1) * ROW,
        "width": LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
        "label_width": LABEL_WIDTH,
        "bar_x": LABEL_WIDTH,
        "value_x": LABEL_WIDTH + BAR_WIDTH + 6,
        "bar_height": BAR,
        "color": color or PALETTE[0],
    }


def stacked(
    categories: Sequence[str],
    series: Sequence[tuple[str, str]],
    values: dict[str, dict[str, int]],
) -> dict:
    """Return one horizontal stacked bar per category: `values[category][series key]`.

    `series` is (key, label) in stacking order; each gets a colour and a legend entry.
    """
    totals = {cat: sum(values.get(cat, {}).values()) for cat in categories}
    top = max(totals.values(), default=0) or 1
    legend = [
        {"key": key, "label": label, "color": PALETTE[i % len(PALETTE)]}
        for i, (key, label) in enumerate(series)
    ]
    rows = []
    for i, cat in enumerate(categories):
        x: float = LABEL_WIDTH
        segments = []
        for entry in legend:
            count = values.get(cat, {}).get(entry["key"], 0)
            if not count:
                continue
            width = BAR_WIDTH * count / top
            segments.append(
                {
                    "x": round(x, 1),
                    "width": round(width, 1),
                    "color": entry["color"],
                    "title": f"{cat}, {entry['label']}: {count}",
                }
            )
            x += width
        rows.append(
            {
                "label": cat,
                "y": i * ROW,
                "text_y": i * ROW + BAR - 2,
                "segments": segments,
                "value": f"{totals[cat]:,}",
            }
        )
    return {
        "rows": rows,
        "legend": [entry for entry in legend if any(entry["key"] in v for v in values.values())],
        "height": max(len(categories), 1) * ROW,
        "width": LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
        "label_width": LABEL_WIDTH,
        "value_x": LABEL_WIDTH + BAR_WIDTH + 6,
        "bar_height": BAR,
    }


PAIR_ROW = 30
PAIR_BAR = 11


def paired(
    items: Sequence[tuple[str, float, float]],
    *,
    names: tuple[str, str],
    unit: str = "",
    decimals: int = 0,
) -> dict:
    """Return two horizontal bars per (label, first, second), one scale for all: what
    happened beside what another policy would have done."""
    top = max((max(a, b) for _, a, b in items), default=0) or 1
    rows = []
    for i, (label, first, second) in enumerate(items):
        y = i * PAIR_ROW
        rows.append(
            {
                "label": label,
                "text_y": y + PAIR_BAR + 2,
                "bars": [
                    {
                        "y": y + j * (PAIR_BAR + 1),
                        "text_y": y + j * (PAIR_BAR + 1) + PAIR_BAR - 2,
                        "width": round(BAR_WIDTH * value / top, 1) if value > 0 else 0,
                        "color": PALETTE[j],
                        "value": f"{value:,.{decimals}f}{unit}",
                        "title": f"{label}, {names[j]}: {value:,.{decimals}f}{unit}",
                    }
                    for j, value in enumerate((first, second))
                ],
            }
        )
    return {
        "rows": rows,
        "legend": [{"label": name, "color": PALETTE[j]} for j, name in enumerate(names)],
        "height": max(len(items), 1) * PAIR_ROW,
        "width": LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
        "label_width": LABEL_WIDTH,
        "bar_x": LABEL_WIDTH,
        "value_x": LABEL_WIDTH + BAR_WIDTH + 6,
        "bar_height": PAIR_BAR,
    }
