"""The gap-and-reset tracker: where the host's view of a puck's stream has holes.

It keeps the session's time line (the device time of the latest sample, the
sample period, the unwrapping of u32 device microseconds) and notices what
breaks it: samples missing between blocks, frames missing by sequence
number, a disconnect, and a puck that restarted (its seq restarted, its
uptime went back). Each becomes a :class:`~openpuck.device.events.Gap`, and the
stretch of device time it covers is remembered so that an event overlapping
it can be marked uncertain (:meth:`GapTracker.judge`).

All of its state is one :class:`TrackerState`; it needs no stream decoder,
no clock and no transport: :class:`~openpuck.device.session_decoder.SessionDecoder`
feeds it sample blocks and what the decoder counted.
"""
from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .decoder import SampleBlock
from .events import Event, Gap

_U32 = 1 << 32
_U32_S = _U32 * 1e-6
#: a lost frame held up to 35 samples: the stretch this many periods either side is unsure
_LOST_FRAME_SPAN = 36
#: samples further apart than this many periods have samples missing between them
_DROP_FACTOR = 1.5
#: padding, in sample periods, of the overlap test between an event and a gap
_PAD_PERIODS = 2
#: period assumed for the padding before one is measured (200 Hz)
_DEFAULT_PERIOD = 0.005
#: uptime going back by more than this (ms) is a restart, not status jitter
_UPTIME_SLACK_MS = 1000


@dataclass
class GapCounters:
    """What the tracker counted (these keys are part of
    :attr:`SessionDecoder.counters` and :attr:`Puck.counters`)."""

    partial_frames: int = 0     #: frames cut in half by a disconnect, dropped
    disconnects: int = 0
    gaps: int = 0               #: Gap events reported
    samples_missing: int = 0    #: samples missing between blocks
    uncertain_events: int = 0
    puck_resets: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass
class OpenGap:
    """A disconnect or a puck reset whose Gap waits for the first samples after it."""

    reason: str                      #: ``"disconnected"`` or ``"puck_reset"``
    host_start: float                #: host monotonic s when it began
    t_start: float | None            #: the last sample before it, device s
    host_end: float | None = None    #: host monotonic s when the link came back
    restarted: bool = False          #: the puck restarted within it: its clock began again at 0


@dataclass
class TrackerState:
    """Everything the tracker knows."""

    counters: GapCounters = field(default_factory=GapCounters)
    last_t: float | None = None      #: device s of the latest sample
    period: float | None = None      #: sample period, s (median of the latest block)
    ref_us: int | None = None        #: latest unwrapped device time, us: what unwrap() is nearest to
    #: device-time stretches (start, end) a gap covers; an event overlapping one is uncertain
    unsure: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=4096))
    open_gap: OpenGap | None = None
    uptime_ms: int | None = None     #: the latest status's uptime
    t_fix: float = 0.0               #: s added to sample times (whole 2^32 us turns, see samples())
    fix_pending: bool = False        #: the next block comes from a new decoder: find its t_fix
    rebase: bool = False             #: the next block starts a new time line (after a restart)
    reset_untaken: bool = False      #: a reset on a live link that take_reset() has not reported
    seq_resets_seen: int = 0         #: the decoders' seq_resets already accounted for


class GapTracker:
    """Gaps and puck resets of one session, from sample blocks and link events."""

    def __init__(self) -> None:
        self.state = TrackerState()

    @property
    def counters(self) -> dict[str, int]:
        return self.state.counters.as_dict()

    # -- time -----------------------------------------------------------------
    def unwrap(self, us: int) -> float:
        """Device u32 microseconds -> unwrapped seconds, nearest the latest time seen."""
        s = self.state
        if s.ref_us is None:
            s.ref_us = us
            return us * 1e-6
        d = (us - s.ref_us) % _U32
        if d >= _U32 // 2:
            d -= _U32
        return (s.ref_us + d) * 1e-6

    def _advance(self, t: float) -> None:
        s = self.state
        us = int(round(t * 1e6))
        if s.ref_us is None or us > s.ref_us or us < s.ref_us - _U32 // 2:
            s.ref_us = us

    # -- the link -------------------------------------------------------------
    def link_lost(self, now: float, partial_frame: bool) -> None:
        """The link dropped at host time ``now``; ``partial_frame``: a frame was
        cut in half (the caller drops it and starts a new stream decoder)."""
        s = self.state
        s.counters.disconnects += 1
        if partial_frame:
            s.counters.partial_frames += 1
            s.fix_pending = True   # the new decoder unwraps device time afresh
        s.open_gap = OpenGap("disconnected", host_start=now, t_start=s.last_t)

    def link_restored(self, now: float, samples_expected: bool) -> list[Gap]:
        """The link is back. The Gap of the disconnect comes with the first
        samples after it; when none are expected it is returned now."""
        g = self.state.open_gap
        if g is None:
            return []
        g.host_end = now
        return [] if samples_expected else [self._close_gap(None)]

    # -- puck resets ------------------------------------------------------------
    def seq_restarted(self, seq_resets: int) -> bool:
        """True once for each new seq restart: ``seq_resets`` is the stream
        decoders' count so far."""
        s = self.state
        new, s.seq_resets_seen = seq_resets > s.seq_resets_seen, seq_resets
        return new

    def uptime_went_back(self, uptime_ms: int) -> bool:
        """Whether a status's uptime is more than a second behind the last one
        (the puck restarted). Call :meth:`note_uptime` after handling it."""
        last = self.state.uptime_ms
        return last is not None and uptime_ms + _UPTIME_SLACK_MS < last

    def note_uptime(self, uptime_ms: int) -> None:
        self.state.uptime_ms = uptime_ms

    def puck_reset(self, now: float) -> None:
        """The puck restarted. The next samples start a new time line (device
        time since the restart); a Gap ``"puck_reset"`` is reported when they
        come (or by :meth:`reset_gap` when none are expected). Within a
        disconnect, the disconnect's Gap covers it (``samples_missing`` None).
        The caller releases the events it holds (see :meth:`mark_uncertain`)."""
        s = self.state
        s.counters.puck_resets += 1
        if s.open_gap is not None:
            s.open_gap.restarted = True
        else:
            s.open_gap = OpenGap("puck_reset", host_start=now, host_end=now, t_start=s.last_t,
                                 restarted=True)
            s.reset_untaken = True
        s.unsure.clear()            # the old time line is over
        s.ref_us = None
        s.last_t = None
        s.uptime_ms = None
        s.rebase = True
        s.fix_pending = False

    def take_reset(self) -> bool:
        """True once after a puck reset on a live link (not within a disconnect)."""
        s = self.state
        r, s.reset_untaken = s.reset_untaken, False
        return r

    def reset_gap(self) -> list[Gap]:
        """The Gap of a puck reset now, when no samples are expected to end it."""
        g = self.state.open_gap
        if g is None or g.reason != "puck_reset":
            return []
        return [self._close_gap(None)]

    # -- samples and frames ------------------------------------------------------
    def samples(self, b: SampleBlock, seq_resets: int) -> list[Gap | SampleBlock]:
        """A block of samples in; out, the Gaps it reveals and then the block,
        its times put on the session's time line. ``seq_resets``: as for
        :meth:`seq_restarted`."""
        s = self.state
        out: list[Gap | SampleBlock] = []
        if len(b) == 0:
            return out
        if s.fix_pending:
            # a new decoder unwrapped its first time afresh: a whole number of
            # 2^32 us away from the old time line
            s.fix_pending = False
            if s.last_t is not None:
                turns = round((b.t[0] - s.last_t) / _U32_S)
                s.t_fix = -turns * _U32 * 1e-6
        if s.rebase:
            # after a restart: device time since it (the decoder unwrapped the
            # new t0 against the old time line, a whole number of 2^32 us off)
            s.rebase = False
            us = int(round(float(b.t[0]) * 1e6))
            s.t_fix = ((us % _U32) - us) * 1e-6
        if s.t_fix:
            b = SampleBlock(b.t + s.t_fix, b.accel, b.gyro, b.force, b.raw)
        t = b.t
        if len(t) > 2:
            p = float(np.median(np.diff(t)))
            if p > 0:
                s.period = p
        if s.open_gap is not None:
            if self.seq_restarted(seq_resets):   # the puck restarted during the disconnect
                s.open_gap.restarted = True
                s.counters.puck_resets += 1
            out.append(self._close_gap(float(t[0])))
        out.extend(self._dropped(t))
        s.last_t = float(t[-1])
        self._advance(s.last_t)
        out.append(b)
        return out

    def _dropped(self, t: np.ndarray) -> list[Gap]:
        """Gaps where samples are missing, within ``t`` or since the last block."""
        s = self.state
        if not s.period:
            return []
        seq = np.concatenate(([s.last_t], t)) if s.last_t is not None else t
        gaps = []
        for i in np.nonzero(np.diff(seq) > _DROP_FACTOR * s.period)[0]:
            a, z = float(seq[i]), float(seq[i + 1])
            missing = max(1, int(round((z - a) / s.period)) - 1)
            s.unsure.append((a, z))
            s.counters.gaps += 1
            s.counters.samples_missing += missing
            gaps.append(Gap(t=z, t_start=a, t_end=z, reason="dropped_samples",
                            samples_missing=missing, uncertain=True))
        return gaps

    def lost_frames(self, n: int) -> Gap | None:
        """``n`` frames were missing by sequence number (0: none): the Gap,
        around the latest sample, or None."""
        s = self.state
        if n <= 0 or s.last_t is None:
            return None
        span = (s.period or 0.0) * _LOST_FRAME_SPAN
        t0 = s.last_t - span
        s.unsure.append((t0, s.last_t + span))
        s.counters.gaps += 1
        return Gap(t=s.last_t, t_start=t0, t_end=s.last_t, reason="lost_frames", frames_lost=n,
                   uncertain=True)

    def _close_gap(self, t_end: float | None) -> Gap:
        """The Gap of the open disconnect or reset, ending at the sample ``t_end``
        (None: no sample came after it)."""
        s = self.state
        g, s.open_gap = s.open_gap, None
        assert g is not None
        t0 = g.t_start
        # device time went back: the puck restarted during the gap
        restarted = g.restarted or (t0 is not None and t_end is not None and t_end < t0)
        missing: int | None = None if restarted else 0
        if restarted:
            if t_end is not None:  # the new time line: anything before its first sample
                s.unsure.append((float("-inf"), t_end))
        elif t0 is not None and t_end is not None:
            s.unsure.append((t0, t_end))
            if s.period:
                missing = max(0, int(round((t_end - t0) / s.period)) - 1)
        s.counters.gaps += 1
        host_end = g.host_end if g.host_end is not None else g.host_start
        return Gap(t=t_end if t_end is not None else (t0 or 0.0), t_start=t0, t_end=t_end,
                   reason=g.reason, samples_missing=missing,
                   host_duration=host_end - g.host_start, uncertain=True)

    # -- events -------------------------------------------------------------------
    def judge(self, ev: Event) -> None:
        """Mark ``ev`` uncertain when a gap overlaps it, padded by two sample periods."""
        a = getattr(ev, "t_start", ev.t)
        z = getattr(ev, "t_end", ev.t)
        pad = _PAD_PERIODS * (self.state.period or _DEFAULT_PERIOD)
        if any(g0 <= z + pad and g1 >= a - pad for g0, g1 in self.state.unsure):
            self.mark_uncertain(ev)

    def mark_uncertain(self, ev: Event) -> None:
        """Mark ``ev`` uncertain (and count it)."""
        ev.uncertain = True
        self.state.counters.uncertain_events += 1
