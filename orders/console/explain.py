"""Turn a sourcing explanation (OrderEvent "allocated", `data["explanation"]`) into sections
a person can read: a title, then either a table or a list of facts.

The engine (sourcing.explanation) says `{"rule", "locations": [cost parts of
each chosen location], "alternatives": [runner-ups], "text": [the same as lines]}`; an
order's allocation is recorded with no runner-ups, and its page solves them when opened
(`orders.services.allocation.runner_ups_now`). Known
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


def explanation_sections(explanation: Any, *, runner_ups_at: str | None = None) -> list[dict]:
    """Return `[{"title", "rows": [...], "columns": [...] or None, "text": str or None}]`;
    `runner_ups_at` names the time the runner-ups were solved when it was not the decision's."""
    if explanation in (None, "", [], {}):
        return []
    if not isinstance(explanation, dict):
        return [_section("Explanation", explanation)]
    titles = dict(TITLES)
    if runner_ups_at is not None:
        titles["alternatives"] = f"Runner-ups against stock at {runner_ups_at}"
    return [
        _section(titles.get(key, _title(key)), value, COLUMNS.get(key))
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


WITHOUT = "without "
SINGLE = "best single location ("


def explanation_codes(explanation: Any) -> set[str]:
    """Return the location codes an explanation names (chosen ones and runner-ups')."""
    if not isinstance(explanation, dict):
        return set()
    codes = {
        str(part.get("location"))
        for part in explanation.get("locations") or []
        if isinstance(part, dict) and part.get("location")
    }
    for alternative in explanation.get("alternatives") or []:
        if isinstance(alternative, dict) and (code := _label_code(alternative.get("label"))):
            codes.add(code)
    return codes


def _label_code(label: Any) -> str:
    label = str(label or "")
    if label.startswith(WITHOUT):
        return label.removeprefix(WITHOUT)
    if label.startswith(SINGLE):
        return label.removeprefix(SINGLE).rstrip(")")
    return ""


def explanation_in_words(explanation: Any, names: dict[str, str], currency: str) -> list[str]:
    """Return the sourcing decision as sentences a customer-service person can repeat:
    where the units come from and why there ("Lyon: 2 units; without it, 1.20 EUR more"),
    and what the best single location would have meant."""
    if not isinstance(explanation, dict):
        return []
    said = []
    parts = [p for p in explanation.get("locations") or [] if isinstance(p, dict)]
    if parts:
        where = " and ".join(
            f"{_name(p.get('location'), names)} ({_units(p.get('units'))})" for p in parts
        )
        total = sum(_number(p.get("total")) for p in parts)
        said.append(f"Sent from {where}: {total:.2f} {currency} in logistics.")
    for alternative in explanation.get("alternatives") or []:
        if not isinstance(alternative, dict):
            continue
        label = str(alternative.get("label", ""))
        lost = int(_number(alternative.get("units_lost")))
        extra = _number(alternative.get("extra_cost"))
        if label.startswith(WITHOUT):
            subject = f"Without {_name(_label_code(label), names)}"
        elif label.startswith(SINGLE):
            subject = f"From {_name(_label_code(label), names)} alone"
        else:
            subject = _title(label)
        if lost > 0:
            said.append(f"{subject}, {_units(lost)} fewer would have been found.")
        elif extra > 0.005:
            said.append(f"{subject}, it would have cost {extra:.2f} {currency} more.")
        else:
            said.append(f"{subject}, it would have cost the same.")
    return said


def _name(code: Any, names: dict[str, str]) -> str:
    return names.get(str(code), str(code))


def _units(value: Any) -> str:
    units = int(_number(value))
    return f"{units} unit" + ("" if units == 1 else "s")


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
