"""Transfer numbers: short, printable on a delivery note, read over the phone."""

import secrets

# No 0/O, 1/I/L or U: nothing a person can misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8  # 30**8 ≈ 6.6e11


def transfer_number_new() -> str:
    return "TR-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
