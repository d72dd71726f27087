"""The policy a replay puts to the test, read from the command's options or the console's form.

Every refusal names the option (and the row of a cost file) it is about; nothing runs until
the whole policy reads.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone

import sourcing
from core.exceptions import DomainError
from core.text import code_lookup_form
from inventory.models import Location

# The settings a replay may change, and how each reads.
SETTABLE = ("OMS_SPLIT_PENALTY", "OMS_MAX_SHIPMENTS", "OMS_SOURCING_STRATEGY")
COST_COLUMNS = ("location", "shipment_cost", "cost_per_km", "unit_cost")
# A period longer than this is refused: a year of orders is already millions of plans.
MAX_PERIOD_DAYS = 366
EVERY_STORE = "STORES"


class ReplayInputError(DomainError):
    """A replay option that does not read; `field` names it."""


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A location left out of sourcing, for the whole period or from `start` to `end`."""

    code: str
    start: datetime | None = None
    end: datetime | None = None

    def applies(self, at: datetime) -> bool:
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)


@dataclass(frozen=True, slots=True)
class Costs:
    shipment_cost: float
    cost_per_km: float
    unit_cost: float


@dataclass(frozen=True)
class ReplayPolicy:
    strategy: str
    split_penalty: float
    max_shipments: int | None
    budget_ms: float | None
    exclusions: tuple[Exclusion, ...] = ()
    # Locations that ship parcels in the replay although they do not today ("STORES": all).
    let_ship: frozenset[str] = frozenset()
    costs: dict[str, Costs] = field(default_factory=dict)

    def engine_policy(self) -> sourcing.Policy:
        return sourcing.Policy(
            split_penalty=self.split_penalty,
            allow_line_split=True,
            max_shipments=self.max_shipments,
        )


def live_policy() -> ReplayPolicy:
    return ReplayPolicy(
        strategy=settings.OMS_SOURCING_STRATEGY,
        split_penalty=float(settings.OMS_SPLIT_PENALTY),
        max_shipments=settings.OMS_MAX_SHIPMENTS,
        budget_ms=settings.OMS_SOURCING_BUDGET_MS,
    )


def policy_read(
    *,
    strategy: str | None = None,
    sets: list[str] | tuple[str, ...] = (),
    exclude: list[str] | tuple[str, ...] = (),
    let_ship: list[str] | tuple[str, ...] = (),
    cost_file: str | None = None,
    cost_text: str | None = None,
) -> ReplayPolicy:
    """Return the live policy changed as the options say; raise `ReplayInputError`."""
    live = live_policy()
    values = {
        "strategy": live.strategy,
        "split_penalty": live.split_penalty,
        "max_shipments": live.max_shipments,
    }
    for item in sets:
        name, sep, raw = item.partition("=")
        name, raw = name.strip().upper(), raw.strip()
        if not sep or name not in SETTABLE:
            raise ReplayInputError(
                f"--set takes NAME=VALUE with NAME one of {', '.join(SETTABLE)}; got {item!r}.",
                field="set",
            )
        if name == "OMS_SPLIT_PENALTY":
            values["split_penalty"] = _number(raw, "set", name, low=0)
        elif name == "OMS_MAX_SHIPMENTS":
            values["max_shipments"] = (
                None if raw.lower() in ("", "none") else int(_number(raw, "set", name, low=1))
            )
        else:
            values["strategy"] = raw
    if strategy:
        values["strategy"] = strategy
    if values["strategy"] not in sourcing.STRATEGIES:
        raise ReplayInputError(
            f"Unknown strategy {values['strategy']!r}; known: {', '.join(sourcing.STRATEGIES)}.",
            field="strategy",
        )
    known = known_codes()
    return ReplayPolicy(
        strategy=str(values["strategy"]),
        split_penalty=float(values["split_penalty"]),  # type: ignore[arg-type]
        max_shipments=values["max_shipments"],  # type: ignore[arg-type]
        budget_ms=live.budget_ms,
        exclusions=tuple(_exclusion(item, known) for item in exclude if item.strip()),
        let_ship=frozenset(_let_ship(item, known) for item in let_ship if item.strip()),
        costs=(
            _cost_file(cost_file, known)
            if cost_file
            else costs_read(cost_text, known)
            if cost_text
            else {}
        ),
    )


def period_read(start: str | date, end: str | date) -> tuple[datetime, datetime]:
    """Return the period from the first day's midnight to the midnight after the last day
    (in the project's time zone); raise `ReplayInputError`."""
    first = _date(start, "from")
    last = _date(end, "to")
    if last < first:
        raise ReplayInputError("The period ends before it starts.", field="to")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise ReplayInputError(f"A period is at most {MAX_PERIOD_DAYS} days.", field="to")
    return _midnight(first), _midnight(last + timedelta(days=1))


def days_read(start: str | date, end: str | date) -> tuple[date, date]:
    """Return the first and last day of a period; raise `ReplayInputError` as `period_read`."""
    period_read(start, end)
    return _date(start, "from"), _date(end, "to")


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _date(value: str | date, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ReplayInputError(f"{value!r} is not a date (YYYY-MM-DD).", field=name) from None


def _number(raw: str, name: str, what: str, *, low: float) -> float:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ReplayInputError(f"{what}: {raw!r} is not a number.", field=name) from None
    if not value.is_finite() or value < low or value > 1_000_000:
        raise ReplayInputError(f"{what}: {raw} is out of range.", field=name)
    return float(value)


def known_codes() -> dict[str, str]:
    """Return every location code by the form it is looked up by (codes ignore case)."""
    return {code.upper(): code for code in Location.objects.values_list("code", flat=True)}


def _known(code: str, known: dict[str, str], name: str) -> str:
    form = code_lookup_form(code)
    found = known.get(form.upper()) if form else None
    if found is None:
        raise ReplayInputError(f"No location {code.strip()!r}.", field=name)
    return found


def _exclusion(item: str, known: dict[str, str]) -> Exclusion:
    """`CODE`, or `CODE:YYYY-MM-DD..YYYY-MM-DD` for those days only (both included)."""
    code, _, days = item.partition(":")
    code = _known(code, known, "exclude_location")
    if not days:
        return Exclusion(code)
    first, sep, last = days.partition("..")
    if not sep:
        raise ReplayInputError(
            f"{item!r}: give CODE or CODE:FIRST..LAST (dates YYYY-MM-DD).",
            field="exclude_location",
        )
    start, end = period_read(first, last)
    return Exclusion(code, start, end)


def _let_ship(item: str, known: dict[str, str]) -> str:
    if item.strip().upper() == EVERY_STORE:
        return EVERY_STORE
    return _known(item, known, "let_ship")


def _cost_file(path: str, known: dict[str, str]) -> dict[str, Costs]:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read(1_000_000)
    except OSError as error:
        raise ReplayInputError(
            f"Cannot read {path}: {error.strerror}.", field="cost_file"
        ) from None
    return costs_read(text, known)


def costs_read(text: str, known: dict[str, str] | None = None) -> dict[str, Costs]:
    """Read a cost file: CSV with a header `location,shipment_cost,cost_per_km,unit_cost`."""
    if known is None:
        known = known_codes()
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if tuple(header) != COST_COLUMNS:
        raise ReplayInputError(
            f"The cost file's header must be {','.join(COST_COLUMNS)}.", field="cost_file"
        )
    costs: dict[str, Costs] = {}
    for number, row in enumerate(reader, start=2):
        where = f"cost file, row {number}"
        try:
            code = _known(row["location"] or "", known, "cost_file")
        except ReplayInputError as error:
            raise ReplayInputError(f"{where}: {error.message}", field="cost_file") from None
        if code in costs:
            raise ReplayInputError(f"{where}: {code} is given twice.", field="cost_file")
        figures = []
        for column in COST_COLUMNS[1:]:
            try:
                figures.append(_number(row[column] or "", "cost_file", column, low=0))
            except ReplayInputError as error:
                raise ReplayInputError(f"{where}: {error.message}", field="cost_file") from None
        costs[code] = Costs(*figures)
    return costs


def policy_to_json(policy: ReplayPolicy) -> dict:
    """Return the policy as a run keeps it, to be read back by `policy_from_json`."""
    return {
        "strategy": policy.strategy,
        "split_penalty": policy.split_penalty,
        "max_shipments": policy.max_shipments,
        "budget_ms": policy.budget_ms,
        "exclusions": [
            [e.code, e.start.isoformat() if e.start else None, e.end.isoformat() if e.end else None]
            for e in policy.exclusions
        ],
        "let_ship": sorted(policy.let_ship),
        "costs": {
            code: [c.shipment_cost, c.cost_per_km, c.unit_cost]
            for code, c in sorted(policy.costs.items())
        },
    }


def policy_from_json(data: dict) -> ReplayPolicy:
    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return ReplayPolicy(
        strategy=data["strategy"],
        split_penalty=float(data["split_penalty"]),
        max_shipments=data["max_shipments"],
        budget_ms=data["budget_ms"],
        exclusions=tuple(Exclusion(code, when(a), when(b)) for code, a, b in data["exclusions"]),
        let_ship=frozenset(data["let_ship"]),
        costs={code: Costs(*figures) for code, figures in data["costs"].items()},
    )
