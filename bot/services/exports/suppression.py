"""Small-cell suppression for results tables, so no answer can be traced to a few people.

A table maps coordinates (a tuple of labels, e.g. ``(region, option)``) to a count. Two rules:

* **Primary suppression**: a cell with ``0 < n < k`` is hidden. Zero is shown: it identifies no one.
* **Secondary suppression**: tables are published with totals, so a single hidden cell in a line
  could be recovered by subtraction (total minus the shown cells). A *line* is every group of cells
  that differ in exactly one coordinate (for a 1-D table, the whole table; for a 2-D table, each row
  and each column). Whenever a line holds exactly one hidden cell, its smallest shown cell is hidden
  too (non-zero cells first, ties broken by coordinates so the result is deterministic). Hiding a
  cell can leave another line with a single hidden cell, so this repeats until nothing changes.
  A line with one cell cannot be protected this way: that cell *is* the line total, so the caller
  must not show that total (``lines_to_hide`` lists such lines).

Shares are ``count / denominator`` where the denominator is, by default, the sum of the cells that
share all coordinates but the last (for ``(region, option)``: all options of that region); pass
``denominators`` when it is something else, e.g. respondents to a multiple-choice question.
Hidden cells get neither count nor share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Key = tuple[str, ...]
# A line: the dimension that varies, and the other coordinates with that position blanked.
Line = tuple[int, tuple[str | None, ...]]


@dataclass(frozen=True, slots=True)
class Cell:
    """One published cell: the count and share, or neither when suppressed."""

    count: int | None
    share: float | None
    suppressed: bool


def _lines(keys: list[Key]) -> dict[Line, list[Key]]:
    """Group the keys into lines: cells equal in every coordinate but one."""
    lines: dict[Line, list[Key]] = defaultdict(list)
    for key in keys:
        for dim in range(len(key)):
            rest = tuple(None if i == dim else part for i, part in enumerate(key))
            lines[(dim, rest)].append(key)
    return lines


def hidden_keys(table: Mapping[Key, int], k: int, also: Iterable[Key] = ()) -> set[Key]:
    """The keys to hide: primary cells (0 < n < k) and the secondary cells that protect them.

    `also` are cells hidden elsewhere (the same count published in another table): they are
    protected here as if they were small.
    """
    if any(count < 0 for count in table.values()):
        raise ValueError("counts must not be negative")
    hidden = {key for key, count in table.items() if 0 < count < k}
    hidden |= {key for key in also if key in table}
    if not hidden:
        return hidden
    lines = _lines(sorted(table))
    changed = True
    while changed:
        changed = False
        for members in lines.values():
            inside = [key for key in members if key in hidden]
            if len(inside) != 1:
                continue
            shown = [key for key in members if key not in hidden]
            if not shown:
                continue
            # Non-zero cells first: hiding a zero beside a small cell says little about it.
            pick = min(shown, key=lambda key: (table[key] == 0, table[key], key))
            hidden.add(pick)
            changed = True
    return hidden


def lines_to_hide(table: Mapping[Key, int], k: int) -> list[Line]:
    """Lines whose total would reveal a hidden cell because the cell is alone in its line."""
    hidden = hidden_keys(table, k)
    return sorted(
        line
        for line, members in _lines(sorted(table)).items()
        if len(members) == 1 and members[0] in hidden
    )


def suppress_counts(
    table: Mapping[Key, int],
    k: int,
    denominators: Mapping[Key, int] | None = None,
) -> dict[Key, Cell]:
    """Apply primary and secondary suppression with threshold k; shares over the last coordinate."""
    hidden = hidden_keys(table, k)
    sums: dict[Key, int] = defaultdict(int)
    for key, count in table.items():
        sums[key[:-1]] += count
    cells: dict[Key, Cell] = {}
    for key in sorted(table):
        if key in hidden:
            cells[key] = Cell(None, None, True)
            continue
        count = table[key]
        total = denominators.get(key[:-1], 0) if denominators is not None else sums[key[:-1]]
        cells[key] = Cell(count, count / total if total else None, False)
    return cells


def suppress_options(
    counts: Mapping[str, int], k: int, total: int | None = None
) -> dict[str, Cell]:
    """Suppress a one-question table (option label -> count); total defaults to the sum."""
    table: dict[Key, int] = {(label,): count for label, count in counts.items()}
    cells = suppress_counts(table, k, None if total is None else {(): total})
    return {label: cells[(label,)] for label in counts}
