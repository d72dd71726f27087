"""Send every SKU's figure to a channel's storefront now (or to every storefront)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connectors.models import Connector
from connectors.services.outbound import connector_push, stock_push_all


class Command(BaseCommand):
    help = (
        "Mark every SKU to be sent again to the storefront of --channel (default: every active "
        "connector); with --now, send it in this process instead of leaving it to the worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--channel", help="the channel code of one connector")
        parser.add_argument(
            "--now", action="store_true", help="send here and now, and print what was sent"
        )

    def handle(self, *args, channel=None, now=False, **options):
        connectors = Connector.objects.filter(active=True).select_related("channel")
        if channel:
            connectors = connectors.filter(channel__code__iexact=channel)
            if not connectors:
                raise CommandError(f"No active connector on channel {channel}.")
        for connector in connectors:
            marked = stock_push_all(connector=connector)
            line = f"{connector.channel.code}: {marked} SKUs to send"
            if now:
                done = connector_push(connector=connector)
                line += f"; sent {done.skus} SKUs in {done.stock_calls} calls" + (
                    f"; paused: {done.error}" if done.paused else ""
                )
            self.stdout.write(line)
