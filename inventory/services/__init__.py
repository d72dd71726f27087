"""Every write to stock goes through these services."""

from inventory.services.ledger import (
    stock_adjust,
    stock_damage,
    stock_movement_record,
    stock_receive,
    stock_safety_stock_set,
    stock_transfer,
)

__all__ = [
    "stock_adjust",
    "stock_damage",
    "stock_movement_record",
    "stock_receive",
    "stock_safety_stock_set",
    "stock_transfer",
]
