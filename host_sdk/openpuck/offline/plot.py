"""Plot a session: signals with reps and grips marked, the summary in the title.

    from openpuck.offline.plot import plot_session
    from openpuck.offline.recording import load_session
    plot_session(load_session("session.opr"), "session.png")

Panels: accelerometer (g), gyroscope (deg/s), force (N) and the exercise's
signal (force above rest for force exercises; tilt from rest for tilt
exercises, from the accelerometer; heading from the integrated z gyro).
Reps are green bands with their peak marked, partial reps orange bands,
grips blue ticks on the force panel, gaps grey hatched bands; an uncertain
rep has a red edge. Time is seconds from the recording's first sample, also
for a window of it (``session.window(300, 360)`` is drawn from 300 to 360 s).
Needs matplotlib (``pip install openpuck[plot]``, or ``pip install ".[plot]"`` in a checkout); uses
the Agg backend, no display needed.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import OpenPuckError, needs
from ..exercises import get as get_exercise

MAX_POINTS = 20_000


def _mpl():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise OpenPuckError(needs("plotting", "matplotlib", "plot")) from None
    return plt


def exercise_signal(samples: Any, exercise: str) -> tuple[np.ndarray, str]:
    """The exercise's signal from samples (an approximation of the detector's own)."""
    ex = get_exercise(exercise)
    t = samples.t
    if len(t) == 0:
        return np.empty(0), ex.unit
    if ex.signal == "force":
        f = samples.force.astype(np.float64)
        base = np.percentile(f, 10)
        return f - base, "N"
    if ex.signal == "tilt":
        a = samples.accel.astype(np.float64)
        n0 = max(1, min(len(a), 50))
        g0 = a[:n0].mean(axis=0)
        g0 /= np.linalg.norm(g0) or 1.0
        norm = np.linalg.norm(a, axis=1)
        norm[norm == 0] = 1.0
        cos = np.clip((a @ g0) / norm, -1.0, 1.0)
        return np.degrees(np.arccos(cos)), "deg"
    gz = samples.gyro[:, 2].astype(np.float64)
    n0 = max(1, min(len(gz), 50))
    gz = gz - gz[:n0].mean()
    dt = np.diff(t, prepend=t[0])
    return np.abs(np.cumsum(gz * dt)), "deg"


def _no_offsets(fig: Any) -> None:
    """Plain tick labels everywhere: an offset ("+1.93e1") over a 0.007 span
    reads as a big change, and the time axis must read as the recording's time."""
    from matplotlib.ticker import ScalarFormatter
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            fmt = axis.get_major_formatter()
            if isinstance(fmt, ScalarFormatter):
                fmt.set_useOffset(False)
                fmt.set_scientific(False)


def _min_span(ax: Any, values: Any, span: float) -> None:
    """Show at least ``span`` around ``values`` on ax's y axis, so reps that
    differ by sensor noise look alike instead of filling the panel."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    lo, hi = ax.get_ylim()
    if not len(v) or not np.isfinite(span) or span <= 0 or hi - lo >= span:
        return
    mid = (v.min() + v.max()) / 2
    ax.set_ylim(mid - span / 2, mid + span / 2)


def title_of(session: Any, name: str = "") -> str:
    s = session.summary()
    head = f"{name}: " if name else ""
    if s["reps"] == 0 and s["grips"] == 0:
        return f"{head}no reps, {s['duration_s']:.1f} s"
    u = s["unit"] or ""
    line = (f"{head}{s['exercise'] or 'session'}: {s['reps']} reps, {s['partial_reps']} partial, "
            f"{s['grips']} grips")
    if s["reps"]:
        line += (f"\nmean {s['mean_amplitude']:.1f} {u}, best {s['best_amplitude']:.1f} {u}, "
                 f"{s['reps_per_minute']:.1f} reps/min, {s['time_under_tension_s']:.1f} s under tension")
    line += f", {s['duration_s']:.1f} s"
    if s["gaps"] or s["uncertain"]:
        line += f"; {s['gaps']} gaps, {s['uncertain']} uncertain"
    return line


def plot_session(session: Any, path: str | os.PathLike | None = None, *, exercise: str | None = None,
                 title: str | None = None, dpi: int = 110):
    """Draw ``session`` (from :func:`openpuck.offline.recording.load_session`); save to ``path``
    (PNG, SVG, PDF by extension) when given. Returns the matplotlib Figure."""
    plt = _mpl()
    s = session.samples
    reps = session.of("rep")
    exercise = exercise or (reps[0].exercise if reps else "grip_squeeze")
    step = max(1, len(s) // MAX_POINTS)
    # a window keeps its recording's clock: --from 300 draws from 300 s, not from 0
    origin = getattr(session, "origin", None)
    t0 = float(origin) if origin is not None else float(s.t[0]) if len(s) else 0.0
    sig, unit = exercise_signal(s, exercise)
    # break the lines over gaps instead of drawing a straight line across them
    idx = np.arange(0, len(s), step)
    tt = s.t[idx]
    cut = (np.nonzero(np.diff(tt) > 1.5 * np.median(np.diff(tt)))[0] + 1 if len(tt) > 2
           else np.zeros(0, dtype=np.intp))

    def brk(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.insert(x, cut, np.nan, axis=0) if len(cut) else x
    rel = brk(tt - t0)
    acc, gyr, frc, sig_p = brk(s.accel[idx]), brk(s.gyro[idx]), brk(s.force[idx]), brk(sig[idx])
    fig, axes = plt.subplots(5, 1, figsize=(12, 11), sharex=True,
                             gridspec_kw={"height_ratios": [1, 1, 1, 1.3, 1]})
    colors = ("tab:red", "tab:green", "tab:blue")
    for i, lab in enumerate("xyz"):
        axes[0].plot(rel, acc[:, i], lw=0.8, color=colors[i], label=f"a{lab}")
        axes[1].plot(rel, gyr[:, i], lw=0.8, color=colors[i], label=f"g{lab}")
    axes[2].plot(rel, frc, lw=0.9, color="black", label="force")
    axes[3].plot(rel, sig_p, lw=1.0, color="tab:purple", label=f"{exercise} signal")
    axes[0].set_ylabel("accel (g)")
    axes[1].set_ylabel("gyro (deg/s)")
    axes[2].set_ylabel("force (N)")
    axes[3].set_ylabel(f"signal ({unit})")
    _trend(axes[4], session, t0)
    axes[4].set_xlabel("time (s from the recording's first sample)")
    for ax in axes[:2]:
        ax.legend(loc="upper right", ncol=3, fontsize=8, framealpha=0.7)
    for ev in session.events:
        k = ev.kind
        if k in ("rep", "partial_rep"):
            color = "tab:green" if k == "rep" else "tab:orange"
            for ax in axes[:4]:
                ax.axvspan(ev.t_start - t0, ev.t_end - t0, color=color, alpha=0.15, lw=0)
            if ev.uncertain:
                axes[3].axvspan(ev.t_start - t0, ev.t_end - t0, fill=False, edgecolor="red", lw=1.2)
            if k == "rep" and len(s) and s.t[0] <= ev.t_peak <= s.t[-1]:   # a window's edge cuts some reps
                axes[3].axvline(ev.t_peak - t0, color="tab:green", lw=0.8, ls="--")
                axes[3].annotate(f"{ev.count}", (ev.t_peak - t0, 1.0), xycoords=("data", "axes fraction"),
                                 ha="center", va="bottom", fontsize=8, color="darkgreen")
        elif k == "grip":
            axes[2].plot([ev.t_end - t0], [ev.peak_force], marker="v", color="tab:blue", ms=6)
            axes[2].hlines(ev.peak_force, ev.t_start - t0, ev.t_end - t0, color="tab:blue", lw=1.5)
        elif k == "gap" and ev.t_start is not None and ev.t_end is not None:
            for ax in axes[:4]:
                ax.axvspan(ev.t_start - t0, ev.t_end - t0, facecolor="0.85", hatch="//",
                           edgecolor="0.5", lw=0)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    handles = [Patch(color="tab:green", alpha=0.3, label="rep"),
               Patch(color="tab:orange", alpha=0.3, label="partial rep"),
               Line2D([], [], marker="v", color="tab:blue", ls="-", label="grip (peak, hold)"),
               Patch(facecolor="0.85", hatch="//", edgecolor="0.5", label="gap"),
               Patch(fill=False, edgecolor="red", label="uncertain")]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=9, frameon=False)
    axes[2].legend(loc="upper left", fontsize=8)
    for ax in axes:
        ax.grid(True, alpha=0.3)
    if len(s) > 1 and s.t[-1] > s.t[0]:
        # the samples' span: events overlapping a window's edges must not widen it
        axes[0].set_xlim(float(s.t[0]) - t0, float(s.t[-1]) - t0)
    _no_offsets(fig)
    name = os.path.basename(getattr(session, "path", "") or "")
    fig.suptitle(title or title_of(session, name), fontsize=11)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    if path is not None:
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
    return fig


def _trend(ax: Any, session: Any, t0: float) -> None:
    """Each rep's amplitude and duration over the session: in an hour-long
    plot the bands are a smear, this panel still shows fatigue or progress."""
    reps = session.of("rep")
    partials = session.of("partial_rep")
    if not reps and not partials:
        ax.text(0.5, 0.5, "no reps", transform=ax.transAxes, ha="center", va="center", color="0.5")
        ax.set_ylabel("per rep")
        return
    unit = reps[0].unit if reps else partials[0].unit
    if reps:
        ax.plot([r.t_peak - t0 for r in reps], [r.amplitude for r in reps], marker="o", ms=3, lw=0.8,
                color="tab:green", label=f"rep amplitude ({unit})")
    if partials:
        ax.plot([p.t_peak - t0 for p in partials], [p.amplitude for p in partials], ls="", marker="x",
                ms=4, color="tab:orange", label="partial rep")
    ax.set_ylabel(f"per rep ({unit})")
    amps = [e.amplitude for e in reps + partials]
    target = getattr(session, "target", None)
    _min_span(ax, amps, 0.1 * (target or max(abs(a) for a in amps)))
    if reps:
        ax2 = ax.twinx()
        durations = [r.duration for r in reps]
        ax2.plot([r.t_peak - t0 for r in reps], durations, ls=":", lw=0.8,
                 color="tab:gray", label="rep duration (s)")
        ax2.set_ylabel("duration (s)", color="tab:gray")
        _min_span(ax2, durations, 0.1 * max(durations))
    ax.legend(loc="upper left", fontsize=8)


def plot_explain(ex: Any, path: str | os.PathLike, title: str = "") -> str:
    """Plot an openpuck.offline.detect.Explanation (:func:`explain_figure`) to ``path``
    (PNG, SVG, PDF by extension). Returns the path written."""
    plt = _mpl()
    fig = explain_figure(ex, title)
    try:
        fig.savefig(path, dpi=90)
    finally:
        plt.close(fig)
    return str(path)


def explain_figure(ex: Any, title: str = "") -> Any:
    """The matplotlib Figure of an openpuck.offline.detect.Explanation: the counted
    signal, its rest, the ON / OFF / END levels, the target (given, or as the
    detector learned it), the level a partial rep must reach, and every rep
    (numbered above the plot) and partial rep ("p"), so a miscount shows why."""
    plt = _mpl()
    det = ex.detection
    t = ex.t - ex.t[0] if len(ex.t) else ex.t
    t0 = ex.t[0] if len(ex.t) else 0.0
    step = max(1, len(t) // MAX_POINTS)
    sl = slice(None, None, step)
    side = np.where(ex.side == 0, 1, ex.side)
    unit = det.unit
    # constrained layout makes room for the title, the rep numbers and the legend outside the axes
    fig, ax = plt.subplots(figsize=(14, 5), layout="constrained")
    ax.plot(t[sl], ex.signal[sl], color="black", lw=1.0, label=f"signal ({unit})")
    ax.plot(t[sl], ex.rest[sl], color="tab:blue", lw=1.0, label="rest")
    if det.target:
        tgt_label = (f"target (learned; {det.target:g} {unit} at the end)" if det.auto
                     else f"target ({det.target:g} {unit})")
        # NaN until an auto target settles, so the line starts where the detector learned it
        ax.plot(t[sl], (ex.rest + side * ex.target)[sl], color="tab:red", lw=1.0, label=tgt_label)
    ax.plot(t[sl], ex.on[sl], color="tab:green", lw=0.8, ls="--", label="ON (a rep reaches it)")
    # the detector's rule: an excursion past 2 OFF - END that misses ON is a partial rep
    ax.plot(t[sl], (2 * ex.off - ex.end)[sl], color="tab:purple", lw=0.8, ls="-.",
            label="partial (a partial rep reaches it)")
    ax.plot(t[sl], ex.off[sl], color="tab:orange", lw=0.8, ls="--", label="OFF (leaving rest)")
    ax.plot(t[sl], ex.end[sl], color="tab:gray", lw=0.6, ls=":", label="END (back at rest)")
    number_pt = 7
    for e in det.events:
        if e.kind == "grip":
            continue
        color = "tab:green" if e.kind == "rep" else "tab:orange"
        ax.axvspan(e.t_start - t0, e.t_end - t0, color=color, alpha=0.15 if e.kind == "rep" else 0.25, lw=0)
        ax.axvline(e.t_peak - t0, color=color, lw=0.8)
        ax.annotate(f"{e.count}" if e.kind == "rep" else "p", (e.t_peak - t0, 1.0),
                    xycoords=("data", "axes fraction"), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=number_pt, color=color)
    tgt = f"{det.target:g} {unit}" if det.target else "not learned"
    # the title sits above the row of rep numbers (2 pt gap + the numbers' line + 4 pt)
    ax.set_title((f"{title}: " if title else "") + f"{det.exercise} ({det.signal}): {det.count} reps, "
                 f"{len(det.partials)} partial, target {tgt}{' (auto)' if det.auto else ''}", fontsize=10,
                 pad=2 + 1.4 * number_pt + 4)
    ax.set_xlabel("time (s from the first sample)")
    ax.set_ylabel(unit)
    if len(t) > 1 and t[-1] > 0:
        ax.set_xlim(0, float(t[-1]))
    # below the plot: inside it, it hid the signal and the rep numbers
    fig.legend(loc="outside lower center", ncol=4, fontsize=7, frameon=False)
    _no_offsets(fig)
    return fig
