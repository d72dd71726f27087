"""The customer's view of an order (/track/): signed links, the number + e-mail lookup, and
the rate limit that keeps that lookup from being used to guess."""
