"""The summary sheet of a survey: per question a table and a native Excel chart.

The workbook is written in constant_memory mode, where a row can no longer be changed once the
next one is started, so each block is written top to bottom and every row at once (the table,
and in hidden columns the data its chart plots). Charts read only those hidden copies: a hidden
count is left blank there, so it is neither drawn nor labelled.
"""

from __future__ import annotations

from collections.abc import Sequence

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from bot.services.exports.book import SheetNames, Styles
from bot.services.exports.summary import Grid, QuestionSummary, SurveySummary
from bot.services.exports.words import Words

# Chart data far to the right, out of the way of any table; those columns are hidden.
DATA_COLUMN = 40
CHART_COLUMN = 8
ROW_HEIGHT_PX = 20


class _Block:
    """Writes one question's rows in order and remembers where the chart data went."""

    def __init__(self, sheet: Worksheet, styles: Styles, k: int, top: int) -> None:
        self.sheet, self.styles, self.k = sheet, styles, k
        self.row = top

    def count(self, column: int, value: int | None) -> None:
        if value is None:
            self.sheet.write_string(self.row, column, f"<{self.k}", self.styles.small)
        else:
            self.sheet.write_number(self.row, column, value)

    def line(self, label: str, value: int | None, style: object = None) -> None:
        self.sheet.write_string(self.row, 0, label, style)
        self.count(1, value)
        self.row += 1


def _series(grid: Grid) -> list[int]:
    """The columns a stacked chart draws: countries with a shown count, else the total alone."""
    options = range(len(grid.rows) - 1)
    countries = [c for c in range(len(grid.columns) - 1) if any(grid.cell(r, c) for r in options)]
    if countries:
        return countries
    total = len(grid.columns) - 1
    return [total] if any(grid.cell(r, total) for r in options) else []


def _select(
    book: Workbook, name: str, block: _Block, question: QuestionSummary, words: Words
) -> int:
    """Option × country counts, totals, shares of respondents; a stacked bar chart."""
    assert question.table is not None
    grid, sheet, styles = question.table, block.sheet, block.styles
    headers = [words("export.summary.option"), *grid.columns, words("export.summary.share")]
    sheet.write_row(block.row, 0, headers, styles.header)
    block.row += 1
    series = _series(grid)
    first = block.row
    total = len(grid.columns) - 1
    respondents = grid.cell(len(grid.rows) - 1, total)
    for r, label in enumerate(grid.rows):
        option = r < len(grid.rows) - 1
        sheet.write_string(block.row, 0, label, None if option else styles.bold)
        for c in range(len(grid.columns)):
            block.count(1 + c, grid.cell(r, c))
        count = grid.cell(r, total)
        if option and count is not None and respondents:
            sheet.write_number(block.row, 2 + total, count / respondents, styles.share)
        if option and series:
            sheet.write_string(block.row, DATA_COLUMN, label)
            for i, c in enumerate(series):
                if (value := grid.cell(r, c)) is not None:
                    sheet.write_number(block.row, DATA_COLUMN + 1 + i, value)
        block.row += 1
    last = first + len(grid.rows) - 2
    if not series:
        sheet.write_string(block.row, 0, words("export.summary.no_chart", k=block.k), styles.note)
        block.row += 1
        return 0
    chart = book.add_chart({"type": "bar", "subtype": "stacked"})
    for i, c in enumerate(series):
        column = DATA_COLUMN + 1 + i
        chart.add_series(
            {
                "name": grid.columns[c],
                "categories": [name, first, DATA_COLUMN, last, DATA_COLUMN],
                "values": [name, first, column, last, column],
                "data_labels": {"value": True},
                "gap": 60,
            }
        )
    chart.set_title({"name": question.text, "name_font": {"size": 11}})
    chart.set_legend({"position": "bottom"} if len(series) > 1 else {"none": True})
    # Bars read top-down in the form's order of choices (a bar chart's x axis is its categories).
    chart.set_y_axis({"reverse": True})
    chart.show_hidden_data()
    height = max(220, 26 * (last - first + 1) + 110)
    chart.set_size({"width": 560, "height": height})
    sheet.insert_chart(first - 1, CHART_COLUMN, chart)
    return height


def _numbers(
    book: Workbook, name: str, block: _Block, question: QuestionSummary, words: Words
) -> int:
    """Mean, median and quartiles, then the histogram's bins and a column chart."""
    sheet, styles = block.sheet, block.styles
    if question.table is None and question.answered is None:
        # The count of answers is hidden: so are the figures computed from them (<k).
        sheet.write_row(
            block.row,
            0,
            [words("export.summary.statistic"), words("export.summary.value")],
            styles.header,
        )
        block.row += 1
        for key in ("mean", "median", "q1", "q3"):
            block.line(words(f"export.summary.{key}"), None)
        return 0
    if question.table is None:
        sheet.write_string(block.row, 0, words("export.summary.too_few", k=block.k), styles.note)
        block.row += 1
        return 0
    sheet.write_row(
        block.row,
        0,
        [words("export.summary.statistic"), words("export.summary.value")],
        styles.header,
    )
    block.row += 1
    for label, figure in question.statistics:
        sheet.write_string(block.row, 0, label)
        sheet.write_number(block.row, 1, figure, styles.figure)
        block.row += 1
    grid = question.table
    headers = [words("export.summary.bin"), words("export.summary.count")]
    sheet.write_row(block.row, 0, headers, styles.header)
    block.row += 1
    first = block.row
    for r, label in enumerate(grid.rows):
        last_row = r == len(grid.rows) - 1
        if not last_row:
            # Before `line` moves on: in constant_memory a finished row cannot be written.
            sheet.write_string(block.row, DATA_COLUMN, label)
            if (value := grid.cell(r, 0)) is not None:
                sheet.write_number(block.row, DATA_COLUMN + 1, value)
        block.line(label, grid.cell(r, 0), styles.bold if last_row else None)
    last = first + len(grid.rows) - 2
    if not question.chart:
        sheet.write_string(block.row, 0, words("export.summary.no_chart", k=block.k), styles.note)
        block.row += 1
        return 0
    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": words("export.summary.count"),
            "categories": [name, first, DATA_COLUMN, last, DATA_COLUMN],
            "values": [name, first, DATA_COLUMN + 1, last, DATA_COLUMN + 1],
            "data_labels": {"value": True},
            "gap": 10,
        }
    )
    chart.set_title(
        {
            "name": words("export.summary.histogram", question=question.text),
            "name_font": {"size": 11},
        }
    )
    chart.set_legend({"none": True})
    chart.show_hidden_data()
    chart.set_size({"width": 560, "height": 260})
    sheet.insert_chart(first - 1, CHART_COLUMN, chart)
    return 260


def write_summary(
    book: Workbook, summary: SurveySummary, styles: Styles, names: SheetNames, words: Words
) -> str:
    """A sheet per survey: submissions, then per question its counts and a chart; its name."""
    name = names.take(f"Summary {summary.title}")
    sheet = book.add_worksheet(name)
    # Printed (or turned into a PDF for a report), tables and their charts stay side by side.
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_column(0, 0, 42)
    sheet.set_column(1, CHART_COLUMN - 1, 13)
    sheet.set_column(DATA_COLUMN, DATA_COLUMN + 12, None, None, {"hidden": True})
    sheet.write_string(0, 0, words("export.summary.title", title=summary.heading), styles.title)
    sheet.write_string(1, 0, words("export.book.note_small", k=summary.k), styles.note)
    block = _Block(sheet, styles, summary.k, 3)
    block.line(words("export.summary.submissions"), summary.submissions, styles.bold)
    block.row += 1
    for question in summary.questions:
        top = block.row
        sheet.write_string(block.row, 0, question.text, styles.bold)
        sheet.write_string(block.row, 1, words("export.summary.type", type=question.type))
        block.row += 1
        block.line(words("export.summary.answered"), question.answered)
        block.line(words("export.summary.skipped"), question.skipped)
        height = 0
        if question.chart == "stacked":
            height = _select(book, name, block, question, words)
        elif question.type in ("integer", "decimal", "range"):
            height = _numbers(book, name, block, question, words)
        # The next block starts below both this table and this chart.
        block.row = max(block.row + 1, top + height // ROW_HEIGHT_PX + 2)
    return name


def charted(summaries: Sequence[SurveySummary]) -> int:
    """How many charts the summaries draw at most (one per select or number question)."""
    return sum(1 for s in summaries for q in s.questions if q.chart)
