"""A survey's summary, already made safe to publish: what the summary sheet shows, nothing more.

Built from counts of (question, stored value, member's country): SQL groups the record, so a
100,000-answer survey arrives here as a few hundred tuples. Per question:
* answered / skipped (a submission holds an empty answer for a question it skipped or did not see);
* select questions: a table option × country with totals (rows) and respondents (last row);
* integer, decimal and range questions: mean, median and quartiles, and a histogram (none of
  them when the count of answers is hidden).
Every count goes through small-cell suppression (see suppression.py) with its margins in the same
table, so a hidden cell cannot be recovered from a total; a count hidden in one table (answered)
is hidden where it appears again (the respondents' total).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.services.exports.form_table import NUMBER_TYPES, SELECT_TYPES, FormColumn
from bot.services.exports.suppression import Key, hidden_keys
from bot.services.exports.words import Words
from bot.services.xlsform.values import to_text

TOTAL = "\x00total"
# A summary line per question; the histogram aims at about this many bars.
BINS = 8
Chart = Literal["stacked", "histogram", ""]


@dataclass(frozen=True, slots=True)
class Grid:
    """A published table: each cell a count, or None when it is hidden (shown as <k)."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[int | None, ...], ...]

    def cell(self, row: int, column: int) -> int | None:
        return self.cells[row][column]


@dataclass(frozen=True, slots=True)
class QuestionSummary:
    """One question of the summary sheet.

    Select questions: `table` rows are the options then the respondents, columns the countries
    then the total. Numbers: `table` is the histogram (bins, then the total), one column.
    """

    key: str
    text: str
    type: str
    answered: int | None
    skipped: int | None
    table: Grid | None = None
    statistics: tuple[tuple[str, float], ...] = ()
    chart: Chart = ""


@dataclass(frozen=True, slots=True)
class SurveySummary:
    """A survey's results for its summary sheet; counts under k are already hidden."""

    # The sheet's name (the form_id) and the heading above its tables (the form's title).
    title: str
    heading: str
    submissions: int | None
    questions: Sequence[QuestionSummary]
    k: int = 5


Counts = Iterable[tuple[str, str, str | None, int]]


def _hide(table: dict[Key, int], k: int, also: Iterable[Key] = ()) -> dict[Key, int | None]:
    hidden = hidden_keys(table, k, also)
    return {key: None if key in hidden else count for key, count in table.items()}


def _presence(
    found: list[tuple[str, str | None, int]], submissions: int, k: int
) -> tuple[int | None, int | None]:
    """Answered and skipped; a question never shown to a member may have no entry at all, so
    skipped is what the submissions lack, not the empty entries."""
    answered = sum(n for value, _, n in found if value)
    skipped = max(submissions - answered, 0)
    shown = _hide({("answered",): answered, ("skipped",): skipped}, k)
    return shown[("answered",)], shown[("skipped",)]


def _select(
    field: FormColumn,
    found: list[tuple[str, str | None, int]],
    words: Words,
    language: str,
    k: int,
    answered_hidden: bool,
) -> Grid:
    labels = field.choice_labels(language)
    options = list(labels)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    respondents: dict[str, int] = defaultdict(int)
    for value, country, n in found:
        if not value:
            continue
        place = country or ""
        respondents[place] += n
        for name in value.split() if field.multiple else [value]:
            if name not in labels and name not in options:
                options.append(name)  # a value the form no longer lists: still counted
            counts[(name, place)] += n
    places = sorted(respondents, key=lambda code: (code == "", code))
    table: dict[Key, int] = {}
    for option in options:
        for place in places:
            table[(option, place)] = counts.get((option, place), 0)
        table[(option, TOTAL)] = sum(counts.get((option, place), 0) for place in places)
    for place in places:
        table[(TOTAL, place)] = respondents[place]
    table[(TOTAL, TOTAL)] = sum(respondents.values())
    shown = _hide(table, k, [(TOTAL, TOTAL)] if answered_hidden else [])
    rows = [*options, TOTAL]
    columns = [*places, TOTAL]
    return Grid(
        rows=tuple(
            labels.get(o, o) if o != TOTAL else words("export.summary.respondents") for o in rows
        ),
        columns=tuple(
            words.country(c) if c != TOTAL else words("export.summary.total") for c in columns
        ),
        cells=tuple(tuple(shown[(r, c)] for c in columns) for r in rows),
    )


def _nice(width: float) -> float:
    """The smallest 1, 2 or 5 × 10^n at least `width` (bins people read at a glance)."""
    power = 10.0 ** math.floor(math.log10(width))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= width)


def bins(field: FormColumn, values: Sequence[float]) -> list[tuple[str, float, float]]:
    """(label, low, high) bins covering the values; a range question gets one bin per step."""
    question = field.question
    if question is not None and question.range is not None:
        bounds = question.range
        count = round((bounds.end - bounds.start) / bounds.step) + 1 if bounds.step else 1
        steps = [bounds.start + i * bounds.step for i in range(max(count, 1))]
        # Half a step either side: a stored 0.3 lands on the step 0.1 × 3 = 0.30000000000000004.
        half = bounds.step / 2
        return [(to_text(round(v, 9)), v - half, v + half) for v in steps]
    low, high = min(values), max(values)
    whole = field.type == "integer" or all(v.is_integer() for v in values)
    if low == high:
        return [(to_text(low), low, high)]
    width = _nice((high - low) / BINS)
    if whole:
        width = max(1.0, math.ceil(width))
    start = math.floor(low / width) * width
    found = []
    while start <= high:
        end = start + width
        if whole and width == 1:
            label = to_text(start)
        elif whole:
            label = f"{to_text(start)}–{to_text(end - 1)}"
        else:
            label = f"{to_text(start)}–{to_text(end)}"
        found.append((label, start, end))
        start = end
    return found


def _numbers(
    field: FormColumn, found: list[tuple[str, str | None, int]], words: Words, k: int, hide: bool
) -> tuple[Grid | None, tuple[tuple[str, float], ...]]:
    values: list[float] = []
    for value, _, n in found:
        try:
            number = float(value)
        except ValueError:
            continue
        if math.isfinite(number):
            values.extend([number] * n)
    if len(values) < k:
        return None, ()
    values.sort()
    if len(values) > 1:
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:  # a programme that shows cells of one (k = 1) may have a single answer
        q1 = median = q3 = values[0]
    figures = (
        (words("export.summary.mean"), statistics.fmean(values)),
        (words("export.summary.median"), median),
        (words("export.summary.q1"), q1),
        (words("export.summary.q3"), q3),
    )
    edges = bins(field, values)
    table: dict[Key, int] = {}
    for index, (_, low, high) in enumerate(edges):
        # Bins are [low, high); the last one also holds its upper edge (the maximum).
        last = index == len(edges) - 1
        end = bisect_right(values, high) if last else bisect_left(values, high)
        table[(str(index),)] = end - bisect_left(values, low)
    table[(TOTAL,)] = len(values)
    shown = _hide(table, k, [(TOTAL,)] if hide else [])
    keys = [str(i) for i in range(len(edges))]
    grid = Grid(
        rows=(*(label for label, _, _ in edges), words("export.summary.total")),
        columns=(words("export.summary.count"),),
        cells=(*((shown[(key,)],) for key in keys), (shown[(TOTAL,)],)),
    )
    return grid, figures


def summarise(
    title: str,
    heading: str,
    fields: Sequence[FormColumn],
    counts: Counts,
    submissions: int,
    language: str,
    words: Words,
    k: int,
) -> SurveySummary:
    """The summary of one survey from (question, value, country, answers) counts."""
    by_question: dict[str, list[tuple[str, str | None, int]]] = defaultdict(list)
    for question, value, country, n in counts:
        by_question[question].append((value or "", country, n))
    questions: list[QuestionSummary] = []
    for field in fields:
        if field.metadata:
            continue
        found = by_question.get(field.name, [])
        answered, skipped = _presence(found, submissions, k)
        hide = answered is None
        text = field.label(language)
        if field.type in SELECT_TYPES:
            grid = _select(field, found, words, language, k, hide)
            questions.append(
                QuestionSummary(
                    field.path, text, field.type, answered, skipped, grid, (), "stacked"
                )
            )
        elif field.type in NUMBER_TYPES:
            # A hidden count of answers hides what is computed from those answers too: a mean
            # beside "<5" would contradict it, and describe the few people it protects.
            histogram, figures = (None, ()) if hide else _numbers(field, found, words, k, hide)
            # Every bar hidden: a chart would be an empty frame.
            drawn = histogram is not None and any(row[0] for row in histogram.cells[:-1])
            chart: Chart = "histogram" if drawn else ""
            questions.append(
                QuestionSummary(
                    field.path, text, field.type, answered, skipped, histogram, figures, chart
                )
            )
        else:
            questions.append(QuestionSummary(field.path, text, field.type, answered, skipped))
    shown = submissions if submissions == 0 or submissions >= k else None
    return SurveySummary(title, heading, shown, questions, k)
