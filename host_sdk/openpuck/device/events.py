"""What a puck tells: events in physical units (the session decoder,
:mod:`openpuck.device.session_decoder`, turns a byte stream into them).

Times ``t``, ``t_start``, ``t_peak``, ``t_end`` are device seconds on the same
unwrapped time line as :attr:`SampleBlock.t`; ``host_time`` is the Unix time
of ``t`` when the clock is synced (see :mod:`openpuck.device.clock`), else None.

An event is ``uncertain`` when a gap (dropped samples, frames lost on the
link, a disconnect, a puck reset) overlaps it, padded by two sample periods:
the puck may have seen something the host did not, or the reverse.

When the puck restarts (a reset on a live link, or a power cycle behind a
disconnect), its device clock restarts at 0: times after it are device time
since the restart, and the Gap that reports it has ``samples_missing`` None. A live session holds
an event back until the samples up to its end have arrived (at most
:data:`HOLD_S`) so that a gap reported just after it still counts.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from .. import protocol
from ..exercises import name_of as exercise_name
from ..exercises import unit_of as exercise_unit
from ..protocol import Capability, RateHz

__all__ = ["Config", "DeviceInfo", "Event", "Gap", "Grip", "Log", "PartialRep", "Rep", "Status", "Target",
           "exercise_name", "exercise_unit", "format_event"]


@dataclass(kw_only=True)
class Event:
    """Base of every event: ``kind`` names it (``"rep"``, ``"grip"``...)."""

    kind: ClassVar[str] = "event"
    t: float                       #: device s: when it happened (its end)
    uncertain: bool = False        #: a gap overlaps it
    host_time: float | None = None  #: Unix s of ``t`` (clock sync), None before sync

    def as_dict(self) -> dict[str, Any]:
        """The event as plain JSON-ready values; floats rounded to 1e-6
        (a microsecond, a micronewton), below every sensor's resolution."""
        d: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, (set, frozenset)):
                v = sorted(v)
            elif isinstance(v, float):
                v = round(v, 6)
            d[f.name] = v
        return d


@dataclass(kw_only=True)
class Rep(Event):
    """A full repetition."""

    kind: ClassVar[str] = "rep"
    exercise: str
    count: int                  #: reps so far in the set, this one included
    t_start: float
    t_peak: float
    t_end: float
    amplitude: float            #: peak excursion in ``unit`` (N, deg or mm)
    unit: str
    #: time above ON (force exercises; 0 for the others); None when not known: a rep
    #: counted as an auto target was learned, whose hold came before ON was known
    hold_s: float | None = 0.0

    @property
    def duration(self) -> float:
        return self.t_end - self.t_start


@dataclass(kw_only=True)
class PartialRep(Event):
    """An excursion that left rest and came back without reaching the target: not a rep."""

    kind: ClassVar[str] = "partial_rep"
    exercise: str
    count: int
    t_start: float
    t_peak: float
    t_end: float
    amplitude: float
    unit: str


@dataclass(kw_only=True)
class Grip(Event):
    """A grip or press on the force pad."""

    kind: ClassVar[str] = "grip"
    t_start: float
    t_end: float
    peak_force: float          #: N
    hold_s: float


@dataclass(kw_only=True)
class Status(Event):
    """The puck's health, once a second while streaming."""

    kind: ClassVar[str] = "status"
    battery_v: float
    battery_pct: int
    dropped_samples: int       #: since boot
    uptime_s: float
    streaming: bool
    exercise: str
    reps: int
    partial_reps: int
    rx_errors: int
    reset_cause: str
    #: share of the puck's CPU its firmware worked since the previous status (0..1), None if unknown
    cpu_load: float | None = None
    #: samples the puck dropped since boot because the host did not read them in time
    #: (not in ``dropped_samples``); the host sees them as Gaps ``"dropped_samples"``
    link_dropped_samples: int = 0
    #: events, answers and logs the puck lost the same way (the host sees them as lost frames)
    link_dropped_frames: int = 0
    #: the target the puck's detector counts against, in the exercise's unit; None while
    #: an auto target is not learned yet
    target: float | None = None


@dataclass(kw_only=True)
class Target(Event):
    """The target the puck's detector counts against, told when it changes: at
    each start, when an auto target is learned and each time it follows the
    patient's reps, when a calibration rep or the host sets it. ``t`` is when
    it changed (the end of the rep that moved it)."""

    kind: ClassVar[str] = "target"
    exercise: str
    value: float | None         #: in ``unit``; None: not known yet (an auto target still being learned)
    unit: str
    source: str                 #: "set" (by the host), "learned" (auto) or "calibrated" (a calibration rep)


@dataclass(kw_only=True)
class Log(Event):
    kind: ClassVar[str] = "log"
    level: str
    text: str


@dataclass(kw_only=True)
class Gap(Event):
    """Samples the host did not get: ``t_start``..``t_end`` device s.

    ``reason``: ``"dropped_samples"`` (the puck's sampler or a lost frame
    left a hole in the samples), ``"lost_frames"`` (frames missing by sequence
    number), ``"disconnected"`` (the link dropped; ``host_duration`` says for
    how long; ``t_end`` is None when no sample came after it), ``"puck_reset"``
    (the puck restarted while the link stayed up: its seq restarted or its
    uptime went back).

    ``samples_missing`` is None when it cannot be known: the puck restarted
    during the gap, so its device time (which ``t_start`` and ``t_end`` are
    in) restarted at 0 and the two ends are on different time lines;
    ``t_start`` is then the last sample before the restart and ``t_end`` the
    first after it, in device time since the restart.
    """

    kind: ClassVar[str] = "gap"
    t_start: float | None
    t_end: float | None
    reason: str
    samples_missing: int | None = 0
    frames_lost: int = 0
    host_duration: float = 0.0


@dataclass(kw_only=True)
class Config(Event):
    kind: ClassVar[str] = "config"
    key: str
    value: int


@dataclass
class DeviceInfo:
    """Who the puck is, in physical units (from its device_info message)."""

    firmware: str
    protocol_version: int
    capabilities: frozenset[str]    #: enums.capability names: "imu", "force"...
    accel_range_g: int
    gyro_range_dps: int
    force_max_n: int
    accel_g_per_lsb: float
    gyro_dps_per_lsb: float
    force_n_per_lsb: float
    max_rate_hz: int
    rates_hz: tuple[int, ...]       #: the rates it can stream, Hz
    board: str
    serial: str

    @classmethod
    def from_message(cls, m: protocol.Message) -> DeviceInfo:
        f = m.fields
        caps = frozenset(Capability.labels(f["capabilities"]))
        return cls(firmware=f"{f['fw_major']}.{f['fw_minor']}.{f['fw_patch']}",
                   protocol_version=f["protocol_version"], capabilities=caps,
                   accel_range_g=f["accel_range_g"], gyro_range_dps=f["gyro_range_dps"],
                   force_max_n=f["force_max_n"], accel_g_per_lsb=f["accel_g_per_lsb"],
                   gyro_dps_per_lsb=f["gyro_dps_per_lsb"], force_n_per_lsb=f["force_n_per_lsb"],
                   max_rate_hz=f["max_rate_hz"],
                   rates_hz=tuple(int(r) for r in RateHz.labels(f["rates_hz"])),
                   board=f["board"], serial=f["serial"])

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["capabilities"] = sorted(self.capabilities)
        d["rates_hz"] = list(self.rates_hz)
        return d


def format_event(ev: Event) -> str:
    """One line for humans, e.g. ``  12.345 s  rep #3  21.4 N  0.62 s  hold 0.31 s``."""
    mark = "  (uncertain)" if ev.uncertain and ev.kind != "gap" else ""
    t = f"{ev.t:10.3f} s"
    if isinstance(ev, Rep):
        hold = (f"  hold {ev.hold_s:.2f} s" if ev.hold_s else
                "  hold unknown (before the target was learned)" if ev.hold_s is None else "")
        return (f"{t}  rep #{ev.count:<3d} {ev.amplitude:7.1f} {ev.unit:<3s} "
                f"{ev.duration:5.2f} s{hold}{mark}")
    if isinstance(ev, PartialRep):
        return f"{t}  partial #{ev.count:<3d} {ev.amplitude:3.1f} {ev.unit}{mark}"
    if isinstance(ev, Grip):
        return f"{t}  grip  {ev.peak_force:7.1f} N   hold {ev.hold_s:.2f} s{mark}"
    if isinstance(ev, Gap):
        span = (f"{ev.t_start:.3f}..{ev.t_end:.3f} s" if ev.t_start is not None and ev.t_end is not None
                else "")
        what = {"dropped_samples": f"{ev.samples_missing} samples missing",
                "lost_frames": f"{ev.frames_lost} frames lost",
                "disconnected": f"link down {ev.host_duration:.1f} s",
                "puck_reset": "the puck restarted"}.get(ev.reason, ev.reason)
        return f"{t}  gap   {what} {span}"
    if isinstance(ev, Status):
        batt = f"battery {ev.battery_pct}%" if ev.battery_v else "USB power"
        return (f"{t}  status {batt}, reps {ev.reps}, partial {ev.partial_reps}, "
                f"dropped {ev.dropped_samples}")
    if isinstance(ev, Target):
        if ev.value is None:
            return f"{t}  target not known yet (learned from the first reps)"
        return f"{t}  target {ev.value:7.1f} {ev.unit:<3s} {ev.source}{mark}"
    if isinstance(ev, Log):
        return f"{t}  log {ev.level}: {ev.text}"
    if isinstance(ev, Config):
        return f"{t}  config {ev.key} = {ev.value}"
    return f"{t}  {ev.kind}"
