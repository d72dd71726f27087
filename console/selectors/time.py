"""Days as the business counts them: in the site's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_start(day: date) -> datetime:
    """Return the aware start of `day` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def today_start(now: datetime) -> datetime:
    return day_start(timezone.localdate(now))


def days_back(now: datetime, days: int) -> datetime:
    """Return the start of the day `days - 1` days before today: `days` whole days so far."""
    return day_start(timezone.localdate(now) - timedelta(days=days - 1))
