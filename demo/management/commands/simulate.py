"""manage.py simulate: a live day of the demo network at a chosen speed (demo.simulation)."""

from __future__ import annotations

import random
import signal
import time
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.simulation import ORDERS_PER_DAY, Day, simulate_minute

MINUTES_A_DAY = 24 * 60


class Command(BaseCommand):
    help = (
        "Run the demo network live: orders arrive by channel and hour, stores and warehouses "
        "work them, receipts and counts come in, all through the real services. "
        "`make run` starts it (SIMULATE=0 make run leaves it out)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--speed",
            type=float,
            default=60.0,
            help="Simulated minutes per real minute (default 60: an hour a minute, a day in "
            "24 minutes); 0 runs as fast as the database allows.",
        )
        parser.add_argument(
            "--minutes",
            type=int,
            default=0,
            help="Stop after this many simulated minutes (default: run until stopped).",
        )
        parser.add_argument(
            "--start", default="", help="Simulated clock at the start, HH:MM (default: now)."
        )
        parser.add_argument(
            "--orders-per-day",
            type=int,
            default=ORDERS_PER_DAY,
            help=f"Orders over a whole day (default {ORDERS_PER_DAY}).",
        )
        parser.add_argument("--seed", type=int, default=None, help="Random seed (repeatable).")

    def handle(self, *args, speed, minutes, start, orders_per_day, seed, **options):
        if speed < 0 or minutes < 0 or not 0 <= orders_per_day <= 1_000_000:
            raise CommandError("--speed, --minutes and --orders-per-day take 0 or more.")
        clock = self._start(start)
        day = Day(rng=random.Random(seed), orders_per_day=orders_per_day)
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        pace = 60.0 / speed if speed else 0.0
        minute = 0
        self.stdout.write(f"Simulating from {clock:%H:%M} at {speed:g}x; Ctrl-C stops.")
        try:
            while not stopping and (not minutes or minute < minutes):
                begun = time.monotonic()
                simulate_minute(day=day, at=clock, minute=minute)
                minute += 1
                clock += timedelta(minutes=1)
                if minute % 60 == 0:
                    self._report(clock, day)
                if pace:
                    time.sleep(max(0.0, pace - (time.monotonic() - begun)))
        except KeyboardInterrupt:
            pass
        if minute % 60:
            self._report(clock, day)

    def _start(self, start: str) -> datetime:
        now = timezone.localtime()
        if not start:
            return now
        try:
            hour, minute = (int(part) for part in start.split(":"))
            return now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        except ValueError as error:
            raise CommandError("--start takes HH:MM, e.g. 08:00.") from error

    def _report(self, clock: datetime, day: Day) -> None:
        said = ", ".join(f"{n} {what}" for what, n in sorted(day.done.items()))
        self.stdout.write(f"{clock:%H:%M} so far: {said or 'nothing yet'}")
