"""Count reps, partial reps and grips in recorded samples with the C detector.

``detect(samples, exercise="arm_raise", target=None)`` quantises the samples
to the puck's raw counts (as a puck would have sent them), runs the C core's
op_detect over the whole block in one call and returns a :class:`Detection`:
the events (times in the samples' seconds, amplitudes in N, degrees or mm) and
the session figures of ../shared/exercises.md.

target: None or "auto" learns the patient's target from the first reps of
the set; a number is the target in the signal's unit (N, degrees).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _core
from ..device.events import Event, Grip, PartialRep, Rep
from ..errors import OpenPuckError
from ..exercises import Exercise
from ..exercises import get as get_exercise
from ..protocol import TYPES, EventKind
from . import csvio
from .summary import summarise

#: op_detect's event kinds by wire value: 1: "rep", 2: "partial_rep", 3: "grip"
KINDS: dict[int, str] = {int(k): k.label for k in EventKind}
_HOLD_UNKNOWN = TYPES["rep"].field("hold_ms").unknown
_TARGET_MAX = (TYPES["set_exercise"].field("target").max or 0) / 1000


class DetectError(OpenPuckError, ValueError):
    """Samples or options the detector cannot use."""


@dataclass
class Detection:
    """What :func:`detect` found: the events (the SDK's one event model:
    :class:`~openpuck.device.events.Rep`, :class:`~openpuck.device.events.PartialRep`,
    :class:`~openpuck.device.events.Grip`, times on the samples' time base), and the
    target used (learned, for auto; None if it never settled)."""

    exercise: str
    signal: str
    unit: str
    target: float | None
    auto: bool
    events: list[Event] = field(default_factory=list)
    scales: dict = field(default_factory=dict)

    @property
    def reps(self) -> list[Rep]:
        return [e for e in self.events if isinstance(e, Rep)]

    @property
    def partials(self) -> list[PartialRep]:
        return [e for e in self.events if isinstance(e, PartialRep)]

    @property
    def grips(self) -> list[Grip]:
        return [e for e in self.events if isinstance(e, Grip)]

    @property
    def count(self) -> int:
        return len(self.reps)

    def summary(self) -> dict[str, Any]:
        """The set's figures (:func:`openpuck.offline.summary.summarise`)."""
        return summarise(self.events, exercise=self.exercise, unit=self.unit, target=self.target)

    def as_json(self) -> dict[str, Any]:
        """The CLI's --json object."""
        return {
            "exercise": self.exercise,
            "target": self.target,
            "count": self.count,
            "partial": len(self.partials),
            "reps": [{"t_start": round(r.t_start, 6), "t_peak": round(r.t_peak, 6),
                      "t_end": round(r.t_end, 6), "amplitude": round(r.amplitude, 3)}
                     for r in self.reps],
        }

    def as_dict(self) -> dict[str, Any]:
        d = self.summary()
        d["events"] = [e.as_dict() for e in self.events]
        return d


def read_csv(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """A samples CSV (../shared/formats/samples-csv.md) as t, accel, gyro, force
    arrays, read by :func:`openpuck.offline.csvio.read_csv` (errors name file and line)."""
    return _as_arrays(csvio.read_csv(path))


def _as_arrays(samples: Any) -> dict[str, np.ndarray]:
    """t (s), accel (n,3) g, gyro (n,3) dps, force (n,) N from any accepted form."""
    if isinstance(samples, dict) and "t" in samples:
        t, a, g, f = samples["t"], samples["accel"], samples["gyro"], samples["force"]
    elif all(hasattr(samples, k) for k in ("t", "accel", "gyro", "force")):
        t, a, g, f = samples.t, samples.accel, samples.gyro, samples.force
    else:
        arr = np.asarray(samples)
        if arr.dtype.names:
            names = arr.dtype.names
            cols = csvio.COLUMNS
            if all(c in names for c in cols):
                arr = np.column_stack([arr[c].astype(np.float64) for c in cols])
            else:
                raise DetectError(f"structured samples need the fields {', '.join(cols)}")
        if arr.ndim != 2 or arr.shape[1] != 8:
            raise DetectError("samples must be (n, 8) rows of t_s, ax..az (g), gx..gz (dps), force_n")
        arr = arr.astype(np.float64)
        t, a, g, f = arr[:, 0], arr[:, 1:4], arr[:, 4:7], arr[:, 7]
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    if len(t) == 0:
        raise DetectError("no samples")
    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    g = np.asarray(g, dtype=np.float64).reshape(-1, 3)
    f = np.asarray(f, dtype=np.float64).reshape(-1)
    if not (len(t) == len(a) == len(g) == len(f)):
        raise DetectError("t, accel, gyro and force differ in length")
    for name, x in (("t", t), ("accel", a), ("gyro", g), ("force", f)):
        if x.size and not np.all(np.isfinite(x)):
            raise DetectError(f"{name} holds NaN or infinite values")
    if len(t) > 1 and np.any(np.diff(t) <= 0):
        raise DetectError("time must increase from sample to sample")
    return {"t": t, "accel": a, "gyro": g, "force": f}


def choose_scales(accel: np.ndarray, gyro: np.ndarray) -> dict[str, int]:
    """The puck's ranges for these data: the defaults (+-4 g, +-500 dps) unless
    the data exceed them, then +-8/16 g and +-1000/2000 dps, as the puck would."""
    amax = float(np.max(np.abs(accel))) if accel.size else 0.0
    gmax = float(np.max(np.abs(gyro))) if gyro.size else 0.0
    accel_lsb = 8192 if amax < 3.99 else 4096 if amax < 7.99 else 2048
    gyro_x1000 = 65536 if gmax < 499.0 else 32768 if gmax < 999.0 else 16384
    return {"accel_lsb_per_g": accel_lsb, "gyro_lsb_per_dps_x1000": gyro_x1000, "force_mn_per_lsb": 50}


def quantise(arrays: dict[str, np.ndarray], scales: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw counts: t_us (uint32, from the first sample, wrapping), imu int16 (n, 6), force int32."""
    t = arrays["t"]
    t_us = (np.rint((t - (t[0] if len(t) else 0.0)) * 1e6).astype(np.int64) & 0xFFFFFFFF).astype(np.uint32)
    imu = np.empty((len(t), 6), dtype=np.int16)
    imu[:, :3] = np.clip(np.rint(arrays["accel"] * scales["accel_lsb_per_g"]), -32768, 32767)
    imu[:, 3:] = np.clip(np.rint(arrays["gyro"] * (scales["gyro_lsb_per_dps_x1000"] / 1000.0)), -32768, 32767)
    force = np.clip(np.rint(arrays["force"] * (1000.0 / scales["force_mn_per_lsb"])), 0, 65535).astype(np.int32)
    return t_us, np.ascontiguousarray(imu), force


def make_config(ex: Exercise, target: Any = None, *, on: float | None = None, off: float | None = None,
                scales: dict[str, int] | None = None, **overrides: Any) -> dict:
    """The C config for an exercise: catalogue defaults, target, scales, overrides."""
    cfg = _core.detect_config_default(ex.id)
    if scales:
        cfg.update(scales)
    if target is None or (isinstance(target, str) and target.strip().lower() == "auto"):
        cfg["target_milli"] = 0
    else:
        try:
            value = float(target)
        except (TypeError, ValueError):
            raise DetectError(f"target must be a number ({ex.unit}) or 'auto', not {target!r}") from None
        if not math.isfinite(value) or value <= 0 or value > _TARGET_MAX:
            raise DetectError(f"target must be a positive number of {ex.unit} up to {_TARGET_MAX:g} "
                              f"(or 'auto'), not {target!r}")
        cfg["target_milli"] = max(1, int(round(value * 1000)))
    if on is not None:
        cfg["on_pct"] = int(round(on * 100))
    if off is not None:
        cfg["off_pct"] = int(round(off * 100))
    cfg.update(overrides)
    if _core.detect_check(cfg) != 0:
        raise DetectError(f"detector config rejected by op_detect_check: {cfg}")
    return cfg


def detect(samples: Any, exercise: str | int | Exercise = "grip_squeeze", target: Any = None, *,
           on: float | None = None, off: float | None = None, **overrides: Any) -> Detection:
    """Run the C detector over a recording.

    samples: an object with t (s), accel (n,3) g, gyro (n,3) dps, force (n,) N
    (e.g. a SampleBlock), a dict of those, a structured array with the CSV's
    field names, an (n, 8) array in the CSV's column order, or a CSV path.
    """
    ex = get_exercise(exercise)
    if isinstance(samples, (str, os.PathLike)):
        arrays = read_csv(samples)
    else:
        arrays = _as_arrays(samples)
    scales = choose_scales(arrays["accel"], arrays["gyro"])
    cfg = make_config(ex, target, on=on, off=off, scales=scales, **overrides)
    t_us, imu, force = quantise(arrays, scales)
    det = _core.Detector(cfg)
    raw = det.run(t_us, imu, force) + det.finish()
    t0 = float(arrays["t"][0]) if len(arrays["t"]) else 0.0
    events: list[Event] = []
    wraps, last = 0, 0
    for kind, count, ts, tp, te, amp, hold in raw:
        if te + (1 << 31) < last:  # device time wrapped (recordings longer than 71 min)
            wraps += 1
            last = te
        else:  # events come out nearly in time order (auto-target candidates settle late)
            last = max(last, te)
        base = t0 + wraps * 4294.967296
        t_start, t_peak = (_seconds(x, te, base) for x in (ts, tp))
        events.append(_event(KINDS.get(kind, ""), ex, count, t_start, t_peak, base + te * 1e-6,
                             amp * 1e-3, None if hold == _HOLD_UNKNOWN else hold * 1e-3))
    events.sort(key=lambda e: (e.t, e.kind != "rep"))  # candidates settle late
    settled = det.target_milli
    return Detection(ex.name, ex.signal, ex.unit, settled / 1000.0 if settled else None,
                     cfg["target_milli"] == 0, events, scales)


def _seconds(x_us: int, t_end_us: int, base: float) -> float:
    """Device time ``x_us`` of an event ending at ``t_end_us`` in seconds from ``base``: a time
    after the end is from before the u32 clock wrapped."""
    return base + x_us * 1e-6 - (4294.967296 if x_us > t_end_us else 0.0)


def _event(kind: str, ex: Exercise, count: int, t_start: float, t_peak: float, t_end: float,
           amplitude: float, hold_s: float | None) -> Event:
    """An op_detect event (milli-units and ms already scaled) as the SDK's event."""
    if kind == "rep":
        return Rep(t=t_end, exercise=ex.name, count=count, t_start=t_start, t_peak=t_peak, t_end=t_end,
                   amplitude=amplitude, unit=ex.unit, hold_s=hold_s)
    if kind == "partial_rep":
        return PartialRep(t=t_end, exercise=ex.name, count=count, t_start=t_start, t_peak=t_peak,
                          t_end=t_end, amplitude=amplitude, unit=ex.unit)
    if kind == "grip":
        # "hold unknown" is a rep's only (counted as an auto target was learned): a grip's is measured
        return Grip(t=t_end, t_start=t_start, t_end=t_end, peak_force=amplitude,
                    hold_s=0.0 if hold_s is None else hold_s)
    raise DetectError(f"the detector reported an unknown event kind {kind!r}")


@dataclass
class Explanation:
    """What the counting rule saw, sample by sample (``detect --explain``).

    Arrays over the samples, in the signal's unit: ``signal`` (the value the
    rule counted: force, or the angle about the movement's learned axis),
    ``rest`` (its resting level), ``on``, ``off`` and ``end`` (the levels a rep
    must reach, leave rest by, and come back within, as signal values on the
    side reps go), ``target`` (NaN until an auto target settles), ``phase``
    (0 at rest, 1 going out, 2 coming back) and ``side`` (+1/-1, 0 unknown)."""
    detection: Detection
    t: np.ndarray
    signal: np.ndarray
    rest: np.ndarray
    on: np.ndarray
    off: np.ndarray
    end: np.ndarray
    target: np.ndarray
    phase: np.ndarray
    side: np.ndarray


def explain(samples: Any, exercise: str | int | Exercise = "grip_squeeze", target: Any = None,
            **overrides: Any) -> Explanation:
    """detect(), with the signal, rest and thresholds the detector used at every sample."""
    ex = get_exercise(exercise)
    arrays = read_csv(samples) if isinstance(samples, (str, os.PathLike)) else _as_arrays(samples)
    det = detect(arrays, exercise=ex, target=target, **overrides)
    scales = choose_scales(arrays["accel"], arrays["gyro"])
    cfg = make_config(ex, target, scales=scales, **overrides)
    t_us, imu, force = quantise(arrays, scales)
    _, rows = _core.Detector(cfg).trace(t_us, imu, force)
    milli = rows[:, :6].astype(np.float64) / 1000.0
    side = rows[:, 7].astype(np.int64)
    s = np.where(side == 0, 1, side)
    big = milli[:, 2] > 1e6  # ON unknown while an auto target is pending
    on = np.where(big, np.nan, milli[:, 1] + s * milli[:, 2])
    tgt = np.where(milli[:, 5] > 0, milli[:, 5], np.nan)
    return Explanation(det, arrays["t"], milli[:, 0], milli[:, 1], on, milli[:, 1] + s * milli[:, 3],
                       milli[:, 1] + s * milli[:, 4], tgt, rows[:, 6].astype(np.int64), side)
