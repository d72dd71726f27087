"""Outbound events: the transactional outbox and its relay to webhook subscribers.

Other apps call `event_emit` (or `events_emit`) inside the transaction of their change.
"""

from fulfilment.outbox.emit import Draft, event_emit, events_emit

__all__ = ["Draft", "event_emit", "events_emit"]
