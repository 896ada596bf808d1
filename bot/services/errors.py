"""Refused input: the error every layer raises and catches, and the free-text check raising it."""

from __future__ import annotations

import unicodedata
from typing import Any

# Direction overrides and isolates: invisible, and able to reorder what others read around a name.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


class InputError(ValueError):
    """The input was not accepted; ``key`` names the reason in the catalogs."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def clean_text(text: str | None, maximum: int, need_letter: bool = True) -> str:
    """Validate a free-text answer: not empty, not too long, printable, with a letter."""
    if text is None or not text.strip():
        raise InputError("error.empty")
    collapsed = " ".join(text.split())
    if len(collapsed) > maximum:
        raise InputError("error.too_long", maximum=maximum)
    for char in collapsed:
        category = unicodedata.category(char)
        if category == "Cc" or char in _BIDI_CONTROLS or category in ("Cs", "Co", "Cn"):
            raise InputError("error.control_chars")
    if need_letter and not any(unicodedata.category(ch).startswith("L") for ch in collapsed):
        raise InputError("error.no_letters")
    return unicodedata.normalize("NFC", collapsed)
