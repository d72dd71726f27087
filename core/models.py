"""Models of the plumbing: the first answers to idempotent POSTs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed to its retries.

    Inserted before the request runs, as a claim (`response_status` null: in
    progress); the unique (user, key) makes a concurrent twin find it instead of
    running too. See `core.api.idempotency`.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # "POST /api/v1/stock/movements/": a key is for one request, not one per endpoint.
    endpoint = models.CharField(max_length=512)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The JSON text as first sent: jsonb would reorder its keys.
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the request now running took the claim; a claim left by a dead worker is retaken.
    claimed_at = models.DateTimeField()
    # The PostgreSQL session that took the claim (pid, and its start, as pids are reused): a
    # retry that finds it gone knows the claimer died. Null on SQLite.
    claimer_pid = models.IntegerField(null=True, blank=True)
    claimer_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table keeps the name it was created with in the orders app.
        db_table = "orders_idempotencyrecord"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_one_record_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.endpoint})"
