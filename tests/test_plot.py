"""openpuck plot: signals with reps and grips marked, the summary in the title."""
from __future__ import annotations

from pathlib import Path

import pytest

from openpuck.cli import main
from openpuck.recording import load_session
from tests.toolchain import need_shared

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "synthetic-dev"


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    from tests.test_sdk_fakepuck import FakePuck
    import openpuck
    import time
    fake = FakePuck("plot-rec")
    p = tmp_path_factory.mktemp("plot") / "s.opr"
    try:
        with openpuck.connect(fake.url, record=str(p)) as puck:
            puck.start()
            time.sleep(0.7)
            t = fake.device_us() * 1e-6
            fake.skip_samples = (t + 0.1, t + 0.2)
            time.sleep(1.2)
    finally:
        fake.close()
    return p


def test_plot_of_a_recording_is_a_png_with_the_summary_in_the_title(recording, tmp_path, capsys):
    from openpuck.plot import plot_session
    out = tmp_path / "s.png"
    assert main(["plot", str(recording), "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
    fig = plot_session(load_session(recording))
    title = fig._suptitle.get_text()
    assert "grip_squeeze" in title and " reps" in title and "grips" in title and "1 gaps" in title
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels[:5] == ["accel (g)", "gyro (deg/s)", "force (N)", "signal (N)", "per rep (N)"]
    reps = [ev for ev in load_session(recording).events if ev.kind == "rep"]
    xs, ys = fig.axes[4].lines[0].get_data()
    assert list(ys) == [r.amplitude for r in reps], "the trend panel shows each rep's amplitude"


def test_plot_window_shows_only_that_stretch(recording, tmp_path, capsys):
    s = load_session(recording)
    part = s.window(0.5, 1.5)
    assert part.samples.t[0] - s.samples.t[0] >= 0.5 - 1e-9 and part.samples.t[-1] - s.samples.t[0] <= 1.5 + 1e-9
    assert all(e.t_end - s.samples.t[0] >= 0.5 for e in part.events if e.kind == "rep")
    assert 0 < len(part.samples) < len(s.samples)
    out = tmp_path / "w.png"
    assert main(["plot", str(recording), "-o", str(out), "--from", "0.5", "--to", "1.5"]) == 0
    assert out.stat().st_size > 10_000
    assert main(["plot", str(recording), "-o", str(out), "--from", "1.2", "--to", "1"]) == 2
    assert "--to (1 s) must come after --from (1.2 s)" in capsys.readouterr().err
    assert main(["plot", str(recording), "-o", str(out), "--from", "nan"]) == 2
    assert "--from must be between 0 and" in capsys.readouterr().err


def test_plot_of_a_samples_csv_runs_the_detector(tmp_path, capsys):
    need_shared("data", "synthetic-dev")
    out = tmp_path / "arm.png"
    assert main(["plot", str(SHARED / "arm_raise-2006.csv"), "--exercise", "arm_raise", "-o", str(out)]) == 0
    assert "4 reps" in capsys.readouterr().out
    assert out.stat().st_size > 20_000


@pytest.mark.parametrize("argv, msg", [
    (["plot", "x.opr", "-o", "x.txt"], ".png, .svg or .pdf"),
    (["plot", "/nonexistent.opr", "-o", "x.png"], "no such file"),
    (["plot", "x.opr", "-o", "x.png", "--exercise", "yoga"], "--exercise 'yoga'"),
])
def test_plot_errors_are_one_line(argv, msg, capsys):
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0]
