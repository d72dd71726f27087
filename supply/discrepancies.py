"""A transfer received short of what shipped keeps an alert open at the location it went to,
until the missing units arrive after all (or a person resolves it)."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from alerts.evaluation.engine import Hits, hits_apply
from alerts.models import Alert, AlertPolicy
from supply.models import Transfer


def transfer_discrepancy_alert_sync(*, transfer: Transfer) -> None:
    """Open, refresh or resolve the discrepancy alert of one received transfer. Call in the
    transaction that received it."""
    missing = [
        {"sku": line.product.sku, "missing": line.quantity - line.received}
        for line in transfer.lines.select_related("product")
        if line.received < line.quantity
    ]
    subject = str(transfer.pk)
    rows = []
    if transfer.status == Transfer.Status.RECEIVED and missing:
        details = {
            "transfer": transfer.number,
            "from": transfer.source.code,
            "to": transfer.destination.code,
            "missing": missing,
            "units": sum(line["missing"] for line in missing),
        }
        rows.append(
            (
                subject,
                None,
                transfer.destination_id,
                None,
                True,
                json.dumps(details, separators=(",", ":")),
            )
        )
    policy = AlertPolicy.current()
    hits_apply(
        Hits(
            kind=Alert.Kind.TRANSFER_DISCREPANCY,
            rows=rows,
            scope="subject = %s",
            scope_params=[subject],
        ),
        now=timezone.now(),
        quiet=timedelta(minutes=policy.reopen_quiet_minutes),
    )
