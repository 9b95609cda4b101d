"""The report's figures, each an inline SVG with a title and a description.

Every function takes a :class:`~openpuck.clinic.report_data.ReportData` and gives
a :class:`Figure` (or None when there is nothing to draw, e.g. no force
exercise). The SVG is inlined in the page: no file beside it, no network,
sharp at any zoom and on paper, and its text stays text (searchable, read
by screen readers). Each SVG carries ``role="img"``, a ``<title>`` and a
``<desc>`` that says in words what the figure shows (the numbers a reader
who cannot see it needs).

Matplotlib draws the charts (Agg-free: only its SVG backend runs); the
adherence calendar is plain SVG (:mod:`openpuck.clinic.report_calendar`).
"""
from __future__ import annotations

import datetime as dt
import functools
import html
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import OpenPuckError, needs
from . import units
from .report_data import ReportData

#: Okabe-Ito: told apart with the common colour-vision deficiencies, and in grey on paper
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
BAND_COLOUR = "#009E73"


@dataclass(frozen=True)
class Figure:
    slug: str           #: its id in the page (``fig-<slug>``)
    title: str          #: caption and SVG title
    description: str    #: what it shows, in words: the alt text
    svg: str            #: ``<svg ...>...</svg>``, ready to inline


def label(exercise: str) -> str:
    """An exercise's name as people read it: ``grip_squeeze`` is ``grip squeeze``."""
    return exercise.replace("_", " ")


def day_text(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def colours(data: ReportData) -> dict[Any, tuple[str, str]]:
    """Each exercise's colour and marker (by exercise, pucks and mode), the same in every figure."""
    # a marker of its own too: lines that overlap, or a grey printout, still tell them apart
    return {e.key: (PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)])
            for i, e in enumerate(data.exercises)}


# --- SVG plumbing ---

def _mpl() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure as MplFigure
    except ImportError:
        raise OpenPuckError(needs("the report's plots", "matplotlib", "plot")) from None
    return matplotlib, MplFigure


_STYLE = {"svg.fonttype": "none",        # text stays text: smaller, selectable, read aloud
          "font.family": "sans-serif",
          "font.size": 9, "axes.titlesize": 10, "axes.titleweight": "bold",
          "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
          "grid.alpha": 0.3, "legend.frameon": False, "legend.fontsize": 8}


F = TypeVar("F", bound=Callable[..., Any])


def _styled(draw: F) -> F:
    """Run a chart function inside the report's matplotlib style: axes read
    the style when they are made, so the whole drawing runs in it."""
    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        matplotlib, _ = _mpl()
        with matplotlib.rc_context(_STYLE):
            return draw(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def _new_figure(width: float, height: float) -> Any:
    _, MplFigure = _mpl()
    return MplFigure(figsize=(width, height), layout="constrained")


def _inline(fig: Any, slug: str, title: str, description: str) -> Figure:
    """Render ``fig`` to SVG markup fit to sit inside HTML: no XML prolog, no
    metadata, ids prefixed with the figure's slug (matplotlib numbers its ids
    from 1 in every figure, and ids must be unique in a page), scaling with
    the page, ``role="img"`` with a title and a description."""
    matplotlib, _ = _mpl()
    buf = io.StringIO()
    # a fixed salt and no date: the same history gives the same file
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": "openpuck-report"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    # its stroke style for every element ("*") would reach beyond the figure: the page's CSS has it, scoped
    text = re.sub(r'<style type="text/css">[^<]*</style>\s*', "", text)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{slug}-\1"', text)
    text = text.replace("url(#", f"url(#{slug}-").replace('href="#', f'href="#{slug}-')
    head_end = text.index(">") + 1
    head = text[:head_end]
    for attr in ("width", "height"):    # the viewBox stays: the page's CSS sizes it
        head = _drop_attr(head, attr)
    fid = f"fig-{slug}"
    head = head[:-1] + f' role="img" aria-labelledby="{fid}-title {fid}-desc" class="chart">'
    inner = (f'<title id="{fid}-title">{html.escape(title)}</title>'
             f'<desc id="{fid}-desc">{html.escape(description)}</desc>')
    return Figure(slug, title, description, head + inner + text[head_end:])


def _drop_attr(tag: str, name: str) -> str:
    key = f' {name}="'
    i = tag.find(key)
    if i < 0:
        return tag
    j = tag.index('"', i + len(key))
    return tag[:i] + tag[j + 1:]


#: at most this many labelled ticks on an axis the page's width (half of it in a two-column grid):
#: "28 Feb" labels this far apart never touch
TICKS_WIDE, TICKS_NARROW = 9, 5


def tick_day(day: dt.date, with_year: bool = False) -> str:
    """A day under an axis: ``3 Mar`` (``3 Mar 2025`` where the year must be said)."""
    return f"{day.day} {day:%b}" + (f" {day.year}" if with_year else "")


def _day_axis(ax: Any, days: Sequence[dt.date], max_ticks: int) -> None:
    """An axis of whole days: the period and a day either side (one day of
    practice is a day, not a point lost in years), a tick on a day every so
    many days, labelled ``3 Mar`` (the year on the first and where it changes)."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
    first, last = days[0], days[-1]
    one = dt.timedelta(days=1)
    ax.set_xlim(mdates.date2num(first - one), mdates.date2num(last + one))
    n = (last - first).days + 1
    step = max(1, math.ceil(n / max_ticks))
    ticks = [first + dt.timedelta(days=i) for i in range(0, n, step)]
    labels = {mdates.date2num(d): tick_day(d, i == 0 or d.year != ticks[i - 1].year) for i, d in enumerate(ticks)}
    ax.xaxis.set_major_locator(FixedLocator(list(labels)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, pos: labels.get(x, "")))


def _headroom(ax: Any, top: float, integer: bool = False) -> None:
    """From 0 to the first tick a little above ``top``: the highest marker is drawn whole."""
    from matplotlib.ticker import MaxNLocator
    if top <= 0:
        ax.set_ylim(0, 1.0)
        return
    loc = MaxNLocator(nbins=6, integer=integer)
    ticks = loc.tick_values(0, top * 1.08)
    ax.set_ylim(0, min((t for t in ticks if t >= top * 1.08), default=top * 1.15))
    ax.yaxis.set_major_locator(loc)         # the same ticks: one at the top


def _grid(n: int, panel_h: float = 2.1) -> tuple[int, int, tuple[float, float]]:
    cols = 1 if n <= 2 else 2
    rows = math.ceil(n / cols)
    return rows, cols, (9.0, panel_h * rows + 0.7)


def _panels(fig: Any, n: int, rows: int, cols: int, sharex: bool = True) -> list[Any]:
    """``n`` panels (on a shared time axis: dates under the lowest panel of each column)."""
    axes = fig.subplots(rows, cols, squeeze=False, sharex=sharex).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[max(0, n - cols):n]:     # the panel under it is hidden: give it the dates
        ax.xaxis.set_tick_params(labelbottom=True)
    return axes[:n]


# --- the charts ---

@_styled
def reps_per_day(data: ReportData) -> Figure | None:
    """Stacked bars: each exercise's reps per day, partial reps on top (hatched)."""
    if not data.reps and not data.partial_reps:
        return None
    col = colours(data)
    days = data.days
    fig = _new_figure(9.0, 3.4)
    ax = fig.subplots()
    bottom = [0] * len(days)
    index = {d: i for i, d in enumerate(days)}
    for e in data.exercises:
        heights = [0] * len(days)
        for r in data.daily_of(e):
            heights[index[r.day]] += r.reps
        if any(heights):
            ax.bar(days, heights, bottom=bottom, width=0.8, color=col[e.key][0], label=label(e.name))
            bottom = [b + h for b, h in zip(bottom, heights)]
    partial = [0] * len(days)
    for r in data.daily:
        partial[index[r.day]] += r.partial_reps
    if any(partial):
        ax.bar(days, partial, bottom=bottom, width=0.8, color="white", edgecolor="#777777", hatch="///",
               linewidth=0.6, label="partial reps (all exercises)")
    ax.set_ylabel("reps")
    ax.set_title("Reps per day")
    _headroom(ax, max(b + p for b, p in zip(bottom, partial)), integer=True)     # whole reps
    _day_axis(ax, days, TICKS_WIDE)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    per_day = {d: sum(r.reps for r in data.daily if r.day == d) for d in days}
    top = max(per_day, key=lambda d: (per_day[d], d))
    desc = (f"Reps per day from {day_text(days[0])} to {day_text(days[-1])}, stacked by exercise: "
            f"{units.plural(data.reps, 'rep')} and {units.plural(data.partial_reps, 'partial rep')} on "
            f"{units.plural(len(data.days_practised), 'day')}; the most, {units.plural(per_day[top], 'rep')}, "
            f"on {day_text(top)}. "
            + "; ".join(f"{label(e.name)} {e.reps}" for e in data.exercises) + ".")
    return _inline(fig, "reps", "Reps per day", desc)


#: the figure for each unit: its slug, title and what its amplitude is called
AMPLITUDE = {"deg": ("range", "Range of motion", "range of motion"), "N": ("force", "Force", "force"),
             "mm": ("distance", "Distance reached", "distance")}


@_styled
def amplitude(data: ReportData, unit: str) -> Figure | None:
    """Per exercise in ``unit`` ("deg": range of motion, "N": force, "mm": distance): the mean
    and the best rep of each day, over time."""
    slug, title, what = AMPLITUDE[unit]
    exs = [e for e in data.exercises if e.unit == unit and e.reps]
    if not exs:
        return None
    col = colours(data)
    rows, cols, size = _grid(len(exs))
    fig = _new_figure(*size)
    parts = []
    for ax, e in zip(_panels(fig, len(exs), rows, cols), exs):
        rs = [r for r in data.daily_of(e) if r.reps]
        colour, marker = col[e.key]
        ax.plot([r.day for r in rs], [r.mean_amplitude for r in rs], marker=marker, ms=4, lw=1.4, color=colour,
                label="mean of the day's reps", clip_on=False)
        ax.plot([r.day for r in rs], [r.best_amplitude for r in rs], marker="^", ms=5, lw=0.8, ls=":",
                color=colour, markerfacecolor="white", label="best rep of the day", clip_on=False)
        ax.set_title(label(e.name))
        ax.set_ylabel(f"{what} ({units.symbol(unit)})")
        best = max(r.best_amplitude for r in rs if r.best_amplitude is not None)   # a day with reps has one
        _headroom(ax, best)
        _day_axis(ax, data.days, TICKS_WIDE if cols == 1 else TICKS_NARROW)
        parts.append(f"{label(e.name)}: mean {units.amount(rs[0].mean_amplitude, unit)} on "
                     f"{day_text(rs[0].day)}, {units.amount(rs[-1].mean_amplitude, unit)} on "
                     f"{day_text(rs[-1].day)}; best rep {units.amount(best, unit)}")
    from matplotlib.lines import Line2D
    grey = "#444444"     # the legend explains the line styles; the panels' titles say which exercise
    fig.legend([Line2D([], [], marker="o", ms=4, lw=1.4, color=grey),
                Line2D([], [], marker="^", ms=5, lw=0.8, ls=":", color=grey, markerfacecolor="white")],
               ["mean of the day's reps", "best rep of the day"], loc="outside lower center", ncols=2)
    fig.suptitle(f"{title} per exercise ({units.symbol(unit)})", fontweight="bold")
    desc = f"{title} per exercise, each day's mean rep and best rep. " + "; ".join(parts) + "."
    return _inline(fig, slug, f"{title} per exercise", desc)


@_styled
def success(data: ReportData) -> Figure | None:
    """Each exercise's success rate per day, against the progression's band."""
    low, high = data.rule.success_low, data.rule.success_high
    exs = [e for e in data.exercises if e.reps + e.partial_reps]
    if not exs:
        return None
    col = colours(data)
    fig = _new_figure(9.0, 3.4)
    ax = fig.subplots()
    ax.axhspan(100 * low, 100 * high, color=BAND_COLOUR, alpha=0.15, lw=0,
               label=f"aim: {100 * low:.0f}–{100 * high:.0f}% (progression rule)")
    parts = []
    for e in exs:
        rs = [(r.day, r.success_rate) for r in data.daily_of(e) if r.success_rate is not None]
        colour, marker = col[e.key]
        ax.plot([d for d, _ in rs], [100 * v for _, v in rs], marker=marker, ms=4, lw=1.2,
                color=colour, label=label(e.name), clip_on=False)
        # the rule's own edges count as in the band (progression forgives float noise the same way)
        inside = sum(1 for _, v in rs if low - 1e-9 <= v <= high + 1e-9)
        parts.append(f"{label(e.name)}: {units.percent(rs[0][1])} on {day_text(rs[0][0])}, "
                     f"{units.percent(rs[-1][1])} on {day_text(rs[-1][0])}, "
                     f"within the band on {inside} of {units.plural(len(rs), 'day')}")
    ax.set_ylim(0, 112)     # 100% and its marker inside the plot
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("success rate (%)")
    ax.set_title("Success rate per day (reps / attempts)")
    _day_axis(ax, data.days, TICKS_WIDE)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    desc = (f"Success rate per day, the share of attempts that reached the target, against the aim of "
            f"{100 * low:.0f} to {100 * high:.0f}%. " + "; ".join(parts) + ".")
    return _inline(fig, "success", "Success rate per day", desc)


@_styled
def targets(data: ReportData) -> Figure | None:
    """Each exercise's target set by set over the sessions: the progression at work."""
    exs = [e for e in data.exercises if any(t.key == e.key and t.target is not None
                                            for t in data.targets)]
    if not exs:
        return None
    col = colours(data)
    rows, cols, size = _grid(len(exs))
    fig = _new_figure(*size)
    parts = []
    for ax, e in zip(_panels(fig, len(exs), rows, cols, sharex=False), exs):
        ts = [t for t in data.targets if t.key == e.key and t.target is not None]
        colour, marker = col[e.key]
        # one step per set, the sets of a session side by side: a session of five
        # minutes and the days between sessions take the same room
        xs = list(range(len(ts)))
        ax.plot(xs, [t.target for t in ts], drawstyle="steps-post", lw=1.2, color=colour)
        ax.plot(xs, [t.target for t in ts], ls="", marker=marker, ms=3.5, color=colour, clip_on=False)
        _session_ticks(ax, ts, TICKS_WIDE if cols == 1 else TICKS_NARROW)
        ax.set_title(label(e.name))
        ax.set_ylabel(f"target ({units.symbol(e.unit)})")
        _headroom(ax, max(t.target for t in ts if t.target is not None))
        sessions = len({t.session_id for t in ts})
        first, last = (dt.date.fromtimestamp(ts[i].started_at) for i in (0, -1))
        parts.append(f"{label(e.name)}: {units.amount(ts[0].target, e.unit)} at the first set "
                     f"({day_text(first)}), {units.amount(ts[-1].target, e.unit)} at the last ({day_text(last)}), "
                     f"over {units.plural(sessions, 'session')}")
    fig.suptitle("Target of each set over the sessions", fontweight="bold")
    desc = "The target of each set, as the progression rule moved it. " + "; ".join(parts) + "."
    return _inline(fig, "targets", "Target over sessions", desc)


def _session_ticks(ax: Any, ts: Sequence[Any], max_ticks: int) -> None:
    """Under the sets: the day of the session each began (``3 Mar``; ``10 Mar (2)``
    for a day's second session), at most ``max_ticks`` of them."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
    starts = [i for i, t in enumerate(ts) if i == 0 or t.session_id != ts[i - 1].session_id]
    step = max(1, math.ceil(len(starts) / max_ticks))
    shown = starts[::step]
    texts: list[str] = []
    days: list[dt.date] = []
    for i in shown:
        d = dt.date.fromtimestamp(ts[i].started_at)
        nth = days.count(d) + 1
        texts.append(tick_day(d, not days or d.year != days[-1].year) + (f" ({nth})" if nth > 1 else ""))
        days.append(d)
    ax.xaxis.set_major_locator(FixedLocator(shown))
    ax.xaxis.set_major_formatter(FixedFormatter(texts))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(-1, max(len(ts), 1))
    ax.set_xlabel("sets, by the session they began in")


def all_units(data: ReportData) -> Sequence[str]:
    """The units with a figure of their own, in the order the report shows them."""
    return [u for u in AMPLITUDE if any(e.unit == u for e in data.exercises)]
