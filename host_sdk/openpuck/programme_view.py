"""What a patient sees while a programme runs: the live terminal view (rich)
and the plain one-line-per-event form, both fed by the runner's events
(:class:`openpuck.programme.ProgrammeEvent`).

The live view shows the exercise and where the puck goes, the set (3 of 4),
a progress bar of the set (reps of the goal, or seconds of a timed set), the
count, the last rep's amplitude against the target, a rest countdown, and
the personal bests of the session. :meth:`ProgrammeView.render` returns the
renderable, so a test draws it into any rich Console.
"""
from __future__ import annotations

import json
from typing import Any, TextIO

from . import units
from .programme import ProgrammeEvent


def amount(value: float | None, unit: str) -> str:
    """39.8° or 21.4 N; "learning" for a target not known yet."""
    return units.amount(value, unit, none="learning")


class ProgrammeView:
    """The state the live view draws, updated by :meth:`update` from the runner."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.ev: ProgrammeEvent | None = None
        self.exercise = ""
        self.placement = ""
        self.note = ""
        self.set_text = ""
        self.target: float | None = None
        self.unit = ""
        self.goal = ""
        self.done = 0
        self.total = 1
        self.partials = 0
        self.last_rep = ""
        self.resting = 0.0
        self.bests: list[str] = []
        self.lines: list[str] = []

    def update(self, ev: ProgrammeEvent) -> None:
        self.ev = ev
        k = ev.kind
        if k == "exercise":
            self.exercise, self.placement, self.note = ev.exercise, ev.placement, ev.note
            self.last_rep, self.resting = "", 0.0
        elif k == "set_start":
            self.set_text = f"set {ev.set_index + 1} of {ev.sets}"
            self.target, self.unit = ev.target, ev.unit
            self.done, self.partials, self.resting, self.last_rep = 0, 0, 0.0, ""
            if ev.reps_goal is not None:
                self.total, self.goal = ev.reps_goal, f"{ev.reps_goal} reps"
            else:
                self.total, self.goal = int(ev.seconds_goal or 1), f"{ev.seconds_goal:g} s"
        elif k == "attempt":
            self.partials = ev.partials_done
            self.done = ev.reps_done if ev.reps_goal is not None else int(ev.seconds_done)
            amp = ev.event.amplitude
            verdict = "reached the target" if ev.event.kind == "rep" else "short of the target"
            self.last_rep = f"{amount(amp, ev.unit)} against {amount(ev.target, ev.unit)}: {verdict}"
        elif k == "set_end":
            s = ev.summary
            self.lines.append(f"{ev.exercise} set {ev.set_index + 1}: {s['reps']} reps, {s['partial_reps']} "
                              f"partial, best {amount(s['best_amplitude'], ev.unit)}")
            self.done = self.total
        elif k == "personal_best":
            self.bests.append(f"{ev.exercise}: {amount(ev.event.amplitude, ev.unit)}")
        elif k == "rest":
            self.resting = ev.seconds_left
        elif k == "locked":
            self.lines.append(f"{ev.exercise}: locked ({ev.note})")

    def render(self) -> Any:
        from .live import _rich
        rich = _rich()
        from rich.progress_bar import ProgressBar
        grid = rich.table.Table.grid(padding=(0, 2))
        grid.add_column(style="bold", justify="right")
        grid.add_column()
        grid.add_row("exercise", f"{self.exercise}  ({self.placement})" if self.exercise else "starting")
        if self.note:
            grid.add_row("", self.note)
        if self.set_text:
            grid.add_row("set", f"{self.set_text}: {self.goal}, target {amount(self.target, self.unit)}")
            grid.add_row("progress", ProgressBar(total=max(self.total, 1), completed=min(self.done, self.total),
                                                 width=40))
            grid.add_row("count", f"{self.done} of {self.total}"
                         + (f", {self.partials} short" if self.partials else ""))
        if self.last_rep:
            grid.add_row("last rep", self.last_rep)
        if self.resting > 0:
            grid.add_row("rest", f"{self.resting:.0f} s: relax, the next set starts by itself")
        if self.bests:
            grid.add_row("personal best", "  ".join(self.bests[-3:]) + "  woo hoo!")
        for line in self.lines[-4:]:
            grid.add_row("", f"[dim]{line}[/dim]")
        return rich.panel.Panel(grid, title=self.title, border_style="green")


def plain_line(ev: ProgrammeEvent) -> str | None:
    """One line for a log or a pipe; None for an event not worth a line."""
    k = ev.kind
    if k == "exercise":
        return f"== {ev.exercise}: {ev.sets} sets, {ev.placement}" + (f". {ev.note}" if ev.note else "")
    if k == "set_start":
        goal = f"{ev.reps_goal} reps" if ev.reps_goal is not None else f"{ev.seconds_goal:g} s"
        return f"   set {ev.set_index + 1} of {ev.sets}: {goal}, target {amount(ev.target, ev.unit)}"
    if k == "attempt":
        what = "rep" if ev.event.kind == "rep" else "partial"
        return f"     {what:<7} {amount(ev.event.amplitude, ev.unit):>8}  ({ev.reps_done} done)"
    if k == "set_end":
        s = ev.summary
        rate = f", success {s['success_rate']:.0%}" if s.get("success_rate") is not None else ""
        return (f"   set {ev.set_index + 1} done: {s['reps']} reps, {s['partial_reps']} partial{rate}, "
                f"best {amount(s['best_amplitude'], ev.unit)}")
    if k == "personal_best":
        return f"   personal best! {ev.exercise} {amount(ev.event.amplitude, ev.unit)}: woo hoo!"
    if k == "rest":
        return f"   rest {ev.seconds_left:.0f} s" if ev.seconds_left == int(ev.seconds_left) else None
    if k == "locked":
        return f"== {ev.exercise}: locked, {ev.note}"
    if k == "session_end":
        r = ev.report
        return f"session {r.session_id} done: {r.reps} reps in {len(r.sets)} sets"
    return None


def json_line(ev: ProgrammeEvent) -> str:
    """The event as one JSON object (for scripts)."""
    d = {k: v for k, v in vars(ev).items() if v not in (None, "", 0, 0.0) and k not in ("event", "report")}
    d["kind"] = ev.kind
    if ev.event is not None:
        d["event"] = ev.event.as_dict()
    if ev.report is not None:
        d["report"] = {"session_id": ev.report.session_id, "reps": ev.report.reps, "sets": len(ev.report.sets),
                       "personal_bests": ev.report.personal_bests, "locked": ev.report.locked}
    return json.dumps(d, default=str)


def printer(out: TextIO, as_json: bool = False):
    """A runner callback that prints each event (plain or JSON)."""
    def show(ev: ProgrammeEvent) -> None:
        text = json_line(ev) if as_json else plain_line(ev)
        if text is not None:
            print(text, file=out, flush=True)
    return show
