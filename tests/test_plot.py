"""openpuck plot: signals with reps and grips marked, the summary in the title."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openpuck.cli import main
from openpuck.offline.recording import load_session
from tests.toolchain import need_shared

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "synthetic-dev"


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    import time

    import openpuck
    from tests.test_sdk_fakepuck import FakePuck
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
    from openpuck.offline.plot import plot_session
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


DATA = Path(__file__).resolve().parent / "data"
ANKLE = DATA / "ankle_dorsiflexion-2000.csv"     # 5 reps at 100 Hz, target learned at 19.3 deg


@pytest.fixture
def saved(monkeypatch):
    """The figures the commands save: the tests look inside them, not at pixels."""
    from matplotlib.figure import Figure
    figs = []
    real = Figure.savefig

    def savefig(self, *a, **k):
        self.saved_dpi = k.get("dpi")
        figs.append(self)
        return real(self, *a, **k)
    monkeypatch.setattr(Figure, "savefig", savefig)
    return figs


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)   # closing the figure after saving took its canvas away
    if getattr(fig, "saved_dpi", None):
        fig.set_dpi(fig.saved_dpi)   # text and lines are laid out as in the file
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _at(why, x):
    """The sample of an Explanation at plot time x (s from its first sample)."""
    return min(int(np.searchsorted(why.t - why.t[0], x - 1e-9)), len(why.t) - 1)


@pytest.mark.parametrize("target", [None, "15"])
def test_detect_explain_keeps_title_legend_and_rep_numbers_apart(target, saved, tmp_path, capsys):
    argv = ["detect", str(ANKLE), "-e", "ankle_dorsiflexion", "--explain", str(tmp_path / "why.png")]
    assert main(argv + (["--target", target] if target else [])) == 0
    fig = saved[-1]
    r = _renderer(fig)
    ax = fig.axes[0]
    numbers = [t.get_window_extent(r) for t in ax.texts if t.get_text().isdigit()]
    assert len(numbers) == 5, "each rep's number is above it"
    title = (ax.title if ax.title.get_text() else fig._suptitle).get_window_extent(r)
    legend = (ax.get_legend() or fig.legends[0]).get_window_extent(r)
    assert title.y0 >= max(b.y1 for b in numbers), "the title is above the rep numbers' row"
    assert not any(b.overlaps(legend) for b in numbers)
    assert not legend.overlaps(ax.get_window_extent(r)), "the legend is outside the plotted area"
    assert not legend.overlaps(ax.xaxis.get_tightbbox(r)), "and clear of the time axis and its label"
    assert not legend.overlaps(title)
    assert all(0 <= b.x0 and b.x1 <= fig.bbox.width and b.y1 <= fig.bbox.height for b in (title, legend))


@pytest.mark.parametrize("target", [None, "15"])
def test_detect_explain_draws_the_target_and_the_partial_rep_level(target, saved, tmp_path, capsys):
    from openpuck.offline.detect import explain
    argv = ["detect", str(ANKLE), "-e", "ankle_dorsiflexion", "--explain", str(tmp_path / "why.png")]
    assert main(argv + (["--target", target] if target else [])) == 0
    why = explain(str(ANKLE), exercise="ankle_dorsiflexion", target=float(target) if target else None)
    det = why.detection
    lines = {ln.get_label(): ln for ln in saved[-1].axes[0].lines}
    label = [lab for lab in lines if lab.startswith("target")]
    assert len(label) == 1, sorted(lines)
    assert f"{det.target:g} deg" in label[0] and ("learned" in label[0]) == (target is None)
    x, y = lines[label[0]].get_data()
    i = np.nonzero(np.isfinite(y))[0]
    assert len(i), "the target is drawn"
    if target is None:
        assert x[i[0]] > 0, "a learned target shows from when it settles"
    for k in (i[0], i[len(i) // 2], i[-1]):
        j = _at(why, x[k])
        assert y[k] == pytest.approx(why.rest[j] + (why.side[j] or 1) * why.target[j])
    assert why.target[_at(why, x[i[-1]])] == det.target
    partial = [ln for lab, ln in lines.items() if lab.startswith("partial")]
    assert len(partial) == 1, "the level a partial rep must reach is drawn too"
    x, y = partial[0].get_data()
    for k in (0, len(x) // 2, len(x) - 1):
        j = _at(why, x[k])
        assert y[k] == pytest.approx(2 * why.off[j] - why.end[j])


def test_plot_from_keeps_the_recordings_own_time(saved, tmp_path, capsys):
    full = load_session(ANKLE, exercise="ankle_dorsiflexion")
    t0 = full.samples.t[0]
    assert main(["plot", str(ANKLE), "--exercise", "ankle_dorsiflexion", "-o", str(tmp_path / "w.png"),
                 "--from", "5", "--to", "15"]) == 0
    fig = saved[-1]
    lo, hi = fig.axes[0].get_xlim()
    assert 5 <= lo < 5.02 and 14.98 < hi <= 15, "the x axis is the recording's time, from --from to --to"
    xs, _ = fig.axes[3].lines[0].get_data()
    assert 5 <= np.nanmin(xs) < 5.02
    window = full.window(5, 15)
    xs, _ = fig.axes[4].lines[0].get_data()
    assert list(xs) == pytest.approx([r.t_peak - t0 for r in window.of("rep")])
    numbers = [float(a.xy[0]) for a in fig.axes[3].texts]
    assert numbers == pytest.approx([r.t_peak - t0 for r in window.of("rep") if 5 <= r.t_peak - t0 <= 15]), \
        "rep numbers only over the reps whose peak is in the window"
    assert "first sample" in fig.axes[4].get_xlabel()


def test_plot_per_rep_panel_shows_noise_as_noise_and_no_axis_uses_an_offset():
    import dataclasses

    from openpuck.offline.plot import plot_session
    s = load_session(ANKLE, exercise="ankle_dorsiflexion")
    noise = iter([0.0, 0.007, 0.003, 0.005, 0.001])
    # five reps within 0.007 deg of each other: the same movement five times
    s.events = [dataclasses.replace(e, amplitude=19.3 + next(noise)) if e.kind == "rep" else e
                for e in s.events]
    fig = plot_session(s)
    _renderer(fig)
    lo, hi = fig.axes[4].get_ylim()
    assert hi - lo >= 0.1 * s.target - 1e-9, "the per-rep panel spans at least 10% of the target"
    assert lo < 19.3 and hi > 19.307
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            assert axis.get_major_formatter().get_offset() == "", (ax.get_ylabel(), axis.axis_name)
