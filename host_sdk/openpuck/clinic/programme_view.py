"""What a patient sees while a programme runs: the live terminal view (rich)
and the plain one-line-per-event form, both fed by the runner's events
(:class:`openpuck.clinic.programme.ProgrammeEvent`).

The live view shows the programme's note to the patient (its safety line,
from before the first set to the end), the exercise and where the puck
goes, the set (3 of 4), a progress bar of the set (reps of the goal, or
seconds of a timed set), the count, the last rep's amplitude against the
target, a rest countdown, and the session's latest personal best of each
exercise. :meth:`ProgrammeView.render` returns the
renderable, so a test draws it into any rich Console.
"""
from __future__ import annotations

import json
from typing import Any, TextIO

from ..device.events import PartialRep, Rep
from ..offline.summary import SetSummary
from . import units
from .programme import ProgrammeEvent

LEARNING = "learned from the first reps"


def amount(value: float | None, unit: str) -> str:
    """39.8° or 21.4 N; "learned from the first reps" for a target not known yet."""
    return units.amount(value, unit, none=LEARNING)


def target_text(value: float | None, unit: str) -> str:
    """``target 21.4 N``, or ``target: learned from the first reps``."""
    return f"target: {LEARNING}" if value is None else f"target {amount(value, unit)}"


def _attempt(ev: ProgrammeEvent) -> Rep | PartialRep:
    """The rep or partial rep an "attempt" or "personal_best" event carries."""
    if not isinstance(ev.event, (Rep, PartialRep)):
        raise TypeError(f"a {ev.kind} event carries a rep or a partial rep, not {ev.event!r}")
    return ev.event


def best_key(ev: ProgrammeEvent) -> str:
    """Which personal best an event is: the exercise, and with two pucks its mode."""
    return ev.exercise + (f" ({ev.mode})" if ev.mode else "")


def set_result(ev: ProgrammeEvent) -> str:
    """A set_end's counts: ``10 reps, 2 partial, success 83%, best 21.4 N``."""
    s = ev.summary or SetSummary()
    rate = f", success {s.success_rate:.0%}" if s.success_rate is not None else ""
    if not s.reps:
        made = "no rep made" if s.partial_reps else "no attempt made"
        return f"0 reps, {s.partial_reps} partial{rate}: {made}"
    return f"{s.reps} reps, {s.partial_reps} partial{rate}, best {amount(s.best_amplitude, ev.unit)}"


def rest_text(ev: ProgrammeEvent) -> str:
    """What comes after a rest: the next set, or the next exercise by name."""
    return f"then {ev.next_exercise}" if ev.next_exercise else "then the next set"


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
        self.reps = 0
        self.timed = False
        self.last_rep = ""
        self.resting = 0.0
        self.bests: dict[str, str] = {}      # best_key -> its latest best
        self.lines: list[str] = []
        self.patient_note = ""
        self.next_exercise = ""

    def update(self, ev: ProgrammeEvent) -> None:
        self.ev = ev
        k = ev.kind
        if k == "session_start":
            self.patient_note = ev.note
        elif k == "exercise":
            self.exercise, self.placement, self.note = ev.exercise, ev.placement, ev.note
            self.last_rep, self.resting = "", 0.0
        elif k == "set_start":
            self.set_text = f"set {ev.set_index + 1} of {ev.sets}"
            self.target, self.unit = ev.target, ev.unit
            self.done, self.reps, self.partials, self.resting, self.last_rep = 0, 0, 0, 0.0, ""
            self.timed = ev.reps_goal is None
            if ev.reps_goal is not None:
                self.total, self.goal = ev.reps_goal, f"{ev.reps_goal} reps"
            else:
                self.total, self.goal = int(ev.seconds_goal or 1), f"{ev.seconds_goal:g} s"
        elif k == "attempt":
            self.partials, self.reps = ev.partials_done, ev.reps_done
            self.done = ev.reps_done if ev.reps_goal is not None else int(ev.seconds_done)
            amp = units.amount(_attempt(ev).amplitude, ev.unit)
            if ev.target is None:
                what = "a rep" if _attempt(ev).kind == "rep" else "a partial rep"
                self.last_rep = f"{amp}: {what} (the target is being learned from the first reps)"
            else:
                self.target = ev.target     # an auto target, once the puck has learned it
                verdict = "reached the target" if _attempt(ev).kind == "rep" else "short of the target"
                self.last_rep = f"{amp} against {amount(ev.target, ev.unit)}: {verdict}"
        elif k == "set_end":
            self.lines.append(f"{ev.exercise} set {ev.set_index + 1}: {set_result(ev)}")
            self.reps = ev.reps_done        # the set's count: the same as the last attempt's
            self.done = ev.reps_done if ev.reps_goal is not None else self.total
        elif k == "personal_best":
            key = best_key(ev)
            self.bests.pop(key, None)       # the latest best last
            self.bests[key] = f"{key}: {amount(_attempt(ev).amplitude, ev.unit)}"
        elif k == "rest":
            self.resting, self.next_exercise = ev.seconds_left, ev.next_exercise
        elif k == "locked":
            self.lines.append(f"{ev.exercise}: locked ({ev.note})")

    def render(self) -> Any:
        from ..device.live import _rich
        rich = _rich()
        from rich.progress_bar import ProgressBar
        grid = rich.table.Table.grid(padding=(0, 2))
        grid.add_column(style="bold", justify="right")
        grid.add_column()
        if self.patient_note:
            grid.add_row("remember", self.patient_note)
        grid.add_row("exercise", f"{self.exercise}  ({self.placement})" if self.exercise else "starting")
        if self.note:
            grid.add_row("", self.note)
        if self.set_text:
            grid.add_row("set", f"{self.set_text}: {self.goal}, {target_text(self.target, self.unit)}")
            grid.add_row("progress", ProgressBar(total=max(self.total, 1), completed=min(self.done, self.total),
                                                 width=40))
            count = f"{self.reps} reps, {self.done} of {self.total} s" if self.timed else \
                f"{self.done} of {self.total}"
            grid.add_row("count", count + (f", {self.partials} short" if self.partials else ""))
        if self.last_rep:
            grid.add_row("last rep", self.last_rep)
        if self.resting > 0:
            following = f"{self.next_exercise} comes next" if self.next_exercise else "the next set"
            grid.add_row("rest", f"{self.resting:.0f} s: relax, {following} starts by itself")
        if self.bests:
            grid.add_row("personal best", "  ".join(self.bests.values()) + "  woo hoo!")
        for line in self.lines[-4:]:
            grid.add_row("", f"[dim]{line}[/dim]")
        return rich.panel.Panel(grid, title=self.title, border_style="green")


def plain_line(ev: ProgrammeEvent) -> str | None:
    """One line for a log or a pipe; None for an event not worth a line."""
    k = ev.kind
    if k == "session_start":
        head = f"== {ev.programme}, session {ev.session}"
        note = "\n".join(f"   {line}" for line in ev.note.splitlines() if line.strip())
        return head + (f"\n{note}" if note else "")
    if k == "exercise":
        return f"== {ev.exercise}: {ev.sets} sets, {ev.placement}" + (f". {ev.note}" if ev.note else "")
    if k == "set_start":
        goal = f"{ev.reps_goal} reps" if ev.reps_goal is not None else f"{ev.seconds_goal:g} s"
        return f"   set {ev.set_index + 1} of {ev.sets}: {goal}, {target_text(ev.target, ev.unit)}"
    if k == "attempt":
        what = "rep" if _attempt(ev).kind == "rep" else "partial"
        return f"     {what:<7} {amount(_attempt(ev).amplitude, ev.unit):>8}  ({ev.reps_done} done)"
    if k == "set_end":
        return f"   set {ev.set_index + 1} done: {set_result(ev)}"
    if k == "personal_best":
        return f"   personal best! {best_key(ev)} {amount(_attempt(ev).amplitude, ev.unit)}: woo hoo!"
    if k == "rest":
        return (f"   rest {ev.seconds_left:.0f} s, {rest_text(ev)}" if ev.seconds_left == int(ev.seconds_left)
                else None)
    if k == "locked":
        return f"== {ev.exercise}: locked, {ev.note}"
    if k == "session_end":
        r = ev.report
        return f"session {r.number} done: {r.reps} reps in {len(r.sets)} sets"
    return None


def json_line(ev: ProgrammeEvent) -> str:
    """The event as one JSON object (for scripts): every field, a missing one as null."""
    d = {k: v for k, v in vars(ev).items() if k not in ("event", "report", "summary")}
    d["event"] = ev.event.as_dict() if ev.event is not None else None
    d["summary"] = ev.summary.to_dict() if ev.summary is not None else None
    d["report"] = None
    if ev.report is not None:
        d["report"] = {"session_id": ev.report.session_id, "session": ev.report.number, "reps": ev.report.reps,
                       "sets": len(ev.report.sets), "personal_bests": ev.report.personal_bests,
                       "locked": ev.report.locked}
    return json.dumps(d, default=str)


def printer(out: TextIO, as_json: bool = False):
    """A runner callback that prints each event (plain or JSON)."""
    def show(ev: ProgrammeEvent) -> None:
        text = json_line(ev) if as_json else plain_line(ev)
        if text is not None:
            print(text, file=out, flush=True)
    return show
