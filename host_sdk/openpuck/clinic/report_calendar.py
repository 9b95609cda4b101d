"""The report's adherence calendar: plain SVG written here, one square a day
(no matplotlib), and the week-by-week count of days practised beside it."""
from __future__ import annotations

import datetime as dt
import html

from . import units
from .report_data import ReportData
from .report_plots import Figure, day_text

#: one square a day in the calendar; shades from few attempts to many
CAL_EMPTY, CAL_SHADES = "#eeeeee", ("#c6e2f5", "#7fb8e0", "#2f7fc1", "#0b4f8a")
#: the room a month's label takes in the calendar ("Mar 2025" in its 9 px font), in its units
MONTH_LABEL_PX = 48


def adherence(data: ReportData) -> Figure | None:
    """A calendar strip: a column per week (Monday on top), a square per day,
    filled on the days practised, darker with more attempts; each square's
    tooltip gives the day's reps."""
    days = data.days
    if not days:
        return None
    cell, gap, left, top = 14, 3, 34, 22
    first_monday = days[0] - dt.timedelta(days=days[0].weekday())
    weeks = (days[-1] - first_monday).days // 7 + 1
    width = left + weeks * (cell + gap) + 4
    height = top + 7 * (cell + gap) + 30
    attempts = data.attempts_by_day
    counts = sorted(n for n in attempts.values() if n > 0)
    reps_by_day: dict[dt.date, int] = {}
    for r in data.daily:
        reps_by_day[r.day] = reps_by_day.get(r.day, 0) + r.reps
    sessions_by_day: dict[dt.date, int] = {}
    for s in data.sessions:
        d = dt.date.fromtimestamp(s.started_at)
        sessions_by_day[d] = sessions_by_day.get(d, 0) + 1

    def shade(n: int) -> str:
        # quartiles of the patient's own practised days: relative, so a light
        # programme's calendar is not all pale
        rank = sum(1 for c in counts if c < n) / len(counts)
        return CAL_SHADES[min(len(CAL_SHADES) - 1, int(rank * len(CAL_SHADES)))]

    out = []
    for i, name in ((0, "Mon"), (2, "Wed"), (4, "Fri"), (6, "Sun")):
        y = top + i * (cell + gap) + cell - 3
        out.append(f'<text x="{left - 6}" y="{y}" text-anchor="end" class="cal-label">{name}</text>')
    months: list[tuple[int, dt.date]] = []     # (x, first day shown) of each month's label
    for d in days:
        w = (d - first_monday).days // 7
        x = left + w * (cell + gap)
        if not months or (d.month, d.year) != (months[-1][1].month, months[-1][1].year):
            if months and x - months[-1][0] < MONTH_LABEL_PX:
                # a month's last few days share a column or two with the next: the
                # next month's label, at its own column, reads for both (no overlap)
                months.pop()
            months.append((x, d))
    for n, (x, d) in enumerate(months):
        year = n == 0 or d.year != months[n - 1][1].year
        out.append(f'<text x="{x}" y="{top - 8}" class="cal-label">{d:%b %Y}</text>' if year else
                   f'<text x="{x}" y="{top - 8}" class="cal-label">{d:%b}</text>')
    for d in days:
        w = (d - first_monday).days // 7
        x, y = left + w * (cell + gap), top + d.weekday() * (cell + gap)
        n = attempts.get(d, 0)
        fill = shade(n) if n > 0 else CAL_EMPTY
        tip = (f"{d:%a} {day_text(d)}: {units.plural(reps_by_day.get(d, 0), 'rep')}, "
               f"{n - reps_by_day.get(d, 0)} partial, "
               f"{units.plural(sessions_by_day.get(d, 0), 'session')}") if n > 0 else f"{d:%a} {day_text(d)}: not practised"
        out.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" rx="2" fill="{fill}" '
                   f'stroke="#bbbbbb" stroke-width="0.5" data-day="{d.isoformat()}" '
                   f'data-attempts="{n}"><title>{html.escape(tip)}</title></rect>')
    ly = top + 7 * (cell + gap) + 12
    out.append(f'<rect x="{left}" y="{ly}" width="10" height="10" fill="{CAL_EMPTY}" stroke="#bbbbbb" '
               f'stroke-width="0.5"/><text x="{left + 14}" y="{ly + 9}" class="cal-label">not practised</text>')
    lx = left + 100
    out.append(f'<text x="{lx}" y="{ly + 9}" class="cal-label">practised: fewer</text>')
    for i, c in enumerate(CAL_SHADES):
        out.append(f'<rect x="{lx + 92 + 13 * i}" y="{ly}" width="10" height="10" fill="{c}"/>')
    out.append(f'<text x="{lx + 96 + 13 * len(CAL_SHADES)}" y="{ly + 9}" class="cal-label">more attempts</text>')
    practised = len(data.days_practised)
    title = "Days practised"
    desc = (f"Calendar from {day_text(days[0])} to {day_text(days[-1])}: practised on {practised} of "
            f"{units.plural(len(days), 'day')}. Days practised: "
            + ", ".join(f"{d:%a} {day_text(d)}" for d in data.days_practised) + ".")
    width = max(width, lx + 96 + 13 * len(CAL_SHADES) + 80)    # room for the legend
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
           f'aria-labelledby="fig-adherence-title fig-adherence-desc" class="calendar" '
           f'style="max-width: {width * 1.5:.0f}px">'
           f'<title id="fig-adherence-title">{html.escape(title)}</title>'
           f'<desc id="fig-adherence-desc">{html.escape(desc)}</desc>' + "".join(out) + "</svg>")
    return Figure("adherence", title, desc, svg)


def weekly_days(data: ReportData) -> list[tuple[dt.date, int, int]]:
    """(Monday, days practised, days of the range in that week), week by week."""
    out: dict[dt.date, list[int]] = {}
    practised = set(data.days_practised)
    for d in data.days:
        monday = d - dt.timedelta(days=d.weekday())
        w = out.setdefault(monday, [0, 0])
        w[0] += d in practised
        w[1] += 1
    return [(m, p, n) for m, (p, n) in out.items()]
