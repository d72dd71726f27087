"""Delivery options and their promise: which methods the network can serve, when, at what price.

`promise` is the pure calendar arithmetic (no Django); `config` loads the carrier, calendar
and price settings once per process; `options` answers a basket and a destination.
"""
