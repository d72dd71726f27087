"""Background jobs of the console: a bulk action or an export, its progress and its result."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BackgroundJob(models.Model):
    """One long operation started from a work queue and run by a Celery task.

    The page of the job polls `progress`; the worker moves it with conditional UPDATEs
    (`console.jobs`), so a page read never waits for the work.
    """

    class Kind(models.TextChoices):
        ACTION = "action", "Bulk action"
        EXPORT = "export", "Export"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    queue = models.SlugField(max_length=32, help_text="The work queue the rows come from.")
    action = models.SlugField(max_length=32, blank=True)
    # What selects the rows (the queue's filters, or explicit ids) and the action's inputs.
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    # The first failures, each {"object": ..., "message": ...}; `failed` counts them all.
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # An export's file, kept in the database so that every app server can hand it out.
    output = models.BinaryField(default=b"", editable=False)
    output_name = models.CharField(max_length=128, blank=True)
    summary = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Moved at each progress step: a running job whose heartbeat stopped lost its worker
    # (console.jobs.jobs_sweep restarts it, at most MAX_ATTEMPTS runs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "created_at"], name="job_actor_created")]

    def __str__(self) -> str:
        return f"Job #{self.pk} {self.get_kind_display().lower()} of {self.queue}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.processed * 100 // self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
