"""A home programme runs set by set through the Puck API: targets chosen and
moved by the progression rule, every attempt in the history as it comes,
feedback on the puck, one timeline for two pucks, locked exercises skipped.
The virtual puck's "patient" does whatever exercise it is set to."""
from __future__ import annotations

import pytest

import openpuck
from openpuck import programme, programme_file, progression
from openpuck.cli import main
from openpuck.events import Rep
from openpuck.history import History
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
    report = programme.run(programme_file.loads(text), pucks, "anna", history, rest_scale=0,
                           on_event=seen.append, **kw)
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
    attempts = [ev for ev in seen if ev.kind == "attempt"]
    assert sum(len(e) for e in stored) >= len(attempts)
    assert all(e.puck == "right_hand" for es in stored for e in es)
    kinds = [ev.kind for ev in seen]
    assert kinds[0] == "exercise" and kinds[-1] == "session_end" and kinds.count("set_end") == 4
    assert all(s.recording_path.exists() for s in sets), "the raw recording of each set is kept"
    # the target: the programme's 15 N first, then moved by the rule on the set's attempts
    grip1 = report.sets[0]
    rule = progression.ProgressionRule()
    assert grip1.target == 15.0
    assert report.sets[1].target == progression.next_target(15.0, grip1.summary["reps"],
                                                            grip1.summary["partial_reps"], rule)
    # auto: learned by the same detector as the puck's, then moved
    wrist1 = report.sets[2]
    assert wrist1.target is not None and 20 < wrist1.target < 90
    assert [ev.target for ev in seen if ev.kind == "set_start"][2] is None   # the first wrist set learns it


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
    from openpuck.cli.programme import assign_pucks
    from openpuck.cli import CliError
    assert assign_pucks(["sim:?scenario=patient&speed=max"], ["right_hand"]) == {
        "right_hand": "sim:?scenario=patient&speed=max"}
    assert assign_pucks(["right_hand=/dev/ttyACM1", "/dev/ttyACM0"], ["left_hand", "right_hand"]) == {
        "right_hand": "/dev/ttyACM1", "left_hand": "/dev/ttyACM0"}
    with pytest.raises(CliError, match="needs a puck for left_hand"):
        assign_pucks(["right_hand=x"], ["left_hand", "right_hand"])
    with pytest.raises(CliError, match="'lefthand' is not a role"):
        assign_pucks(["lefthand=/dev/ttyACM0"], ["left_hand"])
