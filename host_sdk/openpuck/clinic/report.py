"""The therapist's report: one self-contained HTML page from a patient's history.

    from openpuck.clinic.history import History
    from openpuck.clinic.report import write_report
    with History() as h:
        write_report(h, "anna", "anna.html", pdf=True)   # and anna.pdf, through headless Chromium

The page holds everything: its CSS and its figures (inline SVG) are in the
file and a Content-Security-Policy forbids it to load anything else, so it
opens offline, can be mailed, and prints as it shows. Sections, top to
bottom: the header (patient, period, programmes, sessions, days practised),
a summary table per exercise, days practised (a calendar), reps per day,
range of motion and force per exercise over time, success rate per day
against the progression rule's band, the target set by set, the last
sessions, and how to read it all. A patient with no session gets a page
that says so. The numbers come from :mod:`openpuck.clinic.report_data`, the
figures from :mod:`openpuck.clinic.report_plots`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
from pathlib import Path

from ..errors import OpenPuckError
from . import browser, report_calendar, report_plots, units
from .history import History
from .history_log import LOGGED
from .progression import ProgressionRule
from .report_data import ExerciseSummary, ReportData, SessionLine, gather
from .report_plots import Figure, day_text, label


class ReportError(OpenPuckError):
    """The report cannot be written where asked (the message names the path)."""


#: how many of the latest sessions the last table lists
LAST_SESSIONS = 10

# The page's own content only: styles inline, images as data: URLs at most.
# Anything else (a script, a font or image from the web) is blocked and shows
# as a console error, which the browser test looks for.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --ink: #1b1b1b; --muted: #555; --line: #c8c8c8; --head: #eef3f8; --warn: #8a4b00; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
       color: var(--ink); background: #fff; margin: 0 auto; padding: 1.5rem; max-width: 62rem;
       line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.6rem; margin: 0 0 .6rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; padding-bottom: .2rem; border-bottom: 2px solid var(--head); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
.facts dt { font-weight: 600; color: var(--muted); }
.facts dd { margin: 0; }
nav ol { display: flex; flex-wrap: wrap; gap: .3rem 1rem; padding: 0; list-style: none; margin: 1rem 0 0; }
nav a { color: #0b4f8a; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; font-size: .92rem; }
caption { text-align: left; color: var(--muted); padding: .2rem 0; caption-side: bottom; font-size: .85rem; }
th, td { border: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top; }
thead th, tfoot th, tfoot td { background: var(--head); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.date { white-space: nowrap; }
table.narrow { width: auto; }
.when { display: block; color: var(--muted); font-size: .8rem; }
.warn { color: var(--warn); }
figure { margin: .8rem 0 1.2rem; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .3rem; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart * { stroke-linejoin: round; stroke-linecap: butt; }
svg.calendar { width: 100%; height: auto; display: block; }
svg.calendar .cal-label { font: 9px sans-serif; fill: var(--muted); }
.big { font-size: 1.3rem; font-weight: 600; margin: .2rem 0; }
.none, .empty { color: var(--muted); font-style: italic; }
.empty { font-size: 1.1rem; border: 1px dashed var(--line); padding: 1rem; }
dl.glossary dt { font-weight: 600; }
dl.glossary dd { margin: 0 0 .4rem 1rem; }
footer { margin-top: 2rem; color: var(--muted); font-size: .8rem; border-top: 1px solid var(--line);
         padding-top: .5rem; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 10.5pt; }
  nav { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; }
  figure, tr, .facts, section.chart { break-inside: avoid; }
  section#sessions-section, section#summary-section { break-inside: auto; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _time(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t)


def _minutes(seconds: float) -> str:
    m = seconds / 60.0
    return f"{m:.0f} min" if m >= 1 else f"{seconds:.0f} s"


def _num(value: object, cls: str = "num") -> str:
    return f'<td class="{cls}">{_e(value)}</td>'


# --- the parts of the page ---

def _header(data: ReportData, title: str, now: dt.datetime) -> str:
    facts = [("Patient", _e(data.patient))]
    if not data.empty:
        first, last = data.first_day, data.last_day
        assert first is not None and last is not None
        facts += [
            ("Period", f"{_e(day_text(first))} – {_e(day_text(last))} ({units.plural(len(data.days), 'day')})"),
            ("Programme" + ("s" if len(data.programmes) > 1 else ""), _e(", ".join(data.programmes))),
        ]
        open_ = sum(1 for s in data.sessions if s.ended_at is None)
        facts.append(("Sessions", f"{len(data.sessions)}" + (f' <span class="warn">({open_} not ended)</span>'
                                                             if open_ else "")))
        practised = len(data.days_practised)
        facts.append(("Days practised", f"{practised} of {len(data.days)} "
                                        f"({units.percent(practised / len(data.days))})"))
        facts.append(("Attempts", f"{units.plural(data.reps, 'rep')}, {units.plural(data.partial_reps, 'partial rep')} "
                                  f"({units.percent(data.success_rate)} success)"))
        since = (now.date() - last).days
        facts.append(("Last session", f"{_e(day_text(last))}"
                                      + (f" ({units.plural(since, 'day')} before this report)"
                                         if since > 0 else "")))
    facts.append(("Report made", _e(now.strftime("%d %b %Y, %H:%M"))))
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    return f'<header><h1>{_e(title)}</h1><dl class="facts">{rows}</dl>{_nav(data)}</header>'


_SECTIONS = (("summary-section", "Summary"), ("adherence-section", "Days practised"),
             ("reps-section", "Reps per day"), ("range-section", "Range of motion"),
             ("force-section", "Force"), ("success-section", "Success rate"),
             ("targets-section", "Targets"), ("sessions-section", "Last sessions"),
             ("notes-section", "How to read"))


def _nav(data: ReportData) -> str:
    if data.empty:
        return ""
    links = "".join(f'<li><a href="#{sid}">{_e(name)}</a></li>' for sid, name in _SECTIONS)
    return f'<nav aria-label="Sections"><ol>{links}</ol></nav>'


def _summary_row(e: ExerciseSummary) -> str:
    best = "–"
    if e.best is not None:
        best = (f"{_e(units.amount(e.best.amplitude, e.best.unit))}"
                f' <span class="when">{_e(dt.date.fromtimestamp(e.best.at).isoformat())}</span>')
    latest = "–"
    if e.latest_day is not None:
        latest = (f"{_e(units.amount(e.latest_mean, e.unit))}"
                  f' <span class="when">{_e(e.latest_day.isoformat())}</span>')
    return (f'<tr data-exercise="{_e(e.name)}"><th scope="row">{_e(label(e.name))}</th>'
            + _num(e.sessions) + _num(e.sets) + _num(e.reps) + _num(e.partial_reps)
            + _num(units.percent(e.success_rate))
            + f'<td class="num">{best}</td><td class="num">{latest}</td>'
            + _num(units.amount(e.target, e.unit)) + "</tr>")


def _summary(data: ReportData) -> str:
    head = ("<tr><th scope=\"col\">Exercise</th><th scope=\"col\" class=\"num\">Sessions</th>"
            "<th scope=\"col\" class=\"num\">Sets</th><th scope=\"col\" class=\"num\">Reps</th>"
            "<th scope=\"col\" class=\"num\">Partial reps</th><th scope=\"col\" class=\"num\">Success</th>"
            "<th scope=\"col\" class=\"num\">Best rep (date)</th>"
            "<th scope=\"col\" class=\"num\">Latest day's mean (date)</th>"
            "<th scope=\"col\" class=\"num\">Target now</th></tr>")
    body = "".join(_summary_row(e) for e in data.exercises)
    foot = ('<tr><th scope="row">All exercises</th>' + _num(len(data.sessions)) + _num(data.sets)
            + _num(data.reps) + _num(data.partial_reps) + _num(units.percent(data.success_rate))
            + '<td></td><td></td><td></td></tr>')
    return (f'<section id="summary-section"><h2>Summary per exercise</h2>'
            f'<table id="summary"><caption>Success is reps / (reps + partial reps): the share of attempts '
            f'that reached the target. Best rep: the largest range of motion or force of any rep, and the day '
            f'of it. Target now: the target of the latest set.</caption>'
            f"<thead>{head}</thead><tbody>{body}</tbody><tfoot>{foot}</tfoot></table></section>")


def _figure(fig: Figure | None, none: str) -> str:
    if fig is None:
        return f'<p class="none">{_e(none)}</p>'
    return (f'<figure id="fig-{fig.slug}">{fig.svg}'
            f"<figcaption>{_e(fig.description)}</figcaption></figure>")


def _adherence(data: ReportData) -> str:
    practised, days = len(data.days_practised), len(data.days)
    weeks = report_calendar.weekly_days(data)
    rows = "".join(f'<tr><td class="date">{_e(m.isoformat())}</td>{_num(p)}{_num(n)}</tr>' for m, p, n in weeks)
    table = ('<table id="weeks" class="narrow"><caption>Days practised per week (weeks start on Monday; the '
             'first and last week count only the days of the period).</caption><thead><tr><th scope="col">Week of</th>'
             '<th scope="col" class="num">Days practised</th><th scope="col" class="num">Days</th></tr></thead>'
             f"<tbody>{rows}</tbody></table>")
    return (f'<section id="adherence-section"><h2>Days practised</h2>'
            f'<p class="big" id="adherence-count">Practised on {practised} of {units.plural(days, "day")} '
            f"({units.percent(practised / days if days else None)})</p>"
            f"<p>A day counts when at least one rep or partial rep was recorded on it. "
            f"{units.plural(len(data.sessions), 'session')} in all.</p>"
            f"{_figure(report_calendar.adherence(data), 'No days to show.')}{table}</section>")


def _chart_section(sid: str, heading: str, intro: str, fig: Figure | None, none: str) -> str:
    # class chart: printed whole on one page, the heading with its figure
    return (f'<section id="{sid}" class="chart"><h2>{_e(heading)}</h2><p>{_e(intro)}</p>'
            f"{_figure(fig, none)}</section>")


def _logged(s: SessionLine) -> str:
    """The marker of a session with reps logged on the puck while no host listened."""
    if not s.logged_sets or s.programme == LOGGED:   # that session's name says it already
        return ""
    return f' <span class="logged">({_e(units.plural(s.logged_sets, "set"))} logged on the puck)</span>'


def _session_row(s: SessionLine) -> str:
    start = _time(s.started_at)
    length = (f'<td class="num">{_e(_minutes(s.ended_at - s.started_at))}</td>' if s.ended_at is not None
              else '<td class="num warn">not ended</td>')
    return (f'<tr data-session="{s.id}"><td class="date">{_e(start.date().isoformat())}</td>'
            f"<td class=\"date\">{_e(start.strftime('%H:%M'))}</td>{length}<td>{_e(s.programme)}{_logged(s)}</td>"
            f"<td>{_e(', '.join(label(x) for x in s.exercises) or '–')}</td>"
            + _num(s.sets) + _num(s.reps) + _num(s.partial_reps) + _num(units.percent(s.success_rate)) + "</tr>")


def _sessions(data: ReportData) -> str:
    last = list(reversed(data.sessions[-LAST_SESSIONS:]))
    head = ('<tr><th scope="col">Date</th><th scope="col">Start</th><th scope="col" class="num">Length</th>'
            '<th scope="col">Programme</th><th scope="col">Exercises</th><th scope="col" class="num">Sets</th>'
            '<th scope="col" class="num">Reps</th><th scope="col" class="num">Partial reps</th>'
            '<th scope="col" class="num">Success</th></tr>')
    shown = (f"The last {len(last)} of {len(data.sessions)} sessions" if len(data.sessions) > len(last)
             else "The one session" if len(last) == 1 else f"All {len(last)} sessions")
    return (f'<section id="sessions-section"><h2>Last sessions</h2><table id="sessions">'
            f"<caption>{shown}, newest first. \"Not ended\": the session was cut short (the program "
            f"stopped or the patient left); its reps up to then count. \"Logged on the puck\": reps the puck "
            f"counted while no computer listened, pulled from its own log later.</caption>"
            f"<thead>{head}</thead><tbody>{''.join(_session_row(s) for s in last)}</tbody></table></section>")


def _notes(data: ReportData) -> str:
    low, high = data.rule.success_low, data.rule.success_high
    items = [
        ("Rep", "a movement that reached the set's target (range of motion in degrees, or force in newtons)."),
        ("Partial rep", "an attempt that moved but did not reach the target."),
        ("Success rate", "reps / (reps + partial reps). The progression rule keeps it between "
                         f"{100 * low:.0f}% and {100 * high:.0f}%: above, the next target rises; below, it "
                         "falls; a few attempts are too few to judge."),
        ("Range of motion, force", "each rep's peak: degrees turned from rest about the movement's axis, or "
                                   "newtons of squeeze or press above rest. The mean is over the day's reps; "
                                   "the best is the day's largest rep."),
        ("Day", "the local date on which a set started."),
    ]
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    return (f'<section id="notes-section"><h2>How to read this report</h2><dl class="glossary">{rows}</dl>'
            "<p>Hover over a day of the calendar for its reps. Print with the browser's Print command "
            "(Ctrl+P, or Cmd+P): the page is laid out for A4.</p></section>")


def _empty(data: ReportData) -> str:
    return (f'<section id="empty"><p class="empty">No sessions recorded for {_e(data.patient)} yet.</p>'
            "<p>The report fills in once the patient has done a session of a home programme with the "
            "pucks: every set, rep and partial rep is stored as it happens.</p></section>")


def render(data: ReportData, *, title: str | None = None, now: dt.datetime | None = None) -> str:
    """The report page for ``data`` as HTML text (``now``: the time it says it
    was made). The page names no file of this computer: it is shared."""
    from .._version import __version__
    now = now or dt.datetime.now()
    title = title or f"Home programme report: {data.patient}"
    if data.empty:
        main = _empty(data)
    else:
        parts = [_summary(data), _adherence(data),
                 _chart_section("reps-section", "Reps per day",
                                "All exercises, each in its colour; the hatched top of a bar is the partial reps.",
                                report_plots.reps_per_day(data), "No reps or partial reps recorded yet.")]
        for unit, (slug, heading, _what) in report_plots.AMPLITUDE.items():
            word = {"deg": "degrees", "N": "newtons", "mm": "millimetres"}.get(unit, unit)
            intro = (f"Per exercise measured in {word}: the mean of each "
                     f"day's reps (line) and the day's best rep (triangles).")
            parts.append(_chart_section(f"{slug}-section", heading, intro, report_plots.amplitude(data, unit),
                                        f"No exercise measured in {units.symbol(unit)} with a rep yet."))
        low, high = data.rule.success_low, data.rule.success_high
        parts.append(_chart_section(
            "success-section", "Success rate against the target band",
            f"Each day's reps / attempts per exercise. The shaded band, {100 * low:.0f}–{100 * high:.0f}%, is "
            "where the progression rule keeps the target: high success but not perfect.",
            report_plots.success(data), "No attempts recorded yet."))
        parts.append(_chart_section(
            "targets-section", "Target over sessions",
            "The target of every set, as the progression rule moved it from set to set and session to session.",
            report_plots.targets(data), "No set has a target yet (auto targets not learned)."))
        parts += [_sessions(data), _notes(data)]
        main = "".join(parts)
    foot = f"Made by OpenPuck {_e(__version__)}."
    return ("<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="generator" content="OpenPuck {_e(__version__)}">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head>"
            f"<body>{_header(data, title, now)}<main>{main}</main><footer>{foot}</footer></body></html>\n")


def write_report(history: History, patient: str, path: str | os.PathLike, *, title: str | None = None,
                 pdf: bool | str | os.PathLike = False, rule: ProgressionRule | None = None,
                 now: dt.datetime | None = None) -> Path:
    """Write ``patient``'s report from ``history`` to the HTML file ``path``; returns its path.

    ``title``: the page's heading (default "Home programme report: <patient>").
    ``pdf``: True to print it to ``path`` with ``.pdf``, or a PDF path, through
    headless Chromium (:func:`openpuck.clinic.browser.print_pdf`; raises
    :class:`openpuck.clinic.browser.BrowserError` when Chromium is missing, after
    the HTML is written). ``rule``: the progression rule whose success band
    is drawn (default 70-90%). A patient with no session gets a page saying so.
    The HTML and the PDF are readable by the user only (0600, as the history
    is): sharing a patient's report is a choice to make on purpose."""
    data = gather(history, patient, rule=rule)
    text = render(data, title=title, now=now)
    out = Path(path)
    _write_atomically(out, text)
    if pdf:
        done = browser.print_pdf(out, out.with_suffix(".pdf") if pdf is True else Path(pdf))  # type: ignore[arg-type]
        with contextlib.suppress(OSError):
            os.chmod(done, 0o600)
    return out


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target and rename over it: a failed write never leaves
    half a report where a whole one was."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0600 from the start: a patient's data is never readable by others, not for a moment
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            # the error names the user's file, not the temporary one beside it
            raise ReportError(f"{path}: cannot write the report: {e.strerror or e}") from None
        raise
