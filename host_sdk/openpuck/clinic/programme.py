"""Run a home programme on one or two pucks, set by set, through the Puck API.

    from openpuck.clinic import programme, programme_file
    from openpuck.clinic.history import History

    plan = programme_file.load("programmes/hand_arm.toml")
    with openpuck.connect("serial:/dev/ttyACM0") as puck, History() as history:
        report = programme.run(plan, {"right_hand": puck}, "anna", history,
                               on_event=print)

For each exercise (skipped while it is locked, :func:`openpuck.clinic.progression.unlocked`)
and each set: choose the target (the programme's, the last session's moved
by the progression rule, or ``auto``: learned by the puck, which tells it),
record the set's raw bytes beside the history, send set_exercise and start
to every puck of the set,
count: every rep, partial rep and grip goes into the history as it comes, and
the set ends at its reps (every puck's, for two pucks: what comes after the
goal, while the puck stops, stays in the recording only) or its seconds of
the puck's time (the rep the end cuts off counts), or after ``give_up_s``
with no attempt. Then stop, sum up, give
feedback on the puck (a short flash and beep for a set done; the "woo hoo" of
a personal best: the LED through green, blue and white with a rising
arpeggio), move the next set's target (:func:`openpuck.clinic.progression.next_target`)
and rest. An app sees all of it through ``on_event`` (:class:`ProgrammeEvent`).
"""
from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import exercises
from ..device.events import Event, PartialRep, Rep, Target
from ..errors import OpenPuckError
from ..offline.recording import RecordingError
from ..offline.summary import SetSummary
from . import progression
from .history import History
from .programme_events import (  # noqa: F401
    SET_DONE,
    WOO_HOO,
    ProgrammeError,
    ProgrammeEvent,
    SessionReport,
    SetOutcome,
    _SetCounter,
    _text,
    _then,
)
from .programme_file import Programme, ProgrammeExercise

log = logging.getLogger("openpuck")


class Runner:
    """One session of ``plan`` for ``patient`` on ``pucks`` (role -> an open
    :class:`openpuck.Puck`, the roles the programme names), written to ``history``.

    ``rest_scale`` multiplies every rest (0 skips them: demos, tests);
    ``give_up_s`` ends a set after that long of the puck's time with no
    attempt; ``feedback`` lights and beeps the puck; ``rate_hz`` samples;
    ``pull_log`` first pulls what each puck logged while no host listened into
    the history (:func:`~openpuck.clinic.history_log.pull_into_history`)."""

    def __init__(self, plan: Programme, pucks: dict[str, Any], patient: str, history: History, *,
                 on_event: Callable[[ProgrammeEvent], None] | None = None, rest_scale: float = 1.0,
                 give_up_s: float = 60.0, feedback: bool = True, rate_hz: int = 200,
                 sleep: Callable[[float], None] = time.sleep, pull_log: bool = False) -> None:
        needed = sorted({r for ex in plan.exercises for r in ex.pucks})
        missing = [r for r in needed if r not in pucks]
        if missing:
            raise ProgrammeError(f"{plan.source}: the programme needs a puck for {', '.join(missing)} "
                                 f"(given: {', '.join(sorted(pucks)) or 'none'}); "
                                 f"e.g. --puck {missing[0]}=serial:/dev/ttyACM0")
        for role in needed:
            if getattr(getattr(pucks[role], "transport", None), "readonly", False):
                raise ProgrammeError(f"{role}: {getattr(pucks[role], 'url', 'the puck')} is a recording played "
                                     f"back; a programme needs a live puck (sim:, serial:, ble:)")
        self.plan, self.pucks, self.patient, self.history = plan, pucks, patient, history
        self._bests: dict[tuple, tuple[str, float, str]] = {}
        self.on_event = on_event or (lambda ev: None)
        self.rest_scale, self.give_up_s, self.feedback = rest_scale, give_up_s, feedback
        self.rate_hz, self.sleep, self.pull_log = rate_hz, sleep, pull_log
        self.report: SessionReport | None = None

    # -------------------------------------------------------------- the session
    def run(self) -> SessionReport:
        with self.history.session_lock(self.patient, what=f"a session of {self.plan.name}"):
            if self.pull_log:
                self._pull_logs()
            sid = self.history.start_session(self.patient, self.plan.name)
            # the patient counts their own sessions of this programme, not the database's rows
            number = sum(1 for s in self.history.sessions(self.patient) if s.programme == self.plan.name)
            self.report = SessionReport(sid, self.patient, self.plan.name, number=number)
            try:
                self.on_event(ProgrammeEvent("session_start", note=self.plan.patient_note,
                                             programme=self.plan.name, session=number))
                for i, ex in enumerate(self.plan.exercises):
                    if not self._open(i):
                        self.report.locked.append(ex.exercise)
                        self.on_event(ProgrammeEvent("locked", ex.exercise, i, note=self._lock_text(i)))
                        continue
                    self._exercise(i, ex)
            except BaseException as first:
                self._stop_pucks()
                # the first failure is the one to tell: a history that cannot take a rep
                # usually cannot end the session either, and that second error says less
                _then(first, lambda: self.history.end_session(sid))
                raise
            self._stop_pucks()
            self.history.end_session(sid)
        self.on_event(ProgrammeEvent("session_end", report=self.report))
        return self.report

    def _pull_logs(self) -> None:
        """The sets each puck counted while no host listened, into the history first
        (the progression then sees them); a puck that cannot give its log is said, not fatal."""
        from .history_log import pull_into_history
        for puck in {id(p): p for p in self.pucks.values()}.values():
            try:
                pull_into_history(puck, self.history, self.patient)
            except OpenPuckError as e:
                log.warning("openpuck: %s: its log not pulled (%s)", getattr(puck, "url", "a puck"), e)

    def _running(self) -> SessionReport:
        """The session's report, there once run() has started the session."""
        assert self.report is not None, "a set runs inside a session: call run()"
        return self.report

    def _stop_pucks(self) -> None:
        for puck in self.pucks.values():
            if puck.streaming:
                try:
                    puck.stop()
                except OpenPuckError:
                    pass

    def _open(self, i: int) -> bool:
        ex = self.plan.exercises[i]
        if not ex.unlock_after or i == 0:
            return True
        prev = self.plan.exercises[i - 1]
        hist = self.history.set_history(self.patient, prev.exercise, pucks=prev.pucks, mode=prev.mode)
        return progression.unlocked(hist, self.plan.rule_for(i))

    def _lock_text(self, i: int) -> str:
        prev = self.plan.exercises[i - 1]
        rule = self.plan.rule_for(i)
        return (f"opens after {rule.unlock_sessions} sessions of {prev.exercise} with "
                f"{rule.success_low:.0%} of attempts reaching the target")

    def _first_target(self, i: int, ex: ProgrammeExercise) -> float | None:
        """The session's first target: None lets the puck learn it (auto)."""
        if ex.target == "auto":
            return None
        rule = self.plan.rule_for(i)
        hist = self.history.set_history(self.patient, ex.exercise, pucks=ex.pucks, mode=ex.mode)
        default = None if ex.target == "last" else float(ex.target)
        try:
            return progression.session_target(hist, rule, default=default)
        except progression.NoHistory:
            return None

    def _exercise(self, i: int, ex: ProgrammeExercise) -> None:
        cat = exercises.get(ex.exercise)
        self.on_event(ProgrammeEvent("exercise", ex.exercise, i, sets=ex.sets, unit=cat.unit,
                                     placement=cat.placement, note=ex.note or cat.motion))
        rule = self.plan.rule_for(i)
        target = self._first_target(i, ex)
        for k in range(ex.sets):
            out = self._set(i, ex, k, target)
            self._running().sets.append(out)
            if out.target is not None:
                target = progression.next_target(out.target, out.summary.reps, out.summary.partial_reps, rule)
            following = "" if k + 1 < ex.sets else self._next_open(i + 1)
            if k + 1 < ex.sets or following:
                self._rest(ex, i, k, following)

    # -------------------------------------------------------------- one set
    def _set(self, i: int, ex: ProgrammeExercise, k: int, target: float | None) -> SetOutcome:
        cat = exercises.get(ex.exercise)
        roles = list(ex.pucks)
        sid = self._running().session_id
        best_before = self.history.personal_best(self.patient, ex.exercise, pucks=ex.pucks, mode=ex.mode)
        set_id = self.history.start_set(sid, ex.exercise, k + 1, target, cat.unit, roles, mode=ex.mode)
        first_path = self.history.recording_of(set_id)
        assert first_path is not None     # start_set gave the set its default place
        paths = [first_path if n == 0 else first_path.with_name(f"{first_path.stem}-{role}.opr")
                 for n, role in enumerate(roles)]
        self._start_recordings(set_id, f"set {k + 1} of {ex.exercise}", roles, paths)
        counter = _SetCounter(roles)
        hooks = []
        for role, _path in zip(roles, paths):
            puck = self.pucks[role]
            for kind in ("rep", "partial_rep", "grip", "target"):
                hooks.append((puck, kind, puck.on(kind, counter.event(role))))
            hooks.append((puck, "samples", puck.on("samples", counter.samples(role))))
        self.on_event(ProgrammeEvent("set_start", ex.exercise, i, k, ex.sets, target, cat.unit,
                                     ex.reps, ex.seconds, pucks=ex.pucks, mode=ex.mode or ""))
        events: list[Event] = []
        try:
            for role in roles:
                self.pucks[role].start(exercise=ex.exercise, target="auto" if target is None else target,
                                       rate_hz=self.rate_hz)
            self._count(i, ex, k, target, cat.unit, set_id, counter, events)
        finally:
            for role in roles:
                try:
                    self.pucks[role].stop()
                except OpenPuckError:
                    pass
            if ex.seconds is not None:
                # A timed set: the reps the end of the set cut off are the set's, and so
                # are a second puck's while the first stops. Every puck is stopped
                # first: a puck's events all come before its stop's answer, and
                # Puck.stop() returns after they went to the callbacks, so the queue
                # now holds the last of them; each is told as an attempt, as in the set.
                self._drain(i, ex, k, target, cat.unit, set_id, counter, events)
            else:
                # a set of reps ends at its goal: what the puck reports while
                # stopping stays in the set's recording, not in its count; but
                # the target the goal's rep moved is the set's
                self._last_targets(counter)
            for role in roles:
                self.pucks[role].stop_recording()
            for puck, kind, fn in hooks:
                puck.off(kind, fn)
        learned = target if target is not None else self._reported(roles[0], counter)
        summary = SetSummary.of(events, exercise=ex.exercise, unit=cat.unit, target=learned)
        best = max((e.amplitude for e in events if isinstance(e, Rep)), default=None)
        new_best = best is not None and (best_before is None or best > best_before.amplitude)
        self.history.end_set(set_id, summary=summary.to_dict())
        out = SetOutcome(ex.exercise, k + 1, learned, summary, paths, new_best)
        self.on_event(ProgrammeEvent("set_end", ex.exercise, i, k, ex.sets, learned, cat.unit, ex.reps,
                                     ex.seconds, summary.reps, summary.partial_reps, summary=summary,
                                     pucks=ex.pucks, mode=ex.mode or ""))
        if new_best:
            rep = max((e for e in events if isinstance(e, Rep)), key=lambda e: e.amplitude)
            # one best per exercise, pucks and mode: a later best of the session replaces an earlier one
            self._bests[(ex.exercise, ex.pucks, ex.mode)] = (ex.exercise, rep.amplitude, cat.unit)
            self._running().personal_bests = list(self._bests.values())
            self.on_event(ProgrammeEvent("personal_best", ex.exercise, i, k, ex.sets, learned, cat.unit,
                                         event=rep, pucks=ex.pucks, mode=ex.mode or ""))
        self._feedback(roles, WOO_HOO if new_best else SET_DONE)
        return out

    def _start_recordings(self, set_id: int, which: str, roles: list[str], paths: list[Path]) -> None:
        """Start each puck's recording of the set, readable by the user only
        (patient data). One that cannot start (a full disk) stops the
        programme: the recordings already started are closed and every one
        of this set removed (none holds a byte from the pucks yet), and the
        set is ended in the history, empty, so that nothing stays open."""
        started: list[str] = []
        try:
            for role, path in zip(roles, paths):
                self.pucks[role].record(str(path), overwrite=True, private=True)
                started.append(role)
        except (RecordingError, OSError) as e:
            for role in started:
                self.pucks[role].stop_recording()
            for path in paths:
                path.unlink(missing_ok=True)
            err = ProgrammeError(f"{which} cannot be recorded, so the session stops here: {_text(e)}")
            _then(err, lambda: self.history.end_set(set_id))
            raise err from e

    def _count(self, i: int, ex: ProgrammeExercise, k: int, target: float | None, unit: str, set_id: int,
               counter: _SetCounter, events: list[Event]) -> None:
        last_attempt = 0.0
        while True:
            try:
                role, ev = counter.q.get(timeout=0.1)
            except queue.Empty:
                role, ev = "", None
            if ev is not None and self._take(i, ex, k, target, unit, set_id, counter, events, role, ev):
                last_attempt = counter.seconds()
            if ex.reps is not None and all(n >= ex.reps for n in counter.reps.values()):
                return
            done = counter.seconds()
            if ex.seconds is not None and done >= ex.seconds:
                return
            if done - last_attempt >= self.give_up_s:
                return
            if not all(self.pucks[r].connected or self.pucks[r].transport.reconnectable for r in counter.reps):
                raise ProgrammeError(f"{ex.exercise}: a puck went away for good during set {k + 1}")

    def _take(self, i: int, ex: ProgrammeExercise, k: int, target: float | None, unit: str, set_id: int,
              counter: _SetCounter, events: list[Event], role: str, ev: Event) -> bool:
        """Keep one event of the set and tell an attempt (rep or partial rep) to
        the app: the count it sees is the count of the set, the target the one
        the puck counts against (an auto target once it is learned). True for
        an attempt."""
        if isinstance(ev, Target):
            counter.targets[role] = ev.value
            return False
        ev = counter.aligned(role, ev)
        self.history.add_event(set_id, ev, role)   # on the disk before anything else
        events.append(ev)
        if isinstance(ev, Rep):
            counter.reps[role] += 1
        if not isinstance(ev, (Rep, PartialRep)):
            return False
        self.on_event(ProgrammeEvent(
            "attempt", ex.exercise, i, k, ex.sets, target if target is not None else counter.targets.get(role),
            unit, ex.reps, ex.seconds,
            sum(counter.reps.values()), sum(1 for e in events if isinstance(e, PartialRep)),
            counter.seconds(), puck=role, event=ev, pucks=ex.pucks, mode=ex.mode or ""))
        return True

    def _drain(self, i: int, ex: ProgrammeExercise, k: int, target: float | None, unit: str, set_id: int,
               counter: _SetCounter, events: list[Event]) -> None:
        """Events that arrived with the stop: they belong to the set."""
        while True:
            try:
                role, ev = counter.q.get_nowait()
            except queue.Empty:
                return
            self._take(i, ex, k, target, unit, set_id, counter, events, role, ev)

    @staticmethod
    def _last_targets(counter: _SetCounter) -> None:
        """The targets still queued after a set of reps reached its goal (the
        rest of the queue is not the set's)."""
        while True:
            try:
                role, ev = counter.q.get_nowait()
            except queue.Empty:
                return
            if isinstance(ev, Target):
                counter.targets[role] = ev.value

    def _reported(self, role: str, counter: _SetCounter) -> float | None:
        """The target the puck ``role`` counted against at the end of the set,
        as it told (an auto target it learned); from its latest status when
        its target message was lost; None when it never learned one."""
        if role in counter.targets:
            return counter.targets[role]
        told = getattr(self.pucks[role], "target", None)
        return told if isinstance(told, (int, float)) else None

    # -------------------------------------------------------------- between sets
    def _rest(self, ex: ProgrammeExercise, i: int, k: int, following: str = "") -> None:
        """Count down the rest after set ``k``; ``following``: the next exercise if another comes."""
        left = ex.rest_s * self.rest_scale
        while left > 0:
            self.on_event(ProgrammeEvent("rest", ex.exercise, i, k, ex.sets, seconds_left=left,
                                         next_exercise=following))
            step = min(1.0, left)
            self.sleep(step)
            left -= step

    def _next_open(self, i: int) -> str:
        """The exercise the session goes on with from index ``i`` (a locked one is skipped), or ""."""
        for j in range(i, len(self.plan.exercises)):
            if self._open(j):
                return self.plan.exercises[j].exercise
        return ""

    def _feedback(self, roles: list[str], pattern: tuple) -> None:
        if not self.feedback:
            return
        flashes, tones = pattern
        for role in roles:
            puck = self.pucks[role]
            try:
                for (r, g, b, s), (hz, ts) in zip(flashes + flashes[-1:] * len(tones), tones):
                    if puck.info is not None and "led" in puck.info.capabilities:
                        puck.led(r, g, b, duration=s)
                    if puck.info is not None and "buzzer" in puck.info.capabilities:
                        puck.buzzer(hz, ts)
                    self.sleep(ts)
            except OpenPuckError:
                pass   # feedback is a courtesy: a refused flash never stops the programme


def run(plan: Programme, pucks: dict[str, Any], patient: str, history: History, **options: Any) -> SessionReport:
    """One session of ``plan`` (see :class:`Runner` for the options)."""
    return Runner(plan, pucks, patient, history, **options).run()
