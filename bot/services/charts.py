"""Chart images for results and "what we heard": PNG files drawn by matplotlib, off the bot.

Drawing happens in a small pool of worker *processes*: pyplot is not thread-safe and, in a
thread, matplotlib's Python-heavy layout would hold the GIL the event loop needs, so members
would wait for their replies while a chart is drawn. The pool starts on the first chart (the
bot itself never imports matplotlib), runs one worker per spare core at a lower priority than
the bot, and uses only the object-oriented API (`Figure` + the Agg canvas), never pyplot.

Every text on an image arrives in its spec, already in the reader's language (catalogs and the
form's labels); this module holds no words of its own. Fonts: matplotlib's bundled DejaVu Sans
(Latin accents, no download). Colours: the Okabe-Ito palette, told apart with any colour vision.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import tempfile
import textwrap
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Okabe & Ito (2008), "Color Universal Design": blue, orange, green, vermillion, sky blue,
# reddish purple, yellow, black.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
LIGHT = frozenset({"#E69F00", "#56B4E9", "#F0E442"})
INK, MUTED, GRID = "#222222", "#555555", "#DDDDDD"
DPI = 110
WIDTH_INCHES = 8.0
FONT = "DejaVu Sans"
NOTE_WIDTH = 120
TITLE_WIDTH = 64


@dataclass(frozen=True)
class Bars:
    """Horizontal bars, one per category, top to bottom; several series are stacked.

    A value None is a hidden cell: it is not drawn, and `hidden_mark` stands beside its bar.
    """

    title: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[int | None, ...]], ...]
    hidden_mark: str
    note: str = ""
    axis: str = ""


@dataclass(frozen=True)
class Histogram:
    """Counts per bin, left to right; a hidden bin (None) shows `hidden_mark` instead of a bar."""

    title: str
    bins: tuple[str, ...]
    counts: tuple[int | None, ...]
    hidden_mark: str
    note: str = ""
    axis: str = ""


@dataclass(frozen=True)
class CardSection:
    """One question on a card: its top options as shares (0..1), or one line for a number."""

    question: str
    bars: tuple[tuple[str, float], ...] = ()
    line: str = ""


@dataclass(frozen=True)
class Card:
    """The "what we heard" card: title, place, a headline, a few questions, a footer."""

    title: str
    place: str
    headline: str
    sections: tuple[CardSection, ...]
    footer: str = ""


Spec = Bars | Histogram | Card


# ---- drawing (in a worker process) ----------------------------------------------------------
def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _figure(height: float, title: str = "", note: str = "") -> Figure:
    """A white figure: the title across its top and a note along its bottom, left-aligned, in
    bands of their own that the layout keeps the plot out of."""
    from matplotlib.figure import Figure

    title_lines = len(textwrap.wrap(title, TITLE_WIDTH)) if title else 0
    note_lines = len(textwrap.wrap(note, NOTE_WIDTH)) if note else 0
    top = (0.16 + 0.24 * title_lines) if title_lines else 0.0
    bottom = (0.08 + 0.16 * note_lines) if note_lines else 0.0
    total = height + top + bottom
    figure = Figure(figsize=(WIDTH_INCHES, total), dpi=DPI, facecolor="white")
    figure.set_layout_engine(
        "constrained", rect=(0, bottom / total, 1, (total - top - bottom) / total)
    )
    if title:
        figure.text(
            0.01,
            1 - 0.08 / total,
            _wrap(title, TITLE_WIDTH),
            fontsize=12,
            color=INK,
            fontweight="bold",
            va="top",
        )
    if note:
        figure.text(0.01, 0.01, _wrap(note, NOTE_WIDTH), fontsize=8, color=MUTED, va="bottom")
    return figure


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = BytesIO()
    # No "Software" stamp: the same chart gives the same bytes.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _frame(axes: Axes, value_axis: Literal["x", "y"]) -> None:
    from matplotlib.ticker import MaxNLocator

    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["left"].set_color(MUTED)
    axes.spines["bottom"].set_color(MUTED)
    axes.tick_params(colors=INK, labelsize=9)
    getattr(axes, f"{value_axis}axis").set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis=value_axis, color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)


def _bars(spec: Bars) -> bytes:
    rows = len(spec.categories)
    stacked = len(spec.series) > 1
    height = 1.4 + 0.42 * max(rows, 1) + (0.4 if stacked else 0)
    figure = _figure(height, spec.title, spec.note)
    axes = figure.add_subplot()
    positions = list(range(rows))
    ends = [0.0] * rows
    for index, (name, values) in enumerate(spec.series):
        drawn = [float(v or 0) for v in values]
        colour = PALETTE[index % len(PALETTE)]
        bars = axes.barh(positions, drawn, left=ends, color=colour, label=name, height=0.62)
        labels = [str(v) if v else "" for v in values]
        if stacked:
            # Dark figures on the light colours (orange, sky blue, yellow), white on the others.
            ink = INK if colour in LIGHT else "white"
            axes.bar_label(bars, labels=labels, label_type="center", fontsize=8, color=ink)
        else:
            axes.bar_label(bars, labels=labels, padding=3, fontsize=9, color=INK)
        ends = [end + value for end, value in zip(ends, drawn, strict=True)]
    widest = max(ends, default=0.0) or 1.0
    for row in positions:
        if any(values[row] is None for _, values in spec.series):
            axes.text(
                ends[row] + widest * 0.06,
                row,
                spec.hidden_mark,
                va="center",
                fontsize=9,
                color=MUTED,
            )
    axes.set_yticks(positions, [_wrap(label, 30) for label in spec.categories])
    axes.invert_yaxis()  # the form's first choice on top
    axes.set_xlim(0, widest * 1.18)
    _frame(axes, "x")
    if spec.axis:
        axes.set_xlabel(spec.axis, color=MUTED, fontsize=9)
    if stacked:
        # Below the axis title, inside the layout (a figure legend would meet the note).
        axes.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14 if spec.axis else -0.08),
            ncols=min(len(spec.series), 4),
            frameon=False,
            fontsize=9,
        )
    return _png(figure)


def _histogram(spec: Histogram) -> bytes:
    figure = _figure(4.2, spec.title, spec.note)
    axes = figure.add_subplot()
    positions = list(range(len(spec.bins)))
    drawn = [float(v or 0) for v in spec.counts]
    bars = axes.bar(positions, drawn, color=PALETTE[0], width=0.9)
    axes.bar_label(bars, labels=[str(v) if v else "" for v in spec.counts], padding=2, fontsize=9)
    tallest = max(drawn, default=0.0) or 1.0
    for position, value in zip(positions, spec.counts, strict=True):
        if value is None:
            axes.text(
                position,
                tallest * 0.02,
                spec.hidden_mark,
                ha="center",
                va="bottom",
                fontsize=9,
                color=MUTED,
            )
    axes.set_xticks(positions, spec.bins, rotation=30 if len(spec.bins) > 6 else 0, fontsize=9)
    axes.set_ylim(0, tallest * 1.15)
    _frame(axes, "y")
    if spec.axis:
        axes.set_ylabel(spec.axis, color=MUTED, fontsize=9)
    return _png(figure)


def _card(spec: Card) -> bytes:
    heights = [0.7 + 0.36 * len(s.bars) if s.bars else 0.6 for s in spec.sections]
    figure = _figure(1.9 + sum(heights) + (0.3 if spec.footer else 0))
    figure.set_layout_engine(None)
    total = figure.get_figheight()
    top = 1 - 0.18 / total

    def at(inches: float) -> float:
        return top - inches / total

    from matplotlib.patches import Rectangle

    band = 1.45 / total
    figure.add_artist(
        Rectangle((0, 1 - band), 1, band, transform=figure.transFigure, color=PALETTE[0], zorder=0)
    )
    figure.text(
        0.04,
        at(0.1),
        _wrap(spec.title, 60),
        fontsize=15,
        fontweight="bold",
        color="white",
        va="top",
    )
    figure.text(0.04, at(0.72), spec.place, fontsize=12, color="white", va="top")
    figure.text(0.04, at(1.45), spec.headline, fontsize=12, color=INK, va="top", fontweight="bold")
    used = 1.85
    for section, height in zip(spec.sections, heights, strict=True):
        figure.text(
            0.04,
            at(used),
            _wrap(section.question, 85),
            fontsize=10.5,
            color=INK,
            va="top",
            fontweight="bold",
        )
        if section.line:
            figure.text(0.06, at(used + 0.27), section.line, fontsize=10, color=INK, va="top")
        if section.bars:
            bottom = at(used + height - 0.12)
            axes = figure.add_axes((0.34, bottom, 0.58, at(used + 0.3) - bottom))
            shares = [share * 100 for _, share in section.bars]
            positions = list(range(len(shares)))
            colours = [PALETTE[i % len(PALETTE)] for i in positions]
            bars = axes.barh(positions, shares, color=colours, height=0.6)
            axes.bar_label(bars, labels=[f"{round(s)} %" for s in shares], padding=3, fontsize=9)
            axes.set_yticks(positions, [_wrap(label, 34) for label, _ in section.bars], fontsize=9)
            axes.invert_yaxis()
            axes.set_xlim(0, 118)
            axes.set_xticks([])
            for side in ("top", "right", "bottom", "left"):
                axes.spines[side].set_visible(False)
        used += height
    if spec.footer:
        figure.text(0.04, 0.02, _wrap(spec.footer, 110), fontsize=8, color=MUTED, va="bottom")
    return _png(figure)


def render(spec: Spec) -> bytes:
    """The PNG of a spec (runs in a worker process; callable directly in a script or test)."""
    _prepare()
    if isinstance(spec, Bars):
        return _bars(spec)
    if isinstance(spec, Histogram):
        return _histogram(spec)
    return _card(spec)


# ---- the worker pool ------------------------------------------------------------------------
@functools.cache
def _prepare() -> None:
    """matplotlib's settings for this process, once: its own config dir, bundled font, no pyplot."""
    if "MPLCONFIGDIR" not in os.environ:
        # matplotlib writes its font cache under MPLCONFIGDIR (else ~/.config or ~/.cache,
        # which a service account may not have): a private folder of our own, kept between runs.
        folder = Path(tempfile.gettempdir()) / f"consultbot-matplotlib-{os.getuid()}"
        folder.mkdir(mode=0o700, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = str(folder)
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"font.family": FONT, "svg.fonttype": "none"})


def _start_worker() -> None:
    # Members' replies come first: the bot process keeps its priority, drawing waits.
    os.nice(5)
    _prepare()


def workers() -> int:
    """One drawing process per core beyond the bot's own, at least one, at most two."""
    return max(1, min(2, (os.cpu_count() or 2) - 1))


class ChartDrawer:
    """The drawing processes, started on the first chart and stopped with the bot's services."""

    def __init__(self, processes: int | None = None) -> None:
        self._processes = processes or workers()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: forking a process that runs an event loop and threads copies
            # their locks in whatever state they are.
            self._pool = ProcessPoolExecutor(
                self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
            )
        return self._pool

    async def draw(self, spec: Spec) -> bytes:
        """The PNG of a spec, drawn by the pool while the event loop goes on answering people."""
        return await asyncio.get_running_loop().run_in_executor(self._executor(), render, spec)

    def close(self) -> None:
        """Stop the drawing processes (they start again on the next chart)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
