"""Return numbers: printed on the return slip, read at a store's counter or scanned; as
unguessable as order numbers, and never one of them (an R and one more character)."""

import re
import secrets

from orders.numbers import ALPHABET

LENGTH = 9
PREFIX = "R"


def return_number_new() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


# One compiled pattern: a 3PL's file checks ten thousand numbers.
_PLAUSIBLE = re.compile(f"{re.escape(PREFIX)}[{re.escape(ALPHABET)}]{{{LENGTH}}}")


def return_number_is_plausible(number: str) -> bool:
    """Whether `number` may be a return number (no lookup for what cannot be one)."""
    return _PLAUSIBLE.fullmatch(number.strip().upper()) is not None
