"""Cells an analyst can compute with, in the workbook's answers-long and meetings sheets.

The database keeps instants as UTC ISO text and every answer as text. In a workbook, times
become date-time cells in the staff member's zone, named in the header (as the wide answers
sheet does), and the answers to integer, decimal and range questions become numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.exports.columns import LONG_COLUMNS, MEETING_COLUMNS
from bot.services.exports.form_table import NUMBER_TYPES, FormColumn, number_of
from bot.services.exports.tables import Column, Dataset

# The time columns of each dataset that become zoned date-time cells.
LONG_TIMES = ("at",)
MEETING_TIMES = ("start_at",)


def zoned(columns: Sequence[Column], keys: Sequence[str], zone: str) -> list[Column]:
    """The columns with `keys` as date-time cells in `zone`, the zone named in the header."""
    return [
        replace(
            column,
            header=f"{column.header} ({zone})",
            kind="datetime",
            description=_in(column.description, zone),
        )
        if column.key in keys
        else column
        for column in columns
    ]


def _in(description: str, zone: str) -> str:
    """A time column's description with the zone in place of UTC."""
    base = description.removesuffix("(UTC)").removesuffix("UTC").strip()
    return f"{base} ({zone})" if base else zone


def _moment(value: object, zone: ZoneInfo) -> object:
    if not isinstance(value, str) or not value:
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment.astimezone(zone) if moment.tzinfo else moment


def with_times(
    rows: Iterable[Mapping[str, Any]], keys: Sequence[str], zone: str
) -> Iterator[dict[str, Any]]:
    """The rows with their `keys` times as aware datetimes in `zone` (other text stays)."""
    where = ZoneInfo(zone)
    for row in rows:
        found = dict(row)
        for key in keys:
            found[key] = _moment(found.get(key), where)
        yield found


def long_cells(
    rows: Iterable[Mapping[str, Any]], numeric: set[tuple[int, str]], zone: str
) -> Iterator[dict[str, Any]]:
    """answers-long rows for a workbook: `at` in `zone`, a number question's value a number."""
    for row in with_times(rows, LONG_TIMES, zone):
        value = row.get("value")
        if value and (row.get("survey_id"), row.get("question")) in numeric:
            row["value"] = number_of(str(value))
        yield row


def long_dataset(
    rows: Iterable[Mapping[str, Any]],
    surveys: Iterable[tuple[int, Sequence[FormColumn]]],
    zone: str | None,
) -> Dataset:
    """answers-long; for a workbook (`zone` given) `at` is a date-time cell in that zone and a
    number question's answer (integer, decimal, range) a number."""
    if zone is None:
        return Dataset("answers_long", LONG_COLUMNS, rows)
    numeric = {(i, f.name) for i, fields in surveys for f in fields if f.type in NUMBER_TYPES}
    columns = zoned(LONG_COLUMNS, LONG_TIMES, zone)
    return Dataset("answers_long", columns, long_cells(rows, numeric, zone))


def meetings_dataset(rows: Iterable[Mapping[str, Any]], zone: str | None) -> Dataset:
    """Meetings; for a workbook (`zone` given) `start_at` is a date-time cell in that zone."""
    if zone is None:
        return Dataset("meetings", MEETING_COLUMNS, rows)
    columns = zoned(MEETING_COLUMNS, MEETING_TIMES, zone)
    return Dataset("meetings", columns, with_times(rows, MEETING_TIMES, zone))
