"""What every writer shares: columns, datasets, the README's facts, atomic files, row reading.

Nothing here knows about Telegram or the database: a `Dataset` is a name, its columns and an
iterable of rows (mappings from column key to value), which may be a generator and is read once.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Literal

Kind = Literal["text", "number", "date", "datetime"]
Row = Mapping[str, object]
EXCEL_MAX_ROWS = 1_048_576


@dataclass(frozen=True, slots=True)
class Column:
    """One exported column: its key in the rows, its header and what the data dictionary says."""

    key: str
    header: str
    description: str = ""
    kind: Kind = "text"
    from_user: bool = False
    # (value, label) pairs of a choice question, listed in the data dictionary.
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Dataset:
    """A named table to export; rows are read once, in order."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Row]


@dataclass(frozen=True, slots=True)
class DictionaryEntry:
    """One line of the column dictionary (what each exported column holds)."""

    dataset: str
    key: str
    header: str
    description: str
    kind: str
    choices: str


DICTIONARY_HEADERS = ("dataset", "column", "header", "description", "kind", "choices")


def data_dictionary(datasets: Iterable[Dataset]) -> list[DictionaryEntry]:
    """Describe every column of the datasets (choices as `value = label; ...`)."""
    return [
        DictionaryEntry(
            dataset.name,
            column.key,
            column.header,
            column.description,
            column.kind,
            "; ".join(f"{value} = {label}" for value, label in column.choices),
        )
        for dataset in datasets
        for column in dataset.columns
    ]


@dataclass(frozen=True, slots=True)
class ReadmeInfo:
    """What the README sheet or file says besides counts and the data dictionary."""

    title: str
    generated_utc: str
    generated_local: str
    filters: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = ()
    extra_dictionary: Sequence[DictionaryEntry] = field(default_factory=tuple)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside target; move it onto target only if the block succeeds.
    A missing folder is a FileNotFoundError naming it (never created here)."""
    target = Path(target)
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(target.parent))
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def iso(value: object) -> object:
    """Dates and datetimes as ISO 8601 text (aware ones keep their offset); the rest unchanged.

    Survey times arrive already converted to the export's zone, so the offset printed is the
    one the header names.
    """
    if isinstance(value, date):
        return value.isoformat()
    return value


def naive_local(value: datetime) -> datetime:
    """The wall-clock time of an aware datetime (Excel has no zones; the header names it)."""
    return value.replace(tzinfo=None)


def row_values(columns: Sequence[Column]) -> Callable[[Row], tuple[object, ...]]:
    """A fast function reading a row's values in column order; missing keys read as None."""
    keys = [column.key for column in columns]
    # itemgetter of one key returns the bare value, not a 1-tuple.
    getter = itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))

    def read(row: Row) -> tuple[object, ...]:
        try:
            return tuple(getter(row))
        except (KeyError, IndexError):
            return tuple(row.get(key) for key in keys)

    return read


def file_name(prefix: str, dataset: str, day: date, extension: str) -> str:
    """`<form_id>_<dataset>_<YYYY-MM-DD>.<ext>`: sorts by form, then kind, then day."""
    clean = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in prefix) or "export"
    return f"{clean}_{dataset.replace('-', '_')}_{day.isoformat()}.{extension}"
