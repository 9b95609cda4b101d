"""A fake puck speaking the wire protocol over an in-memory loop link.

Used by the SDK tests where the virtual puck is not needed (or not built
yet): it answers every command with ack or nack, pongs pings, and while
streaming sends samples at ``rate_hz`` in frames of ``batch`` samples, a
force bump every ``bump_every_s`` with its grip and rep events at the bump's
end, and a status message a second. Faults are injected by the tests:
``nack`` (command name -> error name), ``skip_samples`` (drop a stretch),
``break_mid_frame()`` (cut the link in the middle of a frame).
"""
from __future__ import annotations

import itertools
import threading
import time

import numpy as np

from openpuck import protocol
from openpuck.device.transports import loop
from openpuck.device.transports.base import ConnectionLost

U32 = 1 << 32


class FakePuck:
    def __init__(self, name: str = "fake", *, rate_hz: int = 200, batch: int = 10,
                 bump_every_s: float = 0.5, bump_len_s: float = 0.25, peak_n: float = 20.0,
                 t0_us: int = 0, serial: str = "FAKE0001") -> None:
        self.name, self.rate_hz, self.batch = name, rate_hz, batch
        self.bump_every_s, self.bump_len_s, self.peak_n = bump_every_s, bump_len_s, peak_n
        self.serial = serial
        self.nack: dict[str, str] = {}
        self.silent = False          # True: commands are read and never answered
        self.received: list[protocol.Message] = []
        self.connections = 0
        self.t0_us = t0_us
        self._mono0 = time.monotonic()
        self._seq = itertools.count()
        self._end: loop.LoopEnd | None = None
        self._lock = threading.Lock()
        self.streaming = False
        self.exercise, self.target = 1, 30000
        self.reps = 0
        self.skip_samples: tuple[float, float] | None = None  # device s interval not sent
        self._sample_idx = 0
        self._stop = threading.Event()
        self.config = {1: 200, 5: 30000}
        loop.register(name, self.attach)

    @property
    def url(self) -> str:
        return f"loop:{self.name}"

    def device_us(self) -> int:
        return (self.t0_us + int((time.monotonic() - self._mono0) * 1e6)) % U32

    # -- link ----------------------------------------------------------------
    def attach(self, end: loop.LoopEnd) -> None:
        self.connections += 1
        self._end = end
        gen = self.connections
        threading.Thread(target=self._rx, args=(end, gen), daemon=True).start()
        threading.Thread(target=self._tx, args=(end, gen), daemon=True).start()

    def send(self, name: str, end: loop.LoopEnd | None = None, **fields) -> None:
        end = end or self._end
        with self._lock:
            end.write(protocol.encode(name, seq=next(self._seq) & 0xFFFF, **fields))

    def break_mid_frame(self) -> None:
        """Send half a frame, then cut the link."""
        end = self._end
        frame = protocol.encode("log", seq=next(self._seq) & 0xFFFF, level=1, text="x" * 40)
        with self._lock:
            end.write(frame[:20])
            end.break_link()

    def close(self) -> None:
        self._stop.set()
        loop.unregister(self.name)
        if self._end is not None:
            self._end.break_link()

    # -- device behaviour ---------------------------------------------------------
    def device_info(self, end=None) -> None:
        self.send("device_info", end, fw_major=0, fw_minor=1, fw_patch=0, protocol_version=1,
                  capabilities=0x3F, accel_range_g=4, gyro_range_dps=500, force_max_n=500,
                  accel_g_per_lsb=1 / 8192, gyro_dps_per_lsb=1 / 65.536, force_n_per_lsb=0.05,
                  max_rate_hz=400, rates_hz=0x1F, board="fake", serial=self.serial)

    def _rx(self, end: loop.LoopEnd, gen: int) -> None:
        buf = bytearray()
        while not self._stop.is_set() and gen == self.connections:
            try:
                data = end.read(0.05)
            except ConnectionLost:
                return
            buf += data
            while b"\x00" in buf:
                i = buf.index(0)
                frame, buf = bytes(buf[:i + 1]), buf[i + 1:]
                try:
                    m = protocol.decode(frame)
                except Exception:  # noqa: BLE001 - damaged command: a real puck counts rx_errors
                    self.rx_errors = getattr(self, "rx_errors", 0) + 1
                    self.bad_frames = getattr(self, "bad_frames", []) + [frame]
                    continue
                self.received.append(m)
                try:
                    self._handle(m, end)
                except ConnectionLost:
                    return

    def _handle(self, m: protocol.Message, end) -> None:
        tid = protocol.SPECS[m.type].id
        if self.silent:
            return
        if m.type in self.nack:
            self.send("nack", end, cmd_type=tid, cmd_seq=m.seq,
                      error=protocol.ENUMS["nack_error"][self.nack[m.type]], detail=0)
            return
        self.send("ack", end, cmd_type=tid, cmd_seq=m.seq)
        if m.type == "ping":
            self.send("pong", end, host_time_us=m["host_time_us"], device_time_us=self.device_us())
        elif m.type == "get_info":
            self.device_info(end)
        elif m.type == "start":
            self.device_info(end)
            self.rate_hz = m["rate_hz"]
            self._next_us = self.device_us()
            self.streaming = True
        elif m.type == "stop":
            self.streaming = False
        elif m.type == "set_exercise":
            self.exercise, self.target, self.reps = m["exercise"], m["target"], 0
        elif m.type in ("get_config", "set_config"):
            if m.type == "set_config":
                self.config[m["key"]] = m["value"]
            self.send("config", end, key=m["key"], value=self.config.get(m["key"], 0))
        elif m.type == "get_status":
            self._status(end)

    def _status(self, end) -> None:
        self.send("status", end, battery_mv=3900, battery_pct=80, dropped_samples=0,
                  uptime_ms=self.device_us() // 1000, streaming=int(self.streaming),
                  exercise=self.exercise, reps=self.reps, partial_reps=0, rx_errors=0,
                  reset_cause=0, cpu_load=50, link_dropped_samples=0, link_dropped_frames=0, target=0)

    def force_at(self, t_s: float) -> float:
        ph = t_s % self.bump_every_s
        if ph < self.bump_len_s:
            return self.peak_n * np.sin(np.pi * ph / self.bump_len_s) ** 2
        return 0.0

    def _tx(self, end: loop.LoopEnd, gen: int) -> None:
        period_us = None
        last_status = time.monotonic()
        while not self._stop.is_set() and gen == self.connections:
            time.sleep(self.batch / max(self.rate_hz, 1) / 2)
            if not self.streaming:
                continue
            period_us = 1_000_000 // self.rate_hz
            try:
                while (self.device_us() - self._next_us) % U32 >= self.batch * period_us \
                        and (self.device_us() - self._next_us) % U32 < U32 // 2:
                    self._batch(end, self._next_us, period_us)
                    self._next_us = (self._next_us + self.batch * period_us) % U32
                if time.monotonic() - last_status > 1.0:
                    last_status = time.monotonic()
                    self._status(end)
            except ConnectionLost:
                return

    def _batch(self, end, t0_us: int, period_us: int) -> None:
        recs = []
        for i in range(self.batch):
            t_us = t0_us + i * period_us          # unwrapped enough for the force shape
            t_s = t_us * 1e-6
            recs.append((0, 0, 8192, 0, 0, 0, int(round(self.force_at(t_s) / 0.05))))
            # the end of a bump: grip and rep events
            ph = t_s % self.bump_every_s
            if self.bump_len_s <= ph < self.bump_len_s + period_us * 1e-6:
                start_us = int((t_s - ph) * 1e6) % U32
                end_us = int((t_s - ph + self.bump_len_s) * 1e6) % U32
                self._pending_events = getattr(self, "_pending_events", []) + [(start_us, end_us)]
        skip = self.skip_samples
        if skip is not None and skip[0] <= t0_us * 1e-6 < skip[1]:
            pass  # dropped by the "sampler"
        else:
            self.send("samples", end, t0_us=t0_us % U32, period_us=period_us, n=len(recs),
                      samples=recs)
        for start_us, end_us in getattr(self, "_pending_events", []):
            self.reps += 1
            peak_us = (start_us + int(self.bump_len_s * 5e5)) % U32
            self.send("grip", end, t_start_us=start_us, t_end_us=end_us,
                      peak_force=int(self.peak_n * 100), hold_ms=100)
            self.send("rep", end, exercise=self.exercise, count=self.reps, t_start_us=start_us,
                      t_peak_us=peak_us, t_end_us=end_us, amplitude=int(self.peak_n * 1000),
                      hold_ms=100)
        self._pending_events = []


# -- the fake's own specification ------------------------------------------------
def test_fake_puck_answers_ping_with_pong_over_the_loop():
    fake = FakePuck("selftest")
    try:
        from openpuck.device.transports import open_transport
        t = open_transport(fake.url)
        t.write(protocol.encode("ping", seq=5, host_time_us=42))
        got = bytearray()
        deadline = time.monotonic() + 2
        while got.count(0) < 2 and time.monotonic() < deadline:
            got += t.read(0.1)
        frames = [protocol.decode(f + b"\x00") for f in bytes(got).split(b"\x00")[:2]]
        assert [f.type for f in frames] == ["ack", "pong"]
        assert frames[1]["host_time_us"] == 42
        t.close()
    finally:
        fake.close()
