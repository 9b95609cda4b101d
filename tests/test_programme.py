"""A home programme runs set by set through the Puck API: targets chosen and
moved by the progression rule, every attempt in the history as it comes,
feedback on the puck, one timeline for two pucks, locked exercises skipped.
The virtual puck's "patient" does whatever exercise it is set to."""
from __future__ import annotations

import json

import pytest

import openpuck
from openpuck.cli import main
from openpuck.clinic import programme, programme_file, progression
from openpuck.clinic.history import History
from openpuck.device.events import Rep
from tests.test_sdk_fakepuck import FakePuck

PATIENT = "sim:?scenario=patient&speed=max"

ONE_PUCK = """
name = "Grip and wrist"
[[exercise]]
name = "grip_squeeze"
puck = "right_hand"
sets = 2
reps = 5
rest_s = 2
target = 15

[[exercise]]
name = "wrist_flexion"
puck = "right_hand"
sets = 2
reps = 4
target = "auto"
"""


@pytest.fixture(scope="module", autouse=True)
def _need_micropython(need_micropython) -> None:
    """Every test here runs the virtual puck."""


def run_once(text: str, pucks: dict, history: History, **kw):
    seen = []
    kw.setdefault("rest_scale", 0)
    report = programme.run(programme_file.loads(text), pucks, "anna", history, on_event=seen.append, **kw)
    return report, seen


def test_a_session_goes_set_by_set_and_the_history_holds_every_attempt(tmp_path):
    with openpuck.connect(PATIENT) as puck, History(tmp_path / "h.sqlite3") as h:
        report, seen = run_once(ONE_PUCK, {"right_hand": puck}, h)
        (session,) = h.sessions("anna")
        sets = h.sets(session.id)
        stored = [h.events(s.id) for s in sets]
    assert [(s.exercise, s.set_index) for s in sets] == [("grip_squeeze", 1), ("grip_squeeze", 2),
                                                        ("wrist_flexion", 1), ("wrist_flexion", 2)]
    assert [s.summary["reps"] for s in sets] == [5, 5, 4, 4], "a set of reps ends at its goal"
    assert [s.reps for s in sets] == [o.summary.reps for o in report.sets], "the history's figures are the runner's"
    attempts = [ev for ev in seen if ev.kind == "attempt"]
    assert sum(len(e) for e in stored) >= len(attempts)
    assert all(e.puck == "right_hand" for es in stored for e in es)
    kinds = [ev.kind for ev in seen]
    assert kinds[:2] == ["session_start", "exercise"] and kinds[-1] == "session_end" and kinds.count("set_end") == 4
    assert all(s.recording_path.exists() for s in sets), "the raw recording of each set is kept"
    # the target: the programme's 15 N first, then moved by the rule on the set's attempts
    grip1 = report.sets[0]
    rule = progression.ProgressionRule()
    assert grip1.target == 15.0
    assert report.sets[1].target == progression.next_target(15.0, grip1.summary.reps,
                                                            grip1.summary.partial_reps, rule)
    # auto: the target the puck learned and told, then moved
    wrist1 = report.sets[2]
    assert wrist1.target is not None and 20 < wrist1.target < 90
    assert [ev.target for ev in seen if ev.kind == "set_start"][2] is None   # the first wrist set learns it


def test_an_auto_target_is_the_one_the_puck_told_and_the_history_keeps_it(tmp_path):
    told = []
    with openpuck.connect(PATIENT) as puck, History(tmp_path / "h.sqlite3") as h:
        puck.on("target", told.append)
        report, seen = run_once(ONE_PUCK.split("[[exercise]]", 2)[0] + "[[exercise]]"
                                + ONE_PUCK.split("[[exercise]]", 2)[2], {"right_hand": puck}, h)
        (first, second) = h.sets(h.sessions("anna")[0].id)
    learned = [ev.value for ev in told if ev.source == "learned" and ev.value is not None]
    assert learned, "the puck tells the target it learned"
    assert report.sets[0].target == learned[-1], "the set ran at the target the puck counted against at its end"
    assert first.target == learned[-1], "and the history keeps it"
    assert second.target == report.sets[1].target == progression.next_target(
        learned[-1], report.sets[0].summary.reps, report.sets[0].summary.partial_reps, progression.ProgressionRule())
    attempts = [ev for ev in seen if ev.kind == "attempt" and ev.set_index == 0]
    assert attempts[-1].target in learned, "an attempt after the target was learned is judged against it"


def test_a_personal_best_is_told_and_celebrated_on_the_puck(tmp_path):
    fake = FakePuck("pb", bump_every_s=0.4)
    text = ONE_PUCK.split("[[exercise]]")[0] + "[[exercise]]" + ONE_PUCK.split("[[exercise]]")[1]
    try:
        with openpuck.connect(fake.url) as puck, History(tmp_path / "h.sqlite3") as h:
            report, seen = run_once(text, {"right_hand": puck}, h)
    finally:
        fake.close()
    assert [ev.kind for ev in seen].count("personal_best") == 1   # the first set beats nothing; the second ties
    leds = [m for m in fake.received if m.type == "led"]
    tones = [m["freq_hz"] for m in fake.received if m.type == "buzzer"]
    assert tones[:4] == [f for f, _ in programme.WOO_HOO[1]], "the woo hoo after the first set"
    assert tones[4:] == [f for f, _ in programme.SET_DONE[1]], "a plain set done after the second"
    assert (leds[0]["r"], leds[0]["g"], leds[0]["b"]) == programme.WOO_HOO[0][0][:3]
    assert report.personal_bests and report.personal_bests[0][2] == "N"


def test_two_pucks_in_one_set_count_each_and_share_one_timeline(tmp_path):
    text = """
name = "Both hands"
[[exercise]]
name = "grip_squeeze"
pucks = ["left_hand", "right_hand"]
mode = "bilateral"
sets = 1
reps = 4
target = 12
"""
    with openpuck.connect(PATIENT) as a, openpuck.connect(PATIENT) as b, History(tmp_path / "h.sqlite3") as h:
        report, seen = run_once(text, {"left_hand": a, "right_hand": b}, h)
        (s,) = h.sets(h.sessions("anna")[0].id)
        stored = h.events(s.id)
    reps = [e for e in stored if isinstance(e.event, Rep)]
    by_puck = {r: sum(1 for e in reps if e.puck == r) for r in ("left_hand", "right_hand")}
    assert all(n >= 4 for n in by_puck.values()), by_puck
    # one timeline: seconds since the set started on each puck's own clock
    assert all(0.0 <= e.event.t_start < 60.0 for e in reps)
    assert s.pucks == ("left_hand", "right_hand") and s.mode == "bilateral"
    assert len(report.sets[0].recordings) == 2 and all(p.exists() for p in report.sets[0].recordings)


def test_a_locked_exercise_is_skipped_until_the_one_before_goes_well(tmp_path):
    text = ONE_PUCK.replace('target = "auto"', 'target = "auto"\nunlock_after = 2')
    with openpuck.connect(PATIENT) as puck, History(tmp_path / "h.sqlite3") as h:
        first, seen = run_once(text, {"right_hand": puck}, h)
        assert first.locked == ["wrist_flexion"]
        assert any(ev.kind == "locked" and "opens after 2 sessions of grip_squeeze" in ev.note for ev in seen)
        run_once(text, {"right_hand": puck}, h)
        third, _ = run_once(text, {"right_hand": puck}, h)
    assert third.locked == [] and {s.exercise for s in third.sets} == {"grip_squeeze", "wrist_flexion"}


def test_a_programme_needs_a_puck_for_every_role(tmp_path):
    plan = programme_file.loads(ONE_PUCK.replace("right_hand", "left_hand"))
    with pytest.raises(programme.ProgrammeError, match="needs a puck for left_hand"):
        programme.Runner(plan, {"right_hand": object()}, "anna", History(tmp_path / "h.sqlite3"))


def test_the_command_line_runs_a_session_and_checks_a_file(tmp_path, capsys):
    f = tmp_path / "p.toml"
    f.write_text(ONE_PUCK)
    db = tmp_path / "h.sqlite3"
    assert main(["programme", "run", str(f), "--puck", PATIENT, "--patient", "anna", "--db", str(db),
                 "--rest-scale", "0", "--plain"]) == 0
    out = capsys.readouterr().out
    assert out.count("set 1 of 2") == 2 and "personal best!" in out and str(db) in out
    assert main(["programme", "check", str(f)]) == 0
    assert "1. grip_squeeze: 2 x 5 reps" in capsys.readouterr().out
    f.write_text(ONE_PUCK.replace("sets = 2\nreps = 5", "sets = 0\nreps = 5"))
    assert main(["programme", "check", str(f)]) == 2
    assert "line 6: sets must be a whole number from 1 to 50, got 0" in capsys.readouterr().err
    assert main(["programme", "run", str(tmp_path / "p.toml"), "--puck", "left_foot=sim:", "--patient", "a"]) == 2


def test_puck_arguments_map_to_roles():
    from openpuck.cli import CliError
    from openpuck.cli.programme import assign_pucks
    assert assign_pucks(["sim:?scenario=patient&speed=max"], ["right_hand"]) == {
        "right_hand": "sim:?scenario=patient&speed=max"}
    assert assign_pucks(["right_hand=/dev/ttyACM1", "/dev/ttyACM0"], ["left_hand", "right_hand"]) == {
        "right_hand": "/dev/ttyACM1", "left_hand": "/dev/ttyACM0"}
    with pytest.raises(CliError, match="needs a puck for left_hand"):
        assign_pucks(["right_hand=x"], ["left_hand", "right_hand"])
    with pytest.raises(CliError, match="'lefthand' is not a role"):
        assign_pucks(["lefthand=/dev/ttyACM0"], ["left_hand"])


# -- what the patient sees (issue 20) -------------------------------------------------
NOTE = 'patient_note = """\nSit at a table, forearm resting.\nStop and rest if anything hurts."""\n'


def test_the_patient_note_comes_before_the_first_set_in_plain_and_json(tmp_path, capsys):
    """The programme's note is its safety line: the first thing shown, in every output."""
    f = tmp_path / "p.toml"
    f.write_text(ONE_PUCK.replace('name = "Grip and wrist"\n', 'name = "Grip and wrist"\n' + NOTE))
    db = tmp_path / "h.sqlite3"
    args = ["programme", "run", str(f), "--puck", PATIENT, "--db", str(db), "--rest-scale", "0", "--no-feedback"]
    assert main([*args, "--patient", "anna", "--plain"]) == 0
    out = capsys.readouterr().out
    assert out.index("Stop and rest if anything hurts.") < out.index("set 1 of 2")
    assert out.splitlines()[:3] == ["== Grip and wrist, session 1", "   Sit at a table, forearm resting.",
                                    "   Stop and rest if anything hurts."]
    assert main([*args, "--patient", "anna", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0]["kind"] == "session_start" and lines[0]["session"] == 2
    assert lines[0]["note"] == "Sit at a table, forearm resting.\nStop and rest if anything hurts."
    # every key is there, a zero or a missing value too: the first set's index is 0, a learned target null
    starts = [x for x in lines if x["kind"] == "set_start"]
    assert starts[0]["set_index"] == 0 and starts[0]["reps_done"] == 0
    assert "target" in starts[2] and starts[2]["target"] is None
    assert set(lines[0]) == set(starts[0])
    # a set's summary is its figures' JSON object, as the history stores it
    ends = [x for x in lines if x["kind"] == "set_end"]
    assert ends[0]["summary"]["reps"] == ends[0]["reps_done"] and "success_rate" in ends[0]["summary"]


def test_sessions_are_numbered_per_patient_and_the_end_line_is_printed_once(tmp_path, capsys):
    f = tmp_path / "p.toml"
    f.write_text(ONE_PUCK)
    db = tmp_path / "h.sqlite3"
    with History(db) as h:     # another patient's sessions come first in the database
        for _ in range(4):
            h.end_session(h.start_session("ben", "Grip and wrist"))
    assert main(["programme", "run", str(f), "--puck", PATIENT, "--patient", "Anna Smith", "--db", str(db),
                 "--rest-scale", "0", "--no-feedback", "--plain"]) == 0
    out = capsys.readouterr().out
    assert "session 1 done:" in out and "session 5" not in out
    assert len([x for x in out.splitlines() if " reps in " in x]) == 1, out
    assert "openpuck report --patient 'Anna Smith' -o report.html" in out


def test_patient_help_says_a_name_may_have_spaces(capsys):
    with pytest.raises(SystemExit):
        main(["programme", "run", "--help"])
    assert '--patient "Anna Smith"' in " ".join(capsys.readouterr().out.split())


def test_a_recording_played_back_is_refused_for_a_programme(tmp_path, capsys):
    f = tmp_path / "p.toml"
    f.write_text(ONE_PUCK)
    rec = tmp_path / "set.opr"
    rec.write_bytes(b"")
    assert main(["programme", "run", str(f), "--puck", f"replay:{rec}", "--patient", "anna",
                 "--db", str(tmp_path / "h.sqlite3"), "--plain"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "a programme needs a live puck (sim:, serial:, ble:)" in err

    class Transport:
        readonly = True

    class Played:
        transport, url = Transport(), "replay:set.opr"
    with pytest.raises(programme.ProgrammeError, match="needs a live puck"):
        programme.Runner(programme_file.loads(ONE_PUCK), {"right_hand": Played()}, "anna",
                         History(tmp_path / "h2.sqlite3"))


def test_the_rest_names_the_next_exercise_and_bests_are_one_per_exercise(tmp_path):
    with openpuck.connect(PATIENT) as puck, History(tmp_path / "h.sqlite3") as h:
        report, seen = run_once(ONE_PUCK, {"right_hand": puck}, h, rest_scale=1, sleep=lambda s: None,
                                feedback=False)
        report2, _ = run_once(ONE_PUCK, {"right_hand": puck}, h, feedback=False)
    rests = [ev for ev in seen if ev.kind == "rest"]
    after_grip2 = [ev for ev in rests if ev.exercise == "grip_squeeze" and ev.set_index == 1]
    assert after_grip2 and all(ev.next_exercise == "wrist_flexion" for ev in after_grip2)
    assert all(ev.next_exercise == "" for ev in rests if ev.set_index == 0)
    assert not [ev for ev in rests if ev.exercise == "wrist_flexion" and ev.set_index == 1], \
        "no rest after the last set of the session"
    for r in (report, report2):
        names = [ex for ex, _, _ in r.personal_bests]
        assert len(names) == len(set(names)), r.personal_bests
    # the first session beats nothing: both exercises have a best, each the largest of the session
    assert sorted(ex for ex, _, _ in report.personal_bests) == ["grip_squeeze", "wrist_flexion"]
    bests = [ev for ev in seen if ev.kind == "personal_best"]
    for ex, amp, _ in report.personal_bests:
        assert amp == [ev.event.amplitude for ev in bests if ev.exercise == ex][-1]


def test_openpuck_programme_run_works_after_a_plain_import():
    """The README: `openpuck.programme.run(plan, {...}, "anna", History())` after `import openpuck`
    (the modules live in openpuck.clinic; the root re-exports them lazily)."""
    import subprocess
    import sys
    code = ("import openpuck; openpuck.programme.run; openpuck.programme_file.load; "
            "openpuck.history.History; openpuck.report.write_report")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


class _LastRepAtStop(FakePuck):
    """As the firmware does: a stop ends the rep under way (its event, the last
    samples), then answers; all of it in one write, so the host reads the events
    and the answer in one chunk."""

    def __init__(self, name: str) -> None:
        super().__init__(name, bump_every_s=0.3, bump_len_s=0.15)
        self.reps_before_ack = 0

    def _handle(self, m, end) -> None:
        if m.type != "stop" or not self.streaming:
            return super()._handle(m, end)
        from openpuck import protocol
        self.streaming = False
        period_us = 1_000_000 // self.rate_hz
        t_us = self._next_us % (1 << 32)
        self.reps += 1
        self.reps_before_ack = self.reps
        seq = lambda: next(self._seq) & 0xFFFF     # noqa: E731
        frames = [protocol.encode("rep", seq=seq(), exercise=self.exercise, count=self.reps,
                                  t_start_us=(t_us - 150_000) % (1 << 32), t_peak_us=(t_us - 75_000) % (1 << 32),
                                  t_end_us=t_us, amplitude=int(self.peak_n * 1000), hold_ms=0),
                  protocol.encode("samples", seq=seq(), t0_us=t_us, period_us=period_us, n=1,
                                  samples=[(0, 0, 8192, 0, 0, 0, 0)]),
                  protocol.encode("ack", seq=seq(), cmd_type=protocol.SPECS["stop"].id, cmd_seq=m.seq)]
        with self._lock:
            end.write(b"".join(frames))


@pytest.mark.parametrize("pucks", [("right_hand",), ("left_hand", "right_hand")])
def test_a_timed_set_tells_every_rep_the_summary_and_history_count(tmp_path, pucks):
    """The reps the end of a timed set cuts off (what a puck sends as it stops,
    and a second puck's while the first stops) are the set's: the app hears
    each as an attempt, so the live count, the events, the summary and the
    history are the same numbers."""
    fakes = {role: _LastRepAtStop(f"timed-{role}-{len(pucks)}") for role in pucks}
    where = f'pucks = {json.dumps(list(pucks))}\nmode = "alternate"' if len(pucks) == 2 else f'puck = "{pucks[0]}"'
    text = f'name = "Tapping"\n[[exercise]]\nname = "grip_squeeze"\n{where}\nsets = 1\nseconds = 1\ntarget = 5\n'
    try:
        conns = {role: openpuck.connect(f.url) for role, f in fakes.items()}
        with History(tmp_path / "h.sqlite3") as h:
            report, seen = run_once(text, conns, h, feedback=False)
            (s,) = h.sets(h.sessions("anna")[0].id)
        for c in conns.values():
            c.close()
    finally:
        for f in fakes.values():
            f.close()
    attempts = [ev for ev in seen if ev.kind == "attempt"]
    (end,) = [ev for ev in seen if ev.kind == "set_end"]
    sent = sum(f.reps_before_ack for f in fakes.values())
    assert end.summary.reps == sent == s.reps, "every rep a puck sent before it stopped is the set's"
    assert attempts[-1].reps_done == end.reps_done == sent, "the live count ends at the set's count"
    assert len(attempts) == end.summary.reps + end.summary.partial_reps


def test_stop_returns_after_the_events_sent_before_its_answer_went_to_the_callbacks():
    """What the runner's timed sets rely on: a puck's events and its stop's
    answer read in one chunk reach the callbacks before stop() returns."""
    import threading
    fake = _LastRepAtStop("stop-order")
    fake.bump_every_s = 1e9       # no rep of its own: the stop's is the only one
    seen: list = []
    returned = threading.Event()

    def slow(ev) -> None:
        returned.wait(0.5)        # a busy app: before the fix, stop() had returned by now
        seen.append(ev)
    try:
        with openpuck.connect(fake.url) as puck:
            puck.start(exercise="grip_squeeze", target=5)
            puck.on("rep", slow)
            puck.stop()
            at_return = len(seen)
            returned.set()
    finally:
        fake.close()
    assert fake.reps_before_ack == 1 and at_return == 1


# -- the views, from the runner's events ----------------------------------------------
def _drawn(view) -> str:
    from rich.console import Console
    con = Console(record=True, width=160, color_system=None)
    con.print(view.render())
    return " ".join(con.export_text().split())


def _rep(kind: str, amplitude: float):
    from openpuck.device.events import PartialRep
    cls = Rep if kind == "rep" else PartialRep
    fields = dict(t=1.0, t_start=0.5, t_peak=0.8, t_end=1.0, amplitude=amplitude, unit="N", count=1,
                  exercise="grip_squeeze")
    import dataclasses
    return cls(**{f.name: fields[f.name] for f in dataclasses.fields(cls) if f.name in fields})


def test_the_live_view_keeps_the_note_and_the_latest_best_of_each_exercise():
    pytest.importorskip("rich")
    from openpuck.clinic.programme import ProgrammeEvent as E
    from openpuck.clinic.programme_view import ProgrammeView
    v = ProgrammeView("Grip and wrist: anna")
    v.update(E("session_start", programme="Grip and wrist", session=1, note="Stop and rest if anything hurts."))
    v.update(E("exercise", "grip_squeeze", sets=2, unit="N", placement="in the hand"))
    v.update(E("set_start", "grip_squeeze", 0, 0, 2, None, "N", 5))
    v.update(E("attempt", "grip_squeeze", 0, 0, 2, None, "N", 5, reps_done=1, event=_rep("rep", 34.4)))
    text = _drawn(v)
    assert "Stop and rest if anything hurts." in text
    assert "target: learned from the first reps" in text and "against learning" not in text
    assert "34.4 N: a rep (the target is being learned" in text
    for amp in (20.0, 25.0):
        v.update(E("personal_best", "grip_squeeze", unit="N", event=_rep("rep", amp)))
    v.update(E("personal_best", "grip_squeeze", unit="N", event=_rep("rep", 9.0), mode="alternate",
               pucks=("left_hand", "right_hand")))
    v.update(E("personal_best", "wrist_flexion", unit="deg", event=_rep("rep", 50.2)))
    v.update(E("rest", "grip_squeeze", 0, 1, 2, seconds_left=3, next_exercise="wrist_flexion"))
    text = _drawn(v)
    assert "grip_squeeze: 25.0 N" in text and "20.0 N" not in text, "only the latest best per exercise"
    assert "grip_squeeze (alternate): 9.0 N" in text and "wrist_flexion: 50.2°" in text
    assert "Stop and rest if anything hurts." in text, "the safety line stays in view"
    assert "wrist_flexion comes next" in text and "the next set" not in text


def test_the_live_view_shows_an_auto_target_once_the_puck_has_learned_it():
    pytest.importorskip("rich")
    from openpuck.clinic.programme import ProgrammeEvent as E
    from openpuck.clinic.programme_view import ProgrammeView
    v = ProgrammeView("Grip: anna")
    v.update(E("exercise", "grip_squeeze", sets=1, unit="N", placement="in the hand"))
    v.update(E("set_start", "grip_squeeze", 0, 0, 1, None, "N", 5))
    v.update(E("attempt", "grip_squeeze", 0, 0, 1, 21.5, "N", 5, reps_done=1, event=_rep("rep", 24.0)))
    text = _drawn(v)
    assert "target 21.5 N" in text and "learned from the first reps" not in text
    assert "24.0 N against 21.5 N: reached the target" in text


def test_a_set_without_a_rep_says_so():
    from openpuck.clinic.programme import ProgrammeEvent as E
    from openpuck.clinic.programme_view import plain_line
    from openpuck.offline.summary import SetSummary
    none = SetSummary.of([], exercise="grip_squeeze", unit="N")
    line = plain_line(E("set_end", "grip_squeeze", 0, 0, 2, 15.0, "N", 5, summary=none))
    assert "no attempt made" in line and "best" not in line
    short = SetSummary.of([_rep("partial_rep", 9.0)], exercise="grip_squeeze", unit="N")
    line = plain_line(E("set_end", "grip_squeeze", 0, 0, 2, 15.0, "N", 5, summary=short))
    assert "0 reps, 1 partial" in line and "no rep made" in line and "0.0 N" not in line


def test_the_plain_rest_line_names_the_next_exercise():
    from openpuck.clinic.programme import ProgrammeEvent as E
    from openpuck.clinic.programme_view import plain_line
    assert plain_line(E("rest", "grip_squeeze", seconds_left=3, next_exercise="wrist_flexion")) == \
        "   rest 3 s, then wrist_flexion"
    assert plain_line(E("rest", "grip_squeeze", seconds_left=3)) == "   rest 3 s, then the next set"
