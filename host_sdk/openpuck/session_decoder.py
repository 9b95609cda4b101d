"""The session decoder: a puck's byte stream in, events and sample blocks out.

Times ``t``, ``t_start``, ``t_peak``, ``t_end`` are device seconds on the same
unwrapped time line as :attr:`SampleBlock.t`; ``host_time`` is the Unix time
of ``t`` when the clock is synced (see :mod:`openpuck.clock`), else None.

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

import time
from collections import deque
from typing import Any, Callable

import numpy as np

from . import protocol
from .decoder import SampleBlock, StreamDecoder
from .events import (_LEVELS, _RESET, Config, DeviceInfo, Event, Gap, Grip, Log, PartialRep, Rep,
                     Status, exercise_name, exercise_unit)

HOLD_S = 0.3
_U32 = 1 << 32


class SessionDecoder:
    """Bytes in, events and sample blocks out: the one place a stream becomes
    events, used live by :class:`openpuck.Puck` and offline by export/plot.

    ``feed(data, now)`` returns ``(items, control)``: ``items`` in order,
    events (held until certain, see the module doc) and sample blocks;
    ``control`` the messages a command waits for (ack, nack, pong, config,
    device_info). Call :meth:`poll` now and then to release held events and
    :meth:`finish` at the end of a stream.
    """

    def __init__(self, *, hold_s: float = HOLD_S, clock=None,
                 decoder_factory: Callable[[], Any] = StreamDecoder) -> None:
        self.hold_s = hold_s
        self.clock = clock
        self._factory = decoder_factory
        self.decoder = decoder_factory()
        self._base: dict[str, int] = {}
        self.info: DeviceInfo | None = None
        self.status: Status | None = None
        self.extra = {"partial_frames": 0, "disconnects": 0, "gaps": 0, "samples_missing": 0,
                      "uncertain_events": 0, "puck_resets": 0}
        self._mid_frame = False
        self._ref_us: int | None = None      # latest unwrapped device time, us
        self._last_t: float | None = None    # last sample time, s
        self.period: float | None = None     # sample period, s
        self._gaps: deque[tuple[float, float]] = deque(maxlen=4096)
        self._held: list[tuple[float, Event]] = []   # (arrival, event)
        self._t_fix = 0.0                    # added to a replacement decoder's times
        self._fix_pending = False
        self._pending_disc: dict | None = None
        self._lost = 0
        self._uptime_ms: int | None = None  # latest status.uptime_ms
        self._rebase = False                # next block: device time since a restart
        self._reset_new = False             # a reset on a live link, for take_reset()
        self._resets_seen = 0               # seq_resets of the decoders so far

    # -- counters -------------------------------------------------------------
    @property
    def counters(self) -> dict[str, int]:
        c = dict(self.decoder.counters.as_dict())
        for k, v in self._base.items():
            c[k] = c.get(k, 0) + v
        c.update(self.extra)
        return c

    # -- time -----------------------------------------------------------------
    def unwrap(self, us: int) -> float:
        """Device u32 microseconds -> unwrapped seconds, nearest the latest time seen."""
        if self._ref_us is None:
            self._ref_us = us
            return us * 1e-6
        d = (us - self._ref_us) % _U32
        if d >= _U32 // 2:
            d -= _U32
        v = self._ref_us + d
        return v * 1e-6

    def _advance(self, t: float) -> None:
        us = int(round(t * 1e6))
        if self._ref_us is None or us > self._ref_us or us < self._ref_us - _U32 // 2:
            self._ref_us = us

    # -- link events --------------------------------------------------------------
    def link_lost(self, now: float) -> None:
        """The link dropped: drop a partial frame, start gap bookkeeping."""
        self.extra["disconnects"] += 1
        if self._mid_frame:
            self.extra["partial_frames"] += 1
            for k, v in self.decoder.counters.as_dict().items():
                self._base[k] = self._base.get(k, 0) + v
            self.decoder = self._factory()
            self._mid_frame = False
            self._fix_pending = True
        self._pending_disc = {"host_start": now, "t_start": self._last_t}

    def link_restored(self, now: float, streaming: bool) -> list[Event]:
        """The link is back. Returns a Gap now when no samples are expected."""
        if self._pending_disc is None:
            return []
        self._pending_disc["host_end"] = now
        if not streaming:
            return [self._disc_gap(None)]
        return []

    def _disc_gap(self, t_end: float | None) -> Gap:
        p, self._pending_disc = self._pending_disc, None
        t0 = p["t_start"]
        # device time went back: the puck restarted during the gap
        restarted = p.get("restarted", False) or (
            t0 is not None and t_end is not None and t_end < t0)
        missing: int | None = None if restarted else 0
        if restarted:
            if t_end is not None:  # the new time line: anything before its first sample
                self._gaps.append((float("-inf"), t_end))
        elif t0 is not None and t_end is not None:
            self._gaps.append((t0, t_end))
            if self.period:
                missing = max(0, int(round((t_end - t0) / self.period)) - 1)
        self.extra["gaps"] += 1
        g = Gap(t=t_end if t_end is not None else (t0 or 0.0), t_start=t0, t_end=t_end,
                reason=p.get("reason", "disconnected"), samples_missing=missing,
                host_duration=p.get("host_end", p["host_start"]) - p["host_start"], uncertain=True)
        return g

    def _puck_reset(self, now: float, out: list) -> None:
        """The puck restarted (seq restarted, uptime went back). Events held from
        before it are released as uncertain (the samples to their end will
        never come); the next samples start a new time line (device time since
        the restart); a Gap ``"puck_reset"`` is reported when they come (or by
        :meth:`reset_gap` when no samples are expected). Within a disconnect
        the disconnect's Gap covers it (with ``samples_missing`` None)."""
        self.extra["puck_resets"] += 1
        for _, ev in self._held:
            ev.uncertain = True
            self.extra["uncertain_events"] += 1
            out.append(self._stamp(ev))
        self._held = []
        if self._pending_disc is not None:
            self._pending_disc["restarted"] = True
        else:
            self._pending_disc = {"host_start": now, "host_end": now, "t_start": self._last_t,
                                  "reason": "puck_reset", "restarted": True}
            self._reset_new = True
        self._gaps.clear()          # the old time line is over
        self._ref_us = None
        self._last_t = None
        self._uptime_ms = None
        self._rebase = True
        self._fix_pending = False
        if self.clock is not None:
            self.clock.reset()

    def _seq_restarted(self) -> bool:
        r = self.decoder.counters.seq_resets + self._base.get("seq_resets", 0)
        new, self._resets_seen = r > self._resets_seen, r
        return new

    def take_reset(self) -> bool:
        """True once after a puck reset seen on a live link (not within a disconnect)."""
        r, self._reset_new = self._reset_new, False
        return r

    def reset_gap(self) -> list[Event]:
        """The Gap of a puck reset now, when no samples are expected to end it."""
        if self._pending_disc is None or self._pending_disc.get("reason") != "puck_reset":
            return []
        return [self._disc_gap(None)]

    # -- data ---------------------------------------------------------------------
    def feed(self, data: bytes, now: float | None = None) -> tuple[list, list]:
        now = time.monotonic() if now is None else now
        if data:
            self._mid_frame = data[-1] != 0
        c0 = self.decoder.counters
        out: list = []
        control: list = []
        resets = self.extra["puck_resets"]
        for item in self.decoder.feed(data):
            if isinstance(item, SampleBlock):
                out.extend(self._samples(item))
            else:
                self._message(item, now, out, control)
        c1 = self.decoder.counters
        if self._seq_restarted() and self.extra["puck_resets"] == resets:
            # the puck's seq restarted: it rebooted. (Checked per chunk: the
            # samples of a restarted puck come only after the host's start.)
            self._puck_reset(now, out)
        lost = c1.lost_frames - c0.lost_frames
        if lost > 0 and self._last_t is not None:
            # frames missing by sequence number: the stretch around now is unsure
            t0 = self._last_t - (self.period or 0.0) * 36
            self._gaps.append((t0, self._last_t + (self.period or 0.0) * 36))
            self.extra["gaps"] += 1
            out.append(Gap(t=self._last_t, t_start=t0, t_end=self._last_t, reason="lost_frames",
                           frames_lost=lost, uncertain=True))
        out.extend(self.poll(now))
        return out, control

    def _samples(self, b: SampleBlock) -> list:
        out: list = []
        if len(b) == 0:
            return out
        if self._fix_pending:
            self._fix_pending = False
            ref = self._last_t
            if ref is not None:
                delta = b.t[0] - ref
                k = round(delta / (_U32 * 1e-6))
                self._t_fix = -k * _U32 * 1e-6
        if self._rebase:
            # after a restart: device time since it (the decoder unwrapped the
            # new t0 against the old time line, a whole number of 2^32 us off)
            self._rebase = False
            us = int(round(float(b.t[0]) * 1e6))
            self._t_fix = ((us % _U32) - us) * 1e-6
        if self._t_fix:
            b = SampleBlock(b.t + self._t_fix, b.accel, b.gyro, b.force, b.raw)
        t = b.t
        if len(t) > 2:
            d = np.diff(t)
            p = float(np.median(d))
            if p > 0:
                self.period = p
        if self._pending_disc is not None:
            if self._seq_restarted():   # the puck restarted during the disconnect
                self._pending_disc["restarted"] = True
                self.extra["puck_resets"] += 1
            out.append(self._disc_gap(float(t[0])))
        prev = self._last_t
        if prev is not None and self.period:
            seq = np.concatenate(([prev], t))
        else:
            seq = t
        if self.period and len(seq) > 1:
            dt = np.diff(seq)
            for i in np.nonzero(dt > 1.5 * self.period)[0]:
                a, z = float(seq[i]), float(seq[i + 1])
                missing = max(1, int(round((z - a) / self.period)) - 1)
                self._gaps.append((a, z))
                self.extra["gaps"] += 1
                self.extra["samples_missing"] += missing
                out.append(Gap(t=z, t_start=a, t_end=z, reason="dropped_samples",
                               samples_missing=missing, uncertain=True))
        self._last_t = float(t[-1])
        self._advance(self._last_t)
        out.append(b)
        return out

    def _message(self, m: protocol.Message, now: float, out: list, control: list) -> None:
        f = m.fields
        typ = m.type
        if typ == "device_info":
            self.info = DeviceInfo.from_message(m)
            control.append(m)
            return
        if typ in ("ack", "nack", "pong", "config"):
            control.append(m)
            if typ == "config":
                keys = {v: k for k, v in protocol.ENUMS["config_key"].items()}
                out.append(Config(t=self._last_t or 0.0, key=keys.get(f["key"], str(f["key"])),
                                  value=f["value"]))
            return
        ev: Event | None = None
        if typ == "rep":
            ev = Rep(t=self.unwrap(f["t_end_us"]), exercise=exercise_name(f["exercise"]),
                     count=f["count"], t_start=self.unwrap(f["t_start_us"]),
                     t_peak=self.unwrap(f["t_peak_us"]), t_end=self.unwrap(f["t_end_us"]),
                     amplitude=f["amplitude"] * 0.001, unit=exercise_unit(f["exercise"]),
                     hold_s=f["hold_ms"] * 0.001)
        elif typ == "partial_rep":
            ev = PartialRep(t=self.unwrap(f["t_end_us"]), exercise=exercise_name(f["exercise"]),
                            count=f["count"], t_start=self.unwrap(f["t_start_us"]),
                            t_peak=self.unwrap(f["t_peak_us"]), t_end=self.unwrap(f["t_end_us"]),
                            amplitude=f["amplitude"] * 0.001, unit=exercise_unit(f["exercise"]))
        elif typ == "grip":
            ev = Grip(t=self.unwrap(f["t_end_us"]), t_start=self.unwrap(f["t_start_us"]),
                      t_end=self.unwrap(f["t_end_us"]), peak_force=f["peak_force"] * 0.01,
                      hold_s=f["hold_ms"] * 0.001)
        elif typ == "status":
            up = f["uptime_ms"]
            if self._uptime_ms is not None and up + 1000 < self._uptime_ms:
                self._puck_reset(now, out)   # uptime went back: the puck restarted
            self._uptime_ms = up
            ev = Status(t=self._last_t if self._last_t is not None else f["uptime_ms"] * 1e-3,
                        battery_v=f["battery_mv"] * 1e-3, battery_pct=f["battery_pct"],
                        dropped_samples=f["dropped_samples"], uptime_s=f["uptime_ms"] * 1e-3,
                        streaming=bool(f["streaming"]), exercise=exercise_name(f["exercise"]),
                        reps=f["reps"], partial_reps=f["partial_reps"], rx_errors=f["rx_errors"],
                        reset_cause=_RESET.get(f["reset_cause"], str(f["reset_cause"])))
            self.status = ev
            control.append(m)
            out.append(self._stamp(ev))
            return
        elif typ == "log":
            ev = Log(t=self._last_t or 0.0, level=_LEVELS.get(f["level"], str(f["level"])),
                     text=f["text"])
            out.append(self._stamp(ev))
            return
        if ev is None:
            return
        if self.hold_s > 0 and self._last_t is not None and self._last_t < ev.t:
            self._held.append((now, ev))
        else:
            out.append(self._judge(ev))

    def _judge(self, ev: Event) -> Event:
        a = getattr(ev, "t_start", ev.t)
        z = getattr(ev, "t_end", ev.t)
        pad = 2 * (self.period or 0.005)
        for g0, g1 in self._gaps:
            if g0 <= z + pad and g1 >= a - pad:
                ev.uncertain = True
                self.extra["uncertain_events"] += 1
                break
        return self._stamp(ev)

    def _stamp(self, ev: Event) -> Event:
        if self.clock is not None and self.clock.synced and ev.host_time is None:
            try:
                ev.host_time = self.clock.to_wall(ev.t)[0]
            except LookupError:
                pass
        return ev

    def poll(self, now: float | None = None) -> list[Event]:
        """Held events that are now covered by samples or have waited long enough."""
        if not self._held:
            return []
        now = time.monotonic() if now is None else now
        out, keep = [], []
        for arrived, ev in self._held:
            if (self._last_t is not None and self._last_t >= ev.t) or now - arrived >= self.hold_s:
                out.append(self._judge(ev))
            else:
                keep.append((arrived, ev))
        self._held = keep
        return out

    def finish(self) -> list[Event]:
        """Release everything held (the end of a stream)."""
        out = [self._judge(ev) for _, ev in self._held]
        self._held = []
        return out

    def gaps(self) -> list[tuple[float, float]]:
        return list(self._gaps)
