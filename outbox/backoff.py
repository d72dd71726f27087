"""When to try a failed delivery again: exponential backoff with jitter, up to a horizon."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings


def next_try(*, attempts: int, now: datetime, horizon_at: datetime) -> datetime | None:
    """Return when to try again after `attempts` failed tries, or None once past the horizon.

    The delay doubles from `OMS_WEBHOOK_RETRY_BASE_SECONDS` up to `OMS_WEBHOOK_RETRY_MAX_SECONDS`;
    a random half of it is dropped so that receivers coming back are not hit by every retry
    at once. The last try happens at the horizon itself.
    """
    if now >= horizon_at:
        return None
    base = settings.OMS_WEBHOOK_RETRY_BASE_SECONDS
    delay = min(base * 2 ** max(attempts - 1, 0), settings.OMS_WEBHOOK_RETRY_MAX_SECONDS)
    delay = delay / 2 + random.uniform(0, delay / 2)  # jitter, not a secret
    return min(now + timedelta(seconds=delay), horizon_at)
