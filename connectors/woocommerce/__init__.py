"""WooCommerce: orders in by webhook (inbound.py), shipments and stock out (outbound)."""
