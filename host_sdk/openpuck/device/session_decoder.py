"""The session decoder: a puck's byte stream in, events and sample blocks out.

What the events mean (times, ``host_time``, ``uncertain``, a puck's restart)
is said once, in :mod:`openpuck.device.events`. A live session holds an event back
until the samples up to its end have arrived (at most :data:`HOLD_S`) so
that a gap reported just after it still counts.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .. import protocol
from .decoder import Counters, SampleBlock, StreamDecoder
from .events import Config, DeviceInfo, Event, Log, Status, Target
from .gap_tracker import GapTracker
from .message_events import event_from_message

HOLD_S = 0.3

#: messages a command waits for (see :class:`openpuck.device.pending.PendingCommands`)
_CONTROL = frozenset({"ack", "nack", "pong", "config", "device_info", "status", "proof",
                      "log_info", "log_data"})


class SessionDecoder:
    """Bytes in, events and sample blocks out: the one place a stream becomes
    events, used live by :class:`openpuck.Puck` and offline by export/plot.

    ``feed(data, now)`` returns ``(items, control)``: ``items`` in order,
    events (held until certain, see the module doc) and sample blocks;
    ``control`` the messages a command waits for (ack, nack, pong, config,
    device_info, status, proof, log_info, log_data). Call :meth:`poll` now and then to release held
    events and :meth:`finish` at the end of a stream.

    The work is shared: a :class:`~openpuck.device.decoder.StreamDecoder` turns bytes
    into messages and sample blocks, :func:`~openpuck.device.message_events.event_from_message`
    messages into events, and a :class:`~openpuck.device.gap_tracker.GapTracker`
    finds the gaps and puck resets. This class holds events back until they
    are certain and stamps them with host time.
    """

    def __init__(self, *, hold_s: float = HOLD_S, clock: Any = None,
                 decoder_factory: Callable[[], Any] = StreamDecoder) -> None:
        self.hold_s = hold_s
        self.clock = clock
        self._factory = decoder_factory
        self.decoder = decoder_factory()
        self._retired = Counters()   # the counts of decoders replaced after a partial frame
        self.tracker = GapTracker()
        self.info: DeviceInfo | None = None
        self.status: Status | None = None
        #: the target the puck counts against (its unit), from its latest target message
        #: or status; None before either, or while an auto target is not learned
        self.target: float | None = None
        self.target_event: Target | None = None   #: the latest target message, as an event
        self._mid_frame = False      # the bytes so far end inside a frame
        self._held: list[tuple[float, Event]] = []   # (arrival, event)

    # -- counters -------------------------------------------------------------
    @property
    def counters(self) -> dict[str, int]:
        """The stream decoder's counters (frames, samples, lost_frames, crc_errors...)
        and the tracker's (gaps, disconnects, partial_frames, puck_resets...)."""
        retired = self._retired.as_dict()
        c = {k: v + retired.get(k, 0) for k, v in self.decoder.counters.as_dict().items()}
        c.update(self.tracker.counters)
        return c

    def _seq_resets(self) -> int:
        return self.decoder.counters.seq_resets + self._retired.seq_resets

    # -- time -----------------------------------------------------------------
    def unwrap(self, us: int) -> float:
        """Device u32 microseconds -> unwrapped seconds, nearest the latest time seen."""
        return self.tracker.unwrap(us)

    @property
    def last_t(self) -> float | None:
        """Device s of the latest sample (None before the first, and after a puck reset)."""
        return self.tracker.state.last_t

    @property
    def period(self) -> float | None:
        """The sample period, s (None before a block of three samples)."""
        return self.tracker.state.period

    # -- link events --------------------------------------------------------------
    def link_lost(self, now: float) -> None:
        """The link dropped: drop a partial frame, start gap bookkeeping."""
        partial = self._mid_frame
        if partial:
            # the cut frame's tail will never come: a fresh decoder, so the
            # first bytes of the new link are not read as its end
            old = self.decoder.counters.as_dict()
            self._retired = Counters(**{k: v + old.get(k, 0)
                                        for k, v in self._retired.as_dict().items()})
            self.decoder = self._factory()
            self._mid_frame = False
        self.tracker.link_lost(now, partial_frame=partial)

    def link_restored(self, now: float, streaming: bool) -> list[Event]:
        """The link is back. Returns a Gap now when no samples are expected
        (``streaming`` False)."""
        return list(self.tracker.link_restored(now, samples_expected=streaming))

    def take_reset(self) -> bool:
        """True once after a puck reset seen on a live link (not within a disconnect)."""
        return self.tracker.take_reset()

    def reset_gap(self) -> list[Event]:
        """The Gap of a puck reset now, when no samples are expected to end it."""
        return list(self.tracker.reset_gap())

    def _puck_reset(self, now: float, out: list) -> None:
        """The puck restarted (seq restarted, uptime went back). Events held
        from before it are released as uncertain: the samples to their end
        will never come. See :meth:`GapTracker.puck_reset`."""
        for _, ev in self._held:
            self.tracker.mark_uncertain(ev)
            out.append(self._stamp(ev))
        self._held = []
        self.target = None         # a restarted puck learns an auto target again
        self.target_event = None
        self.tracker.puck_reset(now)
        if self.clock is not None:
            self.clock.reset()

    # -- data ---------------------------------------------------------------------
    def feed(self, data: bytes, now: float | None = None) -> tuple[list, list]:
        now = time.monotonic() if now is None else now
        if data:
            self._mid_frame = data[-1] != 0
        lost_before = self.decoder.counters.lost_frames
        items = self.decoder.feed(data)
        seq_resets = self._seq_resets()
        resets_before = self.tracker.state.counters.puck_resets
        out: list = []
        control: list = []
        for item in items:
            if isinstance(item, SampleBlock):
                out.extend(self.tracker.samples(item, seq_resets))
            else:
                self._message(item, now, out, control)
        if (self.tracker.seq_restarted(seq_resets)
                and self.tracker.state.counters.puck_resets == resets_before):
            # the puck's seq restarted: it rebooted. (Checked per chunk: the
            # samples of a restarted puck come only after the host's start.)
            self._puck_reset(now, out)
        gap = self.tracker.lost_frames(self.decoder.counters.lost_frames - lost_before)
        if gap is not None:
            out.append(gap)
        out.extend(self.poll(now))
        return out, control

    def _message(self, m: protocol.Message, now: float, out: list, control: list) -> None:
        if m.type in _CONTROL:
            control.append(m)
        if m.type == "device_info":
            self.info = DeviceInfo.from_message(m)
            return
        if m.type == "status":
            up = m["uptime_ms"]
            if self.tracker.uptime_went_back(up):
                self._puck_reset(now, out)
            self.tracker.note_uptime(up)
        ev = event_from_message(m, self.tracker.unwrap, self.last_t)
        if ev is None:
            return
        if isinstance(ev, (Status, Target)):
            # at arrival, not when a held event is released: the puck counts against it now
            self.target = ev.target if isinstance(ev, Status) else ev.value
        if isinstance(ev, Target):
            self.target_event = ev
        if isinstance(ev, Config):
            out.append(ev)
        elif isinstance(ev, (Status, Log)):
            if isinstance(ev, Status):
                self.status = ev
            out.append(self._stamp(ev))
        elif self.hold_s > 0 and self.last_t is not None and self.last_t < ev.t:
            self._held.append((now, ev))   # its samples are still on the way
        else:
            out.append(self._judge(ev))

    def _judge(self, ev: Event) -> Event:
        self.tracker.judge(ev)
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
        last_t = self.last_t
        out, keep = [], []
        for arrived, ev in self._held:
            if (last_t is not None and last_t >= ev.t) or now - arrived >= self.hold_s:
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
