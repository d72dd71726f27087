"""Text from outside: one normalisation for natural keys, one refusal of control characters.

Natural keys (a product's SKU, a location's or channel's code) are compared, stored and
looked up in one form, so that text that looks the same is the same key:

* NFKC: a composed "é" and "e" + combining accent are one letter, and compatibility forms
  (full-width "ＡＰ-１", ligatures, non-breaking spaces) fold to their plain letters. NFKC
  includes NFC's composition; only the compatibility fold goes further, and for a key
  typed on a till or scanned from a label that fold is what a person means;
* trimmed of surrounding white space;
* refused when they hold anything a person cannot see or type: control characters,
  format characters (zero-width spaces and joiners, bidi overrides such as U+202E, the
  byte-order mark), lone surrogates, private-use or unassigned code points, line and
  paragraph separators, and the other default-ignorable fillers and variation selectors.

Every entry point (the API's fields, CSV imports, admin forms, URL look-ups) goes through
`code_normalise`; the database keeps keys unique ignoring case (functional unique
indexes), so `ap-10001` cannot sit beside `AP-10001`.

Free text (names, addresses, notes) keeps its form but may not hold control characters
other than tab and line breaks (`text_problem`): PostgreSQL refuses NUL in text, and no
person types the others.
"""

from __future__ import annotations

import re
import unicodedata

# Categories no key may hold: control, format, surrogate, private use, unassigned, and the
# line and paragraph separators.
_REFUSED_IN_KEYS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Default-ignorable code points outside those categories: invisible fillers and
# variation selectors that render as nothing.
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0]
    + list(range(0x180B, 0x1810))
    + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0))
)
# In free text: tab, line feed and carriage return are what people type.
_ALLOWED_CONTROLS = frozenset("\t\n\r")


class TextRefused(ValueError):
    """The text holds a character it may not; the message says which, for a person."""


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def code_normalise(value: str, *, what: str = "A code") -> str:
    """Return `value` as a natural key is kept: NFKC, trimmed; raise TextRefused when it
    holds an invisible or control character, or nothing at all."""
    if value.isascii() and value.isprintable():
        # Printable ASCII is its own NFKC and holds nothing invisible: the common case.
        normal = value.strip()
        if not normal:
            raise TextRefused(f"{what} may not be blank.")
        return normal
    for char in value:
        # Checked before the fold: NFKC would quietly turn some of them into spaces.
        if unicodedata.category(char) in _REFUSED_IN_KEYS or ord(char) in _INVISIBLE:
            raise TextRefused(
                f"{what} may not contain invisible or control characters ({_describe(char)})."
            )
    normal = unicodedata.normalize("NFKC", value).strip()
    if not normal:
        raise TextRefused(f"{what} may not be blank.")
    return normal


def code_lookup_form(value: str) -> str | None:
    """Return the form to look a key up by, or None when no key can have this form (a
    look-up of it finds nothing: answer 404 or 'unknown', never a database error)."""
    try:
        return code_normalise(value)
    except TextRefused:
        return None


def text_problem(value: str) -> str | None:
    """Return why free text is refused (a control character other than tab or a line
    break, or a lone surrogate), or None when it is fine."""
    for char in value:
        if char in _ALLOWED_CONTROLS:
            continue
        category = unicodedata.category(char)
        if category == "Cc" or category == "Cs":
            return f"Control characters are not allowed ({_describe(char)})."
    return None


# What `text_problem` refuses, as one expression the regex engine scans in C: the control
# characters (category Cc: U+0000-U+001F, U+007F-U+009F) but tab and line breaks, and the
# surrogates (Cs).
_REFUSED_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(value: str) -> bool:
    """Return whether free text holds a character `text_problem` refuses."""
    return _REFUSED_IN_TEXT.search(value) is not None
