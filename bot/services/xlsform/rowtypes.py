"""The `type` and `parameters` cells: what is supported, what is refused and why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.services.xlsform.model import (
    METADATA_EMPTY,
    METADATA_FROM_CHAT,
    QUESTION_TYPES,
    RangeParameters,
)

# Refused by name, with the reason staff will read (its catalog key).
UNSUPPORTED = {
    **dict.fromkeys(
        ("geopoint", "geotrace", "geoshape", "start-geopoint", "osm"), "form.reason.location"
    ),
    **dict.fromkeys(
        ("image", "audio", "video", "file", "background-audio", "barcode"), "form.reason.media"
    ),
    **dict.fromkeys(("calculate", "hidden"), "form.reason.calculate"),
    **dict.fromkeys(("repeat",), "form.reason.repeat"),
    **dict.fromkeys(
        ("select_one_from_file", "select_multiple_from_file", "xml-external", "csv-external"),
        "form.reason.file_choices",
    ),
    "rank": "form.reason.rank",
    "time": "form.reason.time",
    "datetime": "form.reason.datetime",
    "trigger": "form.reason.trigger",
}


@dataclass(frozen=True)
class TypeProblem:
    """Why a `type` or `parameters` cell is refused: a catalog key and its values."""

    key: str
    params: dict[str, str] = field(default_factory=dict)


def _refused(key: str, **params: str) -> TypeProblem:
    return TypeProblem(key, params)


@dataclass(frozen=True)
class RowType:
    kind: str  # a QUESTION_TYPES entry, 'begin_group', 'end_group' or 'metadata'
    base: str
    list_name: str | None = None


def parse_type(text: str) -> RowType | TypeProblem:
    """Read the `type` cell; the problem when refused or unknown."""
    low = " ".join(text.split()).lower()
    for spaced in ("begin group", "end group", "begin repeat", "end repeat"):
        low = low.replace(spaced, spaced.replace(" ", "_"))
    low = re.sub(r"^select (one|multiple)\b", r"select_\1", low)
    parts = low.split(" ")
    base = parts[0]
    if base in ("begin_group", "end_group"):
        return RowType(base, base)
    if base in ("begin_repeat", "end_repeat"):
        return _refused("form.type_unsupported", type=repr(text), reason_key=UNSUPPORTED["repeat"])
    if base in ("select_one", "select_multiple"):
        rest = [p for p in text.split()[1:] if p.lower() not in ("one", "multiple")]
        if any(p.lower() == "or_other" for p in rest):
            return _refused("form.type_or_other", type=repr(text))
        if len(rest) != 1:
            return _refused("form.type_list", type=repr(text), base=base)
        return RowType(base, base, rest[0])
    if base in UNSUPPORTED:
        return _refused("form.type_unsupported", type=repr(base), reason_key=UNSUPPORTED[base])
    if len(parts) == 1 and base in QUESTION_TYPES:
        return RowType(base, base)
    if len(parts) == 1 and base in METADATA_FROM_CHAT | METADATA_EMPTY:
        return RowType("metadata", base)
    return _refused("form.type_unknown", type=repr(text))


def parse_range(text: str) -> RangeParameters | TypeProblem:
    values = {"start": 1.0, "end": 10.0, "step": 1.0}
    for part in re.split(r"[\s;,]+", text.strip()):
        if not part:
            continue
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if key not in values:
            return _refused("form.range_parameter", name=repr(key))
        try:
            values[key] = float(value)
        except ValueError:
            return _refused("form.range_number", name=key, value=repr(value))
    if values["step"] <= 0:
        return _refused("form.range_step")
    if values["start"] >= values["end"]:
        return _refused("form.range_order")
    return RangeParameters(values["start"], values["end"], values["step"])
