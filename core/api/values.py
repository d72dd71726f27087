"""Values drawn as DRF's fields draw them, for answers built without a serializer.

The order answers, the event payloads and the webhook bodies are built from rows in memory
(a serializer per answer costs too much on order capture); these keep them identical to
what the serializers would have drawn.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal

from django.utils import timezone

CENT = Decimal("0.01")


def money(value: Decimal | float | int | str) -> str:
    """Return an amount as DRF's DecimalField(decimal_places=2) draws it: "19.90"."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value).strip())
    return f"{value.quantize(CENT):f}"


def moment(value: datetime | None, zone: tzinfo | None = None) -> str | None:
    """Return a time as DRF's DateTimeField draws it: ISO 8601, in the current time zone."""
    if not value:
        return None
    text: str = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
