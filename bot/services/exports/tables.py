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


# A temporary file whose writer's process is gone, or older than this, is left over by a kill.
STALE_SECONDS = 6 * 3600
# A temporary file with no pid in its name (written before pids were): stale after this.
UNNAMED_STALE_SECONDS = 5 * 60


def _writer_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (another user's counts too)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def sweep_stale_parts(target: Path, now: float) -> list[Path]:
    """Remove `.NAME.<pid>.<random>.part` files beside target whose writer is dead (or that
    are too old for any writer), and pid-less `.NAME.<random>.part` files older than a few
    minutes; return what was removed. A kill -9 mid-write leaves them (personal data included).

    `now` is the folder's own time (a file just made there), never the machine's clock."""
    prefix = f".{target.name}."
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".part")):
            continue
        middle = name[len(prefix) : -len(".part")]
        pid_text, dot, random = middle.partition(".")
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if dot and pid_text.isdigit() and random and "." not in random:
            stale = age > STALE_SECONDS or not _writer_alive(int(pid_text))
        elif not dot and middle:
            stale = age > UNNAMED_STALE_SECONDS
        else:
            continue  # another target's temporary file (its name holds more dots): not ours
        if stale:
            try:
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    return removed


@contextmanager
def scratch_beside(target: Path) -> Iterator[Path]:
    """Yield a new empty `.NAME.<pid>.<random>.part` beside target, removed at the end whatever
    happens; the stale ones a killed writer left there are removed first (sweep_stale_parts).
    A missing folder is a FileNotFoundError naming it (never created here)."""
    target = Path(target)
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(target.parent))
    handle, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".part"
    )
    temporary = Path(name)
    try:
        try:
            # Ages are read against the folder's clock: our own file was made there just now.
            sweep_stale_parts(target, os.fstat(handle).st_mtime)
        finally:
            os.close(handle)
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside target (see scratch_beside); move it onto target only if
    the block succeeds."""
    with scratch_beside(target) as temporary:
        yield temporary
        os.replace(temporary, target)


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
