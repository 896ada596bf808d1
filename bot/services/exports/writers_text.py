"""Text writers: CSV, JSON Lines and a ZIP of CSVs, streamed row by row, written atomically."""

from __future__ import annotations

import csv
import itertools
import json
import math
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import IO

from bot.services.exports.safety import TRIGGERS, neutralise
from bot.services.exports.tables import (
    Dataset,
    atomic_path,
    iso,
    row_values,
)


def _csv_rows(dataset: Dataset) -> Iterator[Sequence[object]]:
    """The dataset's rows as CSV-ready sequences: text neutralised, dates in ISO 8601."""
    keys = [column.key for column in dataset.columns]
    read = row_values(dataset.columns)
    # Every text cell, whoever wrote it: members, and staff through a form's labels or version.
    text = [i for i, column in enumerate(dataset.columns) if column.kind == "text"]
    dates = [i for i, c in enumerate(dataset.columns) if c.kind in ("date", "datetime")]
    if not text and not dates:
        yield from map(read, dataset.rows)
        return
    # This loop runs once per row of the largest exports: lookups are hoisted and inlined.
    getter = itemgetter(*keys) if len(keys) > 1 else None
    for row in dataset.rows:
        try:
            values = list(getter(row) if getter is not None else (row[keys[0]],))
        except (KeyError, IndexError):
            values = [row.get(key) for key in keys]
        for i in text:
            value = values[i]
            # Only a leading trigger or a control character can need the neutraliser.
            if type(value) is str and value and (value[0] in TRIGGERS or not value.isprintable()):
                values[i] = neutralise(value)
        for i in dates:
            value = values[i]
            if isinstance(value, date):
                # Aware times keep the offset of the zone their header names.
                values[i] = value.isoformat()
        yield values


def write_csv_stream(dataset: Dataset, stream: IO[str]) -> int:
    """Write header and rows to an open text stream; return the number of data rows."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([column.header for column in dataset.columns])
    # zip stops pulling the counter when the rows end, so it holds the number written.
    counter = itertools.count()
    writer.writerows(values for values, _ in zip(_csv_rows(dataset), counter, strict=False))
    return next(counter)


def write_csv(dataset: Dataset, path: Path, bom: bool = True) -> int:
    """Write the dataset as RFC 4180 CSV in UTF-8 (a BOM lets Excel read accents); return rows."""
    with atomic_path(path) as temporary:
        encoding = "utf-8-sig" if bom else "utf-8"
        with temporary.open("w", encoding=encoding, newline="", buffering=1 << 20) as stream:
            return write_csv_stream(dataset, stream)


def _json_default(value: object) -> object:
    """Encode what json cannot: dates and datetimes as ISO 8601, the rest as text."""
    converted = iso(value)
    return converted if isinstance(converted, str) else str(value)


def write_jsonl_stream(dataset: Dataset, stream: IO[str]) -> int:
    """Write one JSON object per row to an open text stream; return the number of rows."""
    read = row_values(dataset.columns)
    keys = [column.key for column in dataset.columns]
    encoder = json.JSONEncoder(ensure_ascii=False, default=_json_default)
    count = 0
    for row in dataset.rows:
        values = [None if isinstance(v, float) and not math.isfinite(v) else v for v in read(row)]
        stream.write(encoder.encode(dict(zip(keys, values, strict=True))))
        stream.write("\n")
        count += 1
    return count


def write_jsonl(dataset: Dataset, path: Path) -> int:
    """Write one JSON object per row (keys are column keys, UTF-8 unescaped); return rows."""
    with atomic_path(path) as temporary, temporary.open("w", encoding="utf-8") as stream:
        return write_jsonl_stream(dataset, stream)


# Already-compressed formats: zipping them again gains almost nothing.
_COMPRESSED = {".zip", ".xlsx", ".gz", ".bz2", ".xz", ".7z", ".png", ".jpg"}


def fit_for_telegram(path: Path, limit_bytes: int = 50 * 1024 * 1024) -> list[Path]:
    """Return files no larger than limit_bytes carrying path: itself, a ZIP of it, or parts.

    Parts are named `<file>.001`, `<file>.002`... and rejoin with `cat` (or `copy /b`).
    """
    path = Path(path)
    if path.stat().st_size <= limit_bytes:
        return [path]
    source = path
    if path.suffix.lower() not in _COMPRESSED:
        zipped = path.with_name(path.name + ".zip")
        with (
            atomic_path(zipped) as temporary,
            zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            archive.write(path, arcname=path.name)
        if zipped.stat().st_size <= limit_bytes:
            return [zipped]
        source = zipped
    size = source.stat().st_size
    parts: list[Path] = []
    with source.open("rb") as reader:
        for number in range(1, math.ceil(size / limit_bytes) + 1):
            part = source.with_name(f"{source.name}.{number:03d}")
            with atomic_path(part) as temporary, temporary.open("wb") as writer:
                left = limit_bytes
                while left and (data := reader.read(min(1024 * 1024, left))):
                    writer.write(data)
                    left -= len(data)
            parts.append(part)
    return parts
