"""Order numbers: short enough to print on a receipt and read over the phone, unguessable
enough that the tracking page cannot be walked."""

import secrets

# No 0/O, 1/I/L or U: nothing a customer can misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 9  # 30**9 ≈ 2e13 numbers


def order_number_new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
