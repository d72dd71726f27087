"""Replenish stores: a run proposes transfers (supply.replenishment works them out), a person
confirms each one, which requests the real transfer; and the days-of-cover alert's
suggestion, requested in one click.

A run replaces the unconfirmed proposals of the runs before it. Runs take turns (an advisory
lock on PostgreSQL; SQLite has one writer anyway), so two never propose the same units.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.actors import acting_person
from alerts.models import Alert, AlertPolicy
from alerts.services.lifecycle import alert_acknowledge_in_transaction
from core.enqueue import task_send_after_commit
from inventory.models import Location
from supply.exceptions import AlreadyRequested, InvalidTransition, SupplyInvalid
from supply.locks import lock_alert, lock_proposal, lock_replenishment_run
from supply.models import ReplenishmentProposal, ReplenishmentRun, Transfer
from supply.replenishment import shortfalls_fill, tables_drop
from supply.services.transfers import TransferLineInput, transfer_request

RUN_TASK = "supply.tasks.replenishment_run_task"
# Any constant: the key of the PostgreSQL advisory lock that makes runs take turns.
RUN_LOCK = 7_000_015
Proposal = ReplenishmentProposal


@transaction.atomic(durable=True)
def replenishment_request(*, actor: AbstractBaseUser | None = None) -> ReplenishmentRun:
    """Queue a run for the worker (the console's button)."""
    run = ReplenishmentRun.objects.create(actor=acting_person(actor))
    task_send_after_commit(RUN_TASK, run.pk)
    return run


def replenishment_run(*, run_id: int, now: datetime | None = None) -> ReplenishmentRun:
    """Run a queued run: propose a transfer per (source, store) lane for every store row
    under its reorder line. A run that is not queued any more (a second delivery of its task)
    is left as it is. A database error marks it failed, saying what went wrong."""
    try:
        return _run(run_id=run_id, now=now or timezone.now())
    except DatabaseError as exc:
        ReplenishmentRun.objects.filter(pk=run_id, status=ReplenishmentRun.Status.QUEUED).update(
            status=ReplenishmentRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise


@transaction.atomic(durable=True)
def _run(*, run_id: int, now: datetime) -> ReplenishmentRun:
    run = lock_replenishment_run(run_id)
    if run.status != ReplenishmentRun.Status.QUEUED:
        return run
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RUN_LOCK])
        # Proposals nobody confirmed were worked out from stock that has moved since.
        Proposal.objects.filter(status=Proposal.Status.PROPOSED).update(
            status=Proposal.Status.SUPERSEDED, decided_at=now
        )
        try:
            outcome = shortfalls_fill(cursor, policy=AlertPolicy.current(), now=now)
            proposals, lines, units = (
                _proposals_write(cursor, run_id=run.pk, now=now)
                if outcome.granted_units
                else (0, 0, 0)
            )
        finally:
            tables_drop(cursor)
    run.status = ReplenishmentRun.Status.DONE
    run.started_at, run.finished_at = now, timezone.now()
    run.short_rows, run.short_units = outcome.short_rows, outcome.short_units
    run.unmet_units = outcome.short_units - outcome.granted_units
    run.proposals, run.lines, run.units = proposals, lines, units
    run.seconds = time.perf_counter() - started
    run.save(
        update_fields=[
            "status",
            "started_at",
            "finished_at",
            "short_rows",
            "short_units",
            "unmet_units",
            "proposals",
            "lines",
            "units",
            "seconds",
        ]
    )
    return run


def _proposals_write(cursor, *, run_id: int, now: datetime) -> tuple[int, int, int]:
    """Write one proposal per (source, store) lane of the grants, and its lines."""
    created = connection.ops.adapt_datetimefield_value(now)
    cursor.execute(
        """
        INSERT INTO supply_replenishmentproposal
            (run_id, source_id, destination_id, status, lines, units, cost, distance_km,
             created_at)
        SELECT %s, g.source_id, g.store_id, %s, COUNT(*), SUM(g.quantity),
               MIN(l.move_cost) + MIN(l.unit_cost) * SUM(g.quantity), MIN(l.km), %s
        FROM (SELECT product_id, source_id, store_id, SUM(quantity) AS quantity
              FROM replenish_grant GROUP BY product_id, source_id, store_id) g
        JOIN replenish_lane l ON l.store_id = g.store_id AND l.source_id = g.source_id
        GROUP BY g.source_id, g.store_id""",
        [run_id, Proposal.Status.PROPOSED, created],
    )
    proposals = cursor.rowcount
    cursor.execute(
        """
        INSERT INTO supply_replenishmentline (proposal_id, product_id, quantity, position, target)
        SELECT pr.id, g.product_id, SUM(g.quantity), MIN(g.position), MIN(g.target)
        FROM replenish_grant g
        JOIN supply_replenishmentproposal pr ON pr.run_id = %s AND pr.source_id = g.source_id
                                             AND pr.destination_id = g.store_id
        GROUP BY pr.id, g.product_id""",
        [run_id],
    )
    lines = cursor.rowcount
    cursor.execute("SELECT COALESCE(SUM(quantity), 0) FROM replenish_grant")
    return proposals, lines, int(cursor.fetchone()[0])


@transaction.atomic(durable=True)
def replenishment_proposal_confirm(
    *, proposal_id: int, actor: AbstractBaseUser | None = None
) -> Transfer:
    """Request the proposed transfer (its units held at the source at once, all or nothing)
    and mark the proposal confirmed, in one commit: a second click finds it confirmed."""
    proposal = lock_proposal(proposal_id)
    _ensure_proposed(proposal)
    lines = [
        TransferLineInput(product=line.product, quantity=line.quantity)
        for line in proposal.proposed_lines.select_related("product").order_by("id")
    ]
    transfer = transfer_request(
        source=proposal.source,
        destination=proposal.destination,
        lines=lines,
        reference=f"replenishment proposal {proposal.pk}",
        actor=actor,
    )
    proposal.status = Proposal.Status.CONFIRMED
    proposal.transfer = transfer
    proposal.decided_by = acting_person(actor)
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "transfer", "decided_by", "decided_at"])
    return transfer


@transaction.atomic(durable=True)
def replenishment_proposal_dismiss(
    *, proposal_id: int, actor: AbstractBaseUser | None = None
) -> ReplenishmentProposal:
    """Set a proposal aside: nothing is held, and the next run may propose it again."""
    proposal = lock_proposal(proposal_id)
    _ensure_proposed(proposal)
    proposal.status = Proposal.Status.DISMISSED
    proposal.decided_by = acting_person(actor)
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return proposal


def _ensure_proposed(proposal: ReplenishmentProposal) -> None:
    if proposal.status != Proposal.Status.PROPOSED:
        raise InvalidTransition(
            f"Proposal #{proposal.pk} is {proposal.get_status_display().lower()}: "
            "only a proposed transfer can be confirmed or dismissed."
        )


def alert_reference(alert_id: int) -> str:
    """The reference of the transfer requested from an alert's suggestion."""
    return f"alert {alert_id}"


@transaction.atomic(durable=True)
def alert_transfer_request(*, alert_id: int, actor: AbstractBaseUser | None = None) -> Transfer:
    """Request the transfer a days-of-cover alert suggests (its source and quantity) to the
    alert's store, and acknowledge the alert: someone is on it. The alert resolves itself
    once the units are received and its cover clears the band.

    Refuses an alert with no suggestion, a resolved one, and one whose transfer was already
    requested (and not cancelled)."""
    alert = lock_alert(alert_id)
    if alert.kind != Alert.Kind.DAYS_OF_COVER or alert.location is None or alert.product is None:
        raise SupplyInvalid("Only a days-of-cover alert suggests a transfer.", field="alert")
    if alert.status == Alert.Status.RESOLVED:
        raise InvalidTransition(f"Alert #{alert.pk} is resolved: there is nothing to transfer.")
    code = alert.details.get("transfer_from")
    quantity = alert.details.get("transfer_quantity")
    if not code or not isinstance(quantity, int) or quantity <= 0:
        raise SupplyInvalid(
            f"Alert #{alert.pk} suggests no transfer: no location could spare units when it "
            "opened.",
            field="alert",
        )
    reference = alert_reference(alert.pk)
    earlier = (
        Transfer.objects.filter(reference=reference)
        .exclude(status=Transfer.Status.CANCELLED)
        .first()
    )
    if earlier is not None:
        raise AlreadyRequested(
            f"Transfer {earlier.number} was already requested for alert #{alert.pk}.",
            field="alert",
        )
    source = Location.objects.filter(code=code, active=True).first()
    if source is None:
        raise SupplyInvalid(f"{code} is not an active location any more.", field="from")
    transfer = transfer_request(
        source=source,
        destination=alert.location,
        lines=[TransferLineInput(product=alert.product, quantity=quantity)],
        reference=reference,
        actor=actor,
    )
    if alert.status == Alert.Status.OPEN:
        alert_acknowledge_in_transaction(alert=alert, actor=actor)
    return transfer
