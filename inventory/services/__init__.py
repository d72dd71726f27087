"""Every write to stock goes through these services."""

from inventory.services.ledger import (
    stock_adjust,
    stock_bin_set,
    stock_damage,
    stock_movement_record,
    stock_receive,
    stock_safety_stock_set,
    stock_transfer,
    units_write_off,
)

__all__ = [
    "stock_adjust",
    "stock_bin_set",
    "stock_damage",
    "stock_movement_record",
    "stock_receive",
    "stock_safety_stock_set",
    "stock_transfer",
    "units_write_off",
]
