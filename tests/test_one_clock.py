"""One clock: outside bot/clock.py no code of the bot or of storage reads the machine's time."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THE_CLOCK = ROOT / "bot" / "clock.py"
CODE = sorted(
    path
    for folder in ("bot", "storage")
    for path in (ROOT / folder).rglob("*.py")
    if path != THE_CLOCK
)
# `module.function` pairs that read the wall clock.
WALL_CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
}


def _owner(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def wall_clock_reads(path: Path) -> list[str]:
    """Where a module reads the machine's time (line: what)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and (_owner(node.value), node.attr) in WALL_CLOCK_READS:
            found.append(f"{node.lineno}: {_owner(node.value)}.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            found.extend(
                f"{node.lineno}: from time import {alias.name}"
                for alias in node.names
                if ("time", alias.name) in WALL_CLOCK_READS
            )
    return found


def test_only_the_clock_reads_the_machines_time() -> None:
    assert len(CODE) > 80  # the scan sees the whole bot and storage
    offenders = {
        str(path.relative_to(ROOT)): found for path in CODE if (found := wall_clock_reads(path))
    }
    assert offenders == {}


def test_the_scan_finds_every_way_of_reading_the_time(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "import datetime as dt, time\n"
        "from datetime import UTC, date, datetime\n"
        "from time import time_ns\n"
        "a = datetime.now(UTC)\n"
        "b = date.today()\n"
        "c = time.time()\n"
        "d = dt.datetime.utcnow()\n"
        "e = time.monotonic()\n",  # a duration, not an instant: allowed
        encoding="utf-8",
    )
    assert wall_clock_reads(sneaky) == [
        "3: from time import time_ns",
        "4: datetime.now",
        "5: date.today",
        "6: time.time",
        "7: datetime.utcnow",
    ]
