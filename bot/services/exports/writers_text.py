"""Text writers: CSV, JSON Lines and a ZIP of CSVs, streamed row by row, written atomically."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import IO

from bot.services.exports.safety import TRIGGERS, neutralise
from bot.services.exports.tables import (
    DICTIONARY_HEADERS,
    Dataset,
    DictionaryEntry,
    ReadmeInfo,
    atomic_path,
    data_dictionary,
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


def _write_csv_stream(dataset: Dataset, stream: IO[str]) -> int:
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
            return _write_csv_stream(dataset, stream)


def _json_default(value: object) -> object:
    """Encode what json cannot: dates and datetimes as ISO 8601, the rest as text."""
    converted = iso(value)
    return converted if isinstance(converted, str) else str(value)


def write_jsonl(dataset: Dataset, path: Path) -> int:
    """Write one JSON object per row (keys are column keys, UTF-8 unescaped); return rows."""
    read = row_values(dataset.columns)
    keys = [column.key for column in dataset.columns]
    encoder = json.JSONEncoder(ensure_ascii=False, default=_json_default)
    count = 0
    with atomic_path(path) as temporary, temporary.open("w", encoding="utf-8") as stream:
        for row in dataset.rows:
            values = [
                None if isinstance(v, float) and not math.isfinite(v) else v for v in read(row)
            ]
            stream.write(encoder.encode(dict(zip(keys, values, strict=True))))
            stream.write("\n")
            count += 1
    return count


def _readme_text(readme: ReadmeInfo, counts: Mapping[str, int], tables: Sequence[str]) -> str:
    """The README.txt of a ZIP export."""
    lines = [readme.title, "", f"Generated (UTC): {readme.generated_utc}"]
    lines.append(f"Generated (local): {readme.generated_local}")
    if readme.filters:
        lines += ["", "Filters:"] + [f"  {name}: {value}" for name, value in readme.filters]
    lines += ["", "Files:"] + [f"  {name}.csv: {rows} rows" for name, rows in counts.items()]
    lines += ["  data_dictionary.csv: every column, its description and choice labels"]
    lines += [f"  {name}.csv: every question of the surveys and each choice, in each language"
              for name in tables]  # fmt: skip
    lines += ["", "CSV files are UTF-8 with a byte order mark, comma-separated (RFC 4180)."]
    lines += ["Cells of free text starting with = + - @ are prefixed with ' (formula safety)."]
    lines += ["A select_multiple answer: value holds the choice names separated by spaces"]
    lines += ['  (XLSForm), value_label the labels the member saw separated by "; ".']
    lines += ["region is the province or state within country: QC with CA is CA-QC (ISO 3166-2)."]
    if readme.notes:
        lines += ["", *readme.notes]
    return "\r\n".join(lines) + "\r\n"


def write_zip_of_csv(
    datasets: Sequence[Dataset],
    dictionary_rows: Sequence[DictionaryEntry] | None,
    path: Path,
    readme: ReadmeInfo | None = None,
    tables: Sequence[tuple[str, Iterable[Sequence[str]]]] = (),
) -> dict[str, int]:
    """Write a ZIP with one CSV per dataset, data_dictionary.csv and README.txt; return row counts.

    dictionary_rows defaults to the datasets' own columns (see data_dictionary); `tables` are
    further CSV files as (name, lines), e.g. the surveys' questions and choices.
    """
    entries = list(dictionary_rows) if dictionary_rows is not None else data_dictionary(datasets)
    counts: dict[str, int] = {}
    with (
        atomic_path(path) as temporary,
        zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for dataset in datasets:
            with (
                archive.open(f"{dataset.name}.csv", "w", force_zip64=True) as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as stream,
            ):
                counts[dataset.name] = _write_csv_stream(dataset, stream)
        with (
            archive.open("data_dictionary.csv", "w") as raw,
            io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as stream,
        ):
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(DICTIONARY_HEADERS)
            for entry in entries:
                writer.writerow(
                    [
                        entry.dataset,
                        entry.key,
                        entry.header,
                        entry.description,
                        entry.kind,
                        entry.choices,
                    ]
                )
        for name, lines in tables:
            with (
                archive.open(f"{name}.csv", "w") as raw,
                io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as stream,
            ):
                csv.writer(stream, lineterminator="\r\n").writerows(lines)
        if readme is not None:
            names = [name for name, _ in tables]
            archive.writestr("README.txt", _readme_text(readme, counts, names).encode("utf-8"))
    return counts


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
