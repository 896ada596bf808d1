"""The `type` and `parameters` cells: what is supported, what is refused and why."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.services.xlsform.model import (
    METADATA_EMPTY,
    METADATA_FROM_CHAT,
    QUESTION_TYPES,
    RangeParameters,
)

# Refused by name, with the reason staff will read.
UNSUPPORTED = {
    **dict.fromkeys(
        ("geopoint", "geotrace", "geoshape", "start-geopoint", "osm"),
        "locations are not collected in chat",
    ),
    **dict.fromkeys(
        ("image", "audio", "video", "file", "background-audio", "barcode"),
        "files, media and scans are not collected in chat",
    ),
    **dict.fromkeys(("calculate", "hidden"), "calculated fields are not supported"),
    **dict.fromkeys(("repeat",), "repeated groups are not supported"),
    **dict.fromkeys(
        ("select_one_from_file", "select_multiple_from_file", "xml-external", "csv-external"),
        "choices must be in the choices sheet, not in an attached file",
    ),
    "rank": "ranking is not supported in chat",
    "time": "times of day are not supported (use text or date)",
    "datetime": "date-and-time is not supported (use date)",
    "trigger": "triggers are not supported (use acknowledge)",
    "or_other": "'or_other' is not supported: add an 'other' choice and a text question",
}


@dataclass(frozen=True)
class RowType:
    kind: str  # a QUESTION_TYPES entry, 'begin_group', 'end_group' or 'metadata'
    base: str
    list_name: str | None = None


def parse_type(text: str) -> RowType | str:
    """Read the `type` cell; an error text when refused or unknown."""
    low = " ".join(text.split()).lower()
    for spaced in ("begin group", "end group", "begin repeat", "end repeat"):
        low = low.replace(spaced, spaced.replace(" ", "_"))
    low = re.sub(r"^select (one|multiple)\b", r"select_\1", low)
    parts = low.split(" ")
    base = parts[0]
    if base in ("begin_group", "end_group"):
        return RowType(base, base)
    if base in ("begin_repeat", "end_repeat"):
        return f"type '{text}' is not supported: {UNSUPPORTED['repeat']}"
    if base in ("select_one", "select_multiple"):
        rest = [p for p in text.split()[1:] if p.lower() not in ("one", "multiple")]
        if any(p.lower() == "or_other" for p in rest):
            return f"type '{text}': {UNSUPPORTED['or_other']}"
        if len(rest) != 1:
            return f"type '{text}' needs exactly one choice list name after {base}"
        return RowType(base, base, rest[0])
    if base in UNSUPPORTED:
        return f"type '{base}' is not supported: {UNSUPPORTED[base]}"
    if len(parts) == 1 and base in QUESTION_TYPES:
        return RowType(base, base)
    if len(parts) == 1 and base in METADATA_FROM_CHAT | METADATA_EMPTY:
        return RowType("metadata", base)
    return f"unknown type '{text}'"


def parse_range(text: str) -> RangeParameters | str:
    values = {"start": 1.0, "end": 10.0, "step": 1.0}
    for part in re.split(r"[\s;,]+", text.strip()):
        if not part:
            continue
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if key not in values:
            return f"unknown range parameter {key!r} (use start, end, step)"
        try:
            values[key] = float(value)
        except ValueError:
            return f"range parameter {key} must be a number, not {value!r}"
    if values["step"] <= 0:
        return "range step must be above 0"
    if values["start"] >= values["end"]:
        return "range start must be below end"
    return RangeParameters(values["start"], values["end"], values["step"])
