"""One decoded message in, the event it reports out: the pure mapping from the
wire to :mod:`openpuck.device.events`.

Values are taken in physical units through the message table's scales
(:func:`openpuck.protocol.physical`), so a scale changed in
protocol/messages.toml changes what the events say. Fields the table sends in
ms or mV are converted to s and V (:data:`S_PER_MS`, :data:`V_PER_MV`): those
are units, not scales. Device times (u32 microseconds that wrap) are put on
the session's time line by the ``unwrap`` the caller gives.

    ev = event_from_message(msg, unwrap=session.unwrap, latest_t=session.last_t)
"""
from __future__ import annotations

from collections.abc import Callable

from .. import protocol
from ..protocol import ConfigKey, LogLevel, ResetCause, TargetSource, label
from .events import Config, Event, Grip, Log, PartialRep, Rep, Status, Target, exercise_name, exercise_unit

#: the rep.hold_ms that means "not known" (an auto-target rep: its hold came before ON was known)
_HOLD_UNKNOWN = protocol.TYPES["rep"].field("hold_ms").unknown
_LOAD_UNKNOWN = protocol.TYPES["status"].field("cpu_load").unknown
#: ms -> s (hold_ms, uptime_ms)
S_PER_MS = 1e-3
#: mV -> V (battery_mv)
V_PER_MV = 1e-3

#: device u32 microseconds -> seconds on the session's time line
Unwrap = Callable[[int], float]



def event_from_message(m: protocol.Message, unwrap: Unwrap, latest_t: float | None) -> Event | None:
    """The event that message ``m`` reports, or None for a message that is no
    event (samples, device_info, ack, nack, pong, a command).

    ``unwrap`` maps a device time in u32 microseconds to seconds on the
    session's time line; ``latest_t`` is the time of the latest sample (None
    before the first), the ``t`` of status, log and config, which carry no time
    of their own. The event is neither judged against gaps nor stamped with
    host time: that is the session decoder's job.
    """
    build = _BUILDERS.get(m.type)
    return None if build is None else build(m, unwrap, latest_t)


def _rep(m: protocol.Message, unwrap: Unwrap, latest_t: float | None) -> Rep:
    f = protocol.physical(m)
    t_end = unwrap(f["t_end_us"])
    return Rep(t=t_end, exercise=exercise_name(f["exercise"]), count=f["count"],
               t_start=unwrap(f["t_start_us"]), t_peak=unwrap(f["t_peak_us"]), t_end=t_end,
               amplitude=f["amplitude"], unit=exercise_unit(f["exercise"]),
               hold_s=None if f["hold_ms"] == _HOLD_UNKNOWN else f["hold_ms"] * S_PER_MS)


def _partial_rep(m: protocol.Message, unwrap: Unwrap, latest_t: float | None) -> PartialRep:
    f = protocol.physical(m)
    t_end = unwrap(f["t_end_us"])
    return PartialRep(t=t_end, exercise=exercise_name(f["exercise"]), count=f["count"],
                      t_start=unwrap(f["t_start_us"]), t_peak=unwrap(f["t_peak_us"]),
                      t_end=t_end, amplitude=f["amplitude"], unit=exercise_unit(f["exercise"]))


def _grip(m: protocol.Message, unwrap: Unwrap, latest_t: float | None) -> Grip:
    f = protocol.physical(m)
    t_end = unwrap(f["t_end_us"])
    return Grip(t=t_end, t_start=unwrap(f["t_start_us"]), t_end=t_end,
                peak_force=f["peak_force"], hold_s=f["hold_ms"] * S_PER_MS)


def _status(m: protocol.Message, unwrap: Unwrap, latest_t: float | None) -> Status:
    f = protocol.physical(m)
    uptime_s = f["uptime_ms"] * S_PER_MS
    # before the first sample (or just after a restart) the uptime is the best time there is
    return Status(t=latest_t if latest_t is not None else uptime_s,
                  battery_v=f["battery_mv"] * V_PER_MV, battery_pct=f["battery_pct"],
                  dropped_samples=f["dropped_samples"], uptime_s=uptime_s,
                  streaming=bool(f["streaming"]), exercise=exercise_name(f["exercise"]),
                  reps=f["reps"], partial_reps=f["partial_reps"], rx_errors=f["rx_errors"],
                  reset_cause=label(ResetCause, f["reset_cause"]),
                  cpu_load=None if m.fields["cpu_load"] == _LOAD_UNKNOWN else f["cpu_load"],
                  link_dropped_samples=f["link_dropped_samples"],
                  link_dropped_frames=f["link_dropped_frames"],
                  target=f["target"] or None)


def _target(m: protocol.Message, unwrap: Unwrap, latest_t: float | None) -> Target:
    f = protocol.physical(m)
    return Target(t=unwrap(f["t_us"]), exercise=exercise_name(f["exercise"]), value=f["target"] or None,
                  unit=exercise_unit(f["exercise"]), source=label(TargetSource, f["source"]))


def _log(m: protocol.Message, unwrap: Unwrap, latest_t: float | None) -> Log:
    return Log(t=latest_t or 0.0, level=label(LogLevel, m["level"]),
               text=m["text"])


def _config(m: protocol.Message, unwrap: Unwrap, latest_t: float | None) -> Config:
    f = protocol.physical(m)
    return Config(t=latest_t or 0.0, key=label(ConfigKey, f["key"]),
                  value=f["value"])


_BUILDERS: dict[str, Callable[[protocol.Message, Unwrap, float | None], Event]] = {
    "rep": _rep, "partial_rep": _partial_rep, "grip": _grip, "status": _status, "log": _log,
    "config": _config, "target": _target,
}
