"""Clock sync: device time to host time, with an error bound, from ping/pong.

Each ping carries the host's send time; the pong echoes it with the device
time at which the puck handled it. With ``s`` the send time, ``r`` the
receive time and ``d`` the device time, the device read ``d`` somewhere in
``[s, r]``: the host time of ``d`` is ``(s + r) / 2`` within ``(r - s) / 2``.

The filter keeps the exchanges of the last :attr:`ClockSync.window` seconds
and trusts the one with the smallest round trip (a queueing delay only ever
makes a round trip longer: the min-RTT filter of NTP and of LSL). With two
trusted points far enough apart it also estimates the drift (the two
crystals differ by up to ~100 ppm) by a straight line through the lowest-RTT
exchange of each half of the window. The bound of a mapping is the chosen
exchange's half round trip, plus the assumed drift error
(:attr:`ClockSync.drift_ppm`) times the time since that exchange.

Host times are ``time.monotonic()`` seconds (the clock LSL's ``local_clock``
uses on Linux); :meth:`ClockSync.to_wall` gives Unix time.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Exchange:
    sent: float      #: host monotonic s when the ping left
    received: float  #: host monotonic s when the pong arrived
    device: float    #: device s (unwrapped) when the puck handled the ping

    @property
    def rtt(self) -> float:
        return self.received - self.sent

    @property
    def offset(self) -> float:
        """host - device at this exchange."""
        return (self.sent + self.received) / 2 - self.device


class ClockSync:
    """Maps device seconds to host seconds; fed with ping/pong exchanges."""

    def __init__(self, window: float = 60.0, drift_ppm: float = 100.0, max_points: int = 256) -> None:
        self.window = window
        self.drift_ppm = drift_ppm
        self._ex: deque[Exchange] = deque(maxlen=max_points)
        self._wall_minus_mono = time.time() - time.monotonic()
        self.skew = 0.0   #: estimated (device rate / host rate) - 1

    def add(self, sent: float, received: float, device: float) -> None:
        if received < sent:
            return
        self._ex.append(Exchange(sent, received, device))
        newest = self._ex[-1].received
        while self._ex and newest - self._ex[0].received > self.window:
            self._ex.popleft()
        self._fit()

    def reset(self) -> None:
        """Forget every exchange (the puck rebooted: its clock started again)."""
        self._ex.clear()
        self.skew = 0.0

    @property
    def synced(self) -> bool:
        return bool(self._ex)

    @property
    def exchanges(self) -> int:
        return len(self._ex)

    @property
    def best(self) -> Exchange | None:
        return min(self._ex, key=lambda e: e.rtt) if self._ex else None

    @property
    def rtt(self) -> float | None:
        """The smallest round trip in the window, s."""
        b = self.best
        return b.rtt if b else None

    def _fit(self) -> None:
        ex = list(self._ex)
        if len(ex) < 4:
            self.skew = 0.0
            return
        half = len(ex) // 2
        a = min(ex[:half], key=lambda e: e.rtt)
        b = min(ex[half:], key=lambda e: e.rtt)
        span = b.device - a.device
        if span < 5.0:  # too short to tell drift from jitter
            self.skew = 0.0
            return
        skew = (b.offset - a.offset) / span
        self.skew = max(-self.drift_ppm * 1e-6, min(self.drift_ppm * 1e-6, skew))

    def to_host(self, device_t: float) -> tuple[float, float]:
        """(host monotonic s, error bound s) of device time ``device_t``."""
        b = self.best
        if b is None:
            raise LookupError("clock not synced yet (no pong received)")
        dt = device_t - b.device
        host = b.offset + device_t + self.skew * dt
        err = b.rtt / 2 + abs(dt) * self.drift_ppm * 1e-6
        return host, err

    def to_wall(self, device_t: float) -> tuple[float, float]:
        """(Unix time s, error bound s) of device time ``device_t``."""
        h, e = self.to_host(device_t)
        return h + self._wall_minus_mono, e

    def __repr__(self) -> str:
        b = self.best
        if b is None:
            return "<ClockSync not synced>"
        return (f"<ClockSync offset={b.offset:+.6f}s rtt={b.rtt * 1e3:.2f}ms "
                f"skew={self.skew * 1e6:+.1f}ppm n={len(self._ex)}>")
