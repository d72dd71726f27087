"""Turn a sourcing explanation (OrderEvent "allocated", `data["explanation"]`) into sections
a person can read: a title, then either a table or a list of facts.

The engine (sourcing.explanation) says `{"rule", "locations": [cost parts of
each chosen location], "alternatives": [runner-ups], "text": [the same as lines]}`. Known
keys get their own titles and columns; anything else is still rendered, generically, so the
console keeps working when the engine says more.
"""

from __future__ import annotations

from typing import Any

MAX_ROWS = 50
TITLES = {"rule": "Rule", "locations": "Chosen locations", "alternatives": "Runner-ups"}
COLUMNS = {
    "locations": [
        "location",
        "units",
        "shipment_cost",
        "km",
        "distance_cost",
        "units_cost",
        "split_penalty_share",
        "total",
    ],
    "alternatives": [
        "label",
        "units",
        "cost",
        "extra_cost",
        "units_lost",
        "shipments",
        "locations",
        "proven",
    ],
}
# Said again by the sections above.
SKIPPED = {"text"}


def explanation_sections(explanation: Any) -> list[dict]:
    """Return `[{"title", "rows": [...], "columns": [...] or None, "text": str or None}]`."""
    if explanation in (None, "", [], {}):
        return []
    if not isinstance(explanation, dict):
        return [_section("Explanation", explanation)]
    return [
        _section(TITLES.get(key, _title(key)), value, COLUMNS.get(key))
        for key, value in explanation.items()
        if key not in SKIPPED
    ]


def _section(title: str, value: Any, known_columns: list[str] | None = None) -> dict:
    if isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
        columns: list[str] = list(known_columns or [])
        for row in value[:MAX_ROWS]:
            columns.extend(key for key in row if key not in columns)
        columns = [c for c in columns if any(c in row for row in value[:MAX_ROWS])]
        rows = [[_text(row.get(column)) for column in columns] for row in value[:MAX_ROWS]]
        return {
            "title": title,
            "columns": [_title(c) for c in columns],
            "rows": rows,
            "text": None,
        }
    if value in ([], {}):
        return {"title": title, "columns": None, "rows": [], "text": "none"}
    if isinstance(value, dict):
        facts = [[_title(key), _text(item)] for key, item in value.items()]
        return {"title": title, "columns": None, "rows": facts, "text": None}
    return {"title": title, "columns": None, "rows": [], "text": _text(value)}


def _title(key: Any) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{_title(k).lower()} {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)
