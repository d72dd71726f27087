"""An alert's figures as a sentence a person reads at a glance, one per kind.

The evaluation keeps the figures that raised an alert in `details` (alerts.evaluation);
a kind whose figures are not known here still reads, as "Key value" pairs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


def alert_in_words(kind: str, details: Any) -> str:
    """Return what `details` of an alert of `kind` say, in words."""
    d = details if isinstance(details, dict) else {}
    try:
        said = _SENTENCES[kind](d) if kind in _SENTENCES else ""
    except (KeyError, TypeError, ValueError):
        said = ""
    return said or _generic(d)


def _units(n: Any) -> str:
    n = int(n)
    return f"{n} unit" + ("" if n in (1, -1) else "s")


def _day(value: Any) -> str:
    day = parse_date(str(value)) if not isinstance(value, date) else value
    if day is None:
        return str(value)
    today = timezone.localdate()
    if day == today:
        return "today"
    if (today - day).days == 1:
        return "yesterday"
    return f"{day.day} {day:%b}"


def _since(value: Any) -> str:
    moment = parse_datetime(str(value)) if not isinstance(value, datetime) else value
    if moment is None:
        return str(value)
    hours = (timezone.now() - moment).total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def _low_stock(d: dict) -> str:
    held = []
    if d.get("allocated"):
        held.append(f"{d['allocated']} promised to orders")
    if d.get("reserved"):
        held.append(f"{d['reserved']} in baskets")
    if d.get("safety_stock"):
        held.append(f"{d['safety_stock']} kept as safety stock")
    of = f" of {d['on_hand']} on the shelf" if "on_hand" in d else ""
    return (
        f"{_units(d['available'])} available{of}, at or below the threshold of {d['threshold']}"
        + (f" ({', '.join(held)})" if held else "")
        + "."
    )


def _days_of_cover(d: dict) -> str:
    said = (
        f"{d['days_of_cover']} days of stock left at {d['velocity_per_day']} a day; "
        f"a delivery takes {d['lead_time_days']} days."
    )
    if d.get("reorder_quantity"):
        said += f" Order {_units(d['reorder_quantity'])}"
        if d.get("transfer_from") and d.get("transfer_quantity"):
            said += f", or move {d['transfer_quantity']} from {d['transfer_from']}"
        said += "."
    return said


def _network(d: dict) -> str:
    where = f" on the {d['channel']} channel" if d.get("channel") else " across the network"
    return f"{_units(d['available'])} available{where}, at or below {d['threshold']}."


def _late(d: dict) -> str:
    status = str(d.get("status", "")).replace("_", " ")
    if d.get("late"):
        return f"Promised for {_day(d['promised_date'])}, now late; still {status}."
    return f"Promised for {_day(d['promised_date'])} and still {status}: at risk."


def _unaccepted(d: dict) -> str:
    return (
        f"Waiting {_since(d['requested_at'])} for the location to accept "
        f"(expected within {d['limit_hours']} h)."
    )


def _backorder(d: dict) -> str:
    return (
        f"Waiting {_since(d['waiting_since'])} for stock (alert after {d['limit_days']} days); "
        f"{str(d.get('status', '')).replace('_', ' ')}."
    )


def _drift(d: dict) -> str:
    return (
        f"{str(d['field']).replace('_', ' ').capitalize()} says {d['recorded']}, the ledger "
        f"{d['expected']} ({int(d['difference']):+d})."
    )


def _webhook(d: dict) -> str:
    return f"{d['dead_events']} event(s) could not be delivered to {d['url']}."


def _return_not_received(d: dict) -> str:
    waiting = "Nothing received" if d.get("status") == "requested" else "Partly received"
    return (
        f"{waiting} of return {d['number']} (order {d['order']}) made {_since(d['made_at'])} "
        f"ago (expected within {d['limit_days']} days)."
    )


def _return_not_refunded(d: dict) -> str:
    return (
        f"Return {d['number']} (order {d['order']}) received {_since(d['received_at'])} ago; "
        f"no refund recorded yet (expected within {d['limit_days']} days)."
    )


def _return_rate(d: dict) -> str:
    returned, shipped = int(d["returned"]), int(d["shipped"])
    reason = str(d.get("top_reason") or "").replace("_", " ")
    return (
        f"{_units(returned)} returned of {shipped} shipped in {d['window_days']} days "
        f"({100 * returned / shipped:.0f} %, above {d['threshold_percent']} %)"
        + (f"; mostly {reason}" if reason else "")
        + "."
    )


_SENTENCES = {
    "low_stock": _low_stock,
    "days_of_cover": _days_of_cover,
    "network_low_stock": _network,
    "late_order": _late,
    "unaccepted_fulfilment": _unaccepted,
    "backorder": _backorder,
    "stock_drift": _drift,
    "webhook_dead": _webhook,
    "return_not_received": _return_not_received,
    "return_not_refunded": _return_not_refunded,
    "return_rate": _return_rate,
}


def _generic(d: dict) -> str:
    return "; ".join(
        f"{str(key).replace('_', ' ').capitalize()} {value}"
        for key, value in d.items()
        if value is not None
    )
