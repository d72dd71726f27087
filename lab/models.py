"""Replays kept: the policy tried, over which days, and what it came to beside reality."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReplayRun(models.Model):
    """One replay of a period under a policy, run by a Celery task (or by the command).

    The page polls `processed` of `total`; the worker moves them with conditional UPDATEs
    (`lab.services`). `summary` holds the figures (`lab.report.summary_of`) and `output`
    the per-order CSV, zlib-compressed (a tenth of its size), so that any app server hands
    it out and two runs can be compared long after.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        CONSOLE = "console", "Console"
        COMMAND = "command", "Command"

    name = models.CharField(max_length=128, blank=True)
    first_day = models.DateField()
    last_day = models.DateField()
    # lab.policy.policy_to_json: strategy, split penalty, cap, exclusions, costs ...
    policy = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CONSOLE)
    total = models.PositiveIntegerField(default=0, help_text="Orders of the period.")
    processed = models.PositiveIntegerField(default=0, help_text="Orders replayed so far.")
    message = models.CharField(max_length=255, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    output = models.BinaryField(default=b"", editable=False)
    elapsed_seconds = models.FloatField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Moved at each progress step: a running replay whose heartbeat stopped lost its worker,
    # and a new delivery of its task takes it over.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")), name="replay_period_in_order"
            ),
            models.CheckConstraint(
                condition=Q(processed__lte=models.F("total")) | Q(total=0),
                name="replay_processed_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Replay #{self.pk} {self.first_day}..{self.last_day}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.processed * 100 // self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def label(self) -> str:
        return self.name or f"#{self.pk}"
