"""Domain errors of alerts, each with a message for a person."""

from core.exceptions import ConflictError, DomainError


class AlertConflict(ConflictError):
    """The alert is in no state for that (acknowledging a resolved alert)."""


class InvalidSnooze(DomainError):
    """A snooze that ends in the past."""


class InvalidRule(DomainError):
    """A rule's figures make no sense."""
