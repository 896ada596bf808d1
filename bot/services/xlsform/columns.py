"""Reading sheets: cells to text, column headers to (field, language), yes/no values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

# Translatable survey/choices columns; ODK's jr: spellings are accepted as aliases.
TRANSLATABLE = frozenset(
    {"label", "hint", "required_message", "constraint_message", "guidance_hint", "image", "audio"}
)
COLUMN_ALIASES = {
    "jr:constraintmsg": "constraint_message",
    "jr:requiredmsg": "required_message",
    "list name": "list_name",
    "media::image": "image",
    "media::audio": "audio",
}
_LANGUAGE_NAMES = {
    "english": "en",
    "anglais": "en",
    "inglés": "en",
    "ingles": "en",
    "español": "es",
    "espanol": "es",
    "spanish": "es",
    "espagnol": "es",
    "castellano": "es",
    "français": "fr",
    "francais": "fr",
    "french": "fr",
    "francés": "fr",
    "frances": "fr",
}
_CODE_IN_PARENS = re.compile(r"\(\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\s*\)\s*$")
_BARE_CODE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?")
_YES = frozenset({"yes", "true", "true()", "1", "y", "sí", "si", "oui"})
_NO = frozenset({"no", "false", "false()", "0", "n", "non", ""})


def cell_text(value: object) -> str:
    """A cell as the text a form author meant (1.0 → '1', dates as YYYY-MM-DD)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def language_code(spec: str) -> tuple[str, bool]:
    """`Español (es)` / `es` / `English` → (code, whether we recognised it)."""
    spec = spec.strip()
    if match := _CODE_IN_PARENS.search(spec):
        return match.group(1).lower().replace("_", "-"), True
    if _BARE_CODE.fullmatch(spec):
        return spec.lower().replace("_", "-"), True
    if known := _LANGUAGE_NAMES.get(spec.lower()):
        return known, True
    return spec.lower(), False


def yes_no(value: str) -> bool | None:
    """XLSForm yes/no (yes, true, TRUE(), no, ...); None when it is neither."""
    low = value.strip().lower()
    if low in _YES:
        return True
    if low in _NO:
        return False
    return None


@dataclass(frozen=True)
class ColumnName:
    header: str
    field: str
    language: str | None  # code; None for a plain column
    recognised: bool = True


# Called for every cell of a sheet; a sheet has at most a few hundred distinct headers.
@lru_cache(maxsize=2048)
def split_header(header: str) -> ColumnName:
    """`label::Español (es)` → field 'label', language 'es'; `label` → language None."""
    clean = " ".join(header.split())
    low = clean.lower()
    if low in COLUMN_ALIASES:
        return ColumnName(header, COLUMN_ALIASES[low], None)
    if "::" in clean:
        base, _, spec = clean.partition("::")
        field = COLUMN_ALIASES.get(base.strip().lower(), base.strip().lower())
        if field == "media":
            field, _, spec = spec.partition("::")
            field = field.strip().lower()
        code, recognised = language_code(spec)
        if field.startswith("jr:"):
            field = COLUMN_ALIASES.get(field, field)
        return ColumnName(header, field, code, recognised)
    return ColumnName(header, low, None)
