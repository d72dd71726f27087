"""Outbound events: the transactional outbox and its relay to webhook subscribers.

Other apps call `outbox.emit.event_emit` (or `events_emit`) inside the transaction of their
change; the relay delivers after commit. Nothing here imports a domain app.
"""
