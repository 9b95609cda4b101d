"""Opening the puck under test, and watching what it streams.

Every test gets its puck from :meth:`Rig.open`, which hides only *where* the
puck is: the virtual puck is started with :func:`openpuck.device.sim.start` (so a
test can pull its plug or starve its watchdog), a board is opened by its URL,
and with ``proxy=True`` the fault relay (faultproxy.py) is put between the
puck's port and the SDK. From then on the test uses nothing but the SDK's
public API on ``session.puck``.
"""
from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

import openpuck
import openpuck.device.sim

from .faultproxy import FaultProxy
from .targets import Target

MAX_SPEED = float("inf")
#: wall seconds a device second may take on the puck under test (Target.slowdown);
#: Probe's waits are stretched by it, so a test's deadline means device time
SLOWDOWN = 1.0


def connect_timeouts(target: Target) -> dict:
    """openpuck.connect()'s command and reconnect timeouts for the target, stretched by its slowdown."""
    return {"timeout": 3.0 * min(target.slowdown, 10.0), "reconnect_timeout": 30.0 * target.slowdown}


def _toolchain_required() -> bool:
    return os.environ.get("OPENPUCK_REQUIRE_TOOLCHAIN", "") not in ("", "0")


def start_sim(**kw):
    """openpuck.device.sim.start(); on a platform without the MicroPython unix port the
    test skips (the target is not there), unless CI requires it
    (OPENPUCK_REQUIRE_TOOLCHAIN=1, as for the other toolchain tests)."""
    try:
        return openpuck.device.sim.start(**kw)
    except openpuck.device.sim.SimUnavailable as e:
        if _toolchain_required():
            pytest.fail(f"{e}; OPENPUCK_REQUIRE_TOOLCHAIN=1 forbids skipping")
        pytest.skip(str(e))


def start_pico(**kw):
    """openpuck.device.pico.start(); without the emulator (rp2040py) or a Pico W image
    the test skips with the reason, unless CI requires it."""
    import openpuck.device.pico
    try:
        return openpuck.device.pico.start(progress=lambda m: print(f"rp2040: {m}", flush=True), **kw)
    except openpuck.device.pico.PicoUnavailable as e:
        if _toolchain_required():
            pytest.fail(f"{e}; OPENPUCK_REQUIRE_TOOLCHAIN=1 forbids skipping")
        pytest.skip(str(e))
    except openpuck.device.pico.PicoError as e:
        if "image" in str(e) and not _toolchain_required():
            pytest.skip(str(e))
        raise


@dataclass
class Session:
    """One open puck: the SDK's Puck, and the sim or relay behind it, if any."""

    target: Target
    puck: openpuck.Puck
    vpuck: object | None = None       # openpuck.device.sim.VirtualPuck on the sim
    proxy: FaultProxy | None = None
    pico: object | None = None        # openpuck.device.pico.EmulatedPico on the emulated Pico
    scenario: str | None = None
    speed: float = 1.0

    def play(self) -> subprocess.Popen | None:
        """Start the session's scenario: the sim plays it by itself (None); a
        rig's actuator is told to play it (its process, running in the background)."""
        if self.scenario is None or self.vpuck is not None or self.pico is not None:
            return
        act = self.target.actuator
        if not act or self.scenario not in act["scenarios"]:
            raise RuntimeError(f"{self.target.name}: no actuator scenario {self.scenario!r}")
        cmd = act["command"].format(scenario=self.scenario)
        return subprocess.Popen(shlex.split(cmd))


class Rig:
    """Opens pucks of one target. Session-scoped: one per pytest session/worker."""

    def __init__(self, target: Target, settings) -> None:
        self.target = target
        self.settings = settings
        self.device: dict | None = None   # what the puck said it is, once connected
        self._pico = None                  # the emulated Pico: one board for the session, as on a bench
        global SLOWDOWN
        SLOWDOWN = target.slowdown

    def pico(self):
        """The session's emulated Pico W, booted on first use."""
        if self._pico is None:
            self._pico = start_pico(recording=self.target.recording)
            self._pico.connect().close()    # its boot takes a minute of wall time: wait it out once
        return self._pico

    def close(self) -> None:
        if self._pico is not None:
            self._pico.stop()
            self._pico = None

    @contextlib.contextmanager
    def open(self, scenario: str | None = None, speed: float = 1.0, proxy: bool = False,
             recording: str | None = None, **connect_options):
        """A connected Session. ``scenario``/``speed``/``recording`` choose what the
        sim plays (a real puck runs in real time; a scenario needs its actuator)."""
        t = self.target
        vp = relay = puck = None
        opts = {**connect_timeouts(t), **connect_options}
        pico = None
        try:
            if t.kind == "rp2040":
                # the rig's actuator: the patient starts the scenario; the board keeps running
                pico = self.pico()
                pico.play(scenario, recording or (t.recording if scenario is None else None))
                speed = 1.0
                port = pico.port
            elif t.is_sim:
                rec = recording or (t.recording if scenario is None else None)
                vp = start_sim(recording=rec, scenario=scenario, speed=speed)
                port = vp.port
            else:
                speed = 1.0
                port = t.port
            if proxy:
                if port is None:
                    raise RuntimeError(f"{t.name}: the fault relay needs a serial port")
                relay = FaultProxy(port, baudrate=t.baud)
                url = f"serial:{relay.port}?baud={t.baud}"
            elif t.is_emulated:
                url = "serial:" + port
            else:
                url = t.url
            puck = openpuck.connect(url, **opts)
            if self.device is None:
                self.device = self.describe_device(puck)
            yield Session(t, puck, vpuck=vp, proxy=relay, pico=pico, scenario=scenario, speed=speed)
        finally:
            if puck is not None:
                puck.close()
            if relay is not None:
                relay.close()
            if vp is not None:
                vp.stop()

    def describe_device(self, puck) -> dict:
        info = puck.info
        if info is None:
            return {}
        return {"firmware": info.firmware, "board": info.board, "serial": info.serial,
                "protocol_version": info.protocol_version,
                "capabilities": sorted(info.capabilities)}


@dataclass
class Arrival:
    """An event and the host monotonic time it reached the application."""

    event: object
    host_s: float


@dataclass
class Probe:
    """Everything a puck streams, gathered by callbacks on the SDK's reader thread."""

    blocks: list = field(default_factory=list)
    block_arrivals: list[float] = field(default_factory=list)   # host monotonic s per block
    arrivals: list[Arrival] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cv: threading.Condition = field(default=None)

    def __post_init__(self) -> None:
        self._cv = threading.Condition(self._lock)

    def attach(self, puck) -> Probe:
        puck.on("samples", self._on_samples)
        puck.on("*", self._on_event)
        self._puck = puck
        return self

    def detach(self) -> None:
        self._puck.off("samples", self._on_samples)
        self._puck.off("*", self._on_event)

    def _on_samples(self, b) -> None:
        now = time.monotonic()
        with self._cv:
            self.blocks.append(b)
            self.block_arrivals.append(now)
            self._cv.notify_all()

    def _on_event(self, ev) -> None:
        with self._cv:
            self.arrivals.append(Arrival(ev, time.monotonic()))
            self._cv.notify_all()

    # --- views ----------------------------------------------------------------
    def t(self) -> np.ndarray:
        with self._lock:
            blocks = list(self.blocks)
        return np.concatenate([b.t for b in blocks]) if blocks else np.empty(0)

    @property
    def n_samples(self) -> int:
        with self._lock:
            return sum(len(b) for b in self.blocks)

    def span(self) -> float:
        with self._lock:
            if not self.blocks:
                return 0.0
            return float(self.blocks[-1].t[-1] - self.blocks[0].t[0])

    def events(self, kind: str) -> list:
        with self._lock:
            return [a.event for a in self.arrivals if a.event.kind == kind]

    def arrivals_of(self, kind: str) -> list[Arrival]:
        with self._lock:
            return [a for a in self.arrivals if a.event.kind == kind]

    def wait(self, pred, timeout: float) -> bool:
        """Wait until ``pred(self)`` holds (checked on every sample block and
        event), at most ``timeout`` seconds of the puck's time (SLOWDOWN)."""
        deadline = time.monotonic() + timeout * SLOWDOWN
        with self._cv:
            while not pred(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.5))
            return True

    def wait_span(self, seconds: float, timeout: float) -> bool:
        """Wait until the samples cover ``seconds`` of device time."""
        return self.wait(lambda p: p._span_locked() >= seconds, timeout)

    def _span_locked(self) -> float:
        if not self.blocks:
            return 0.0
        return float(self.blocks[-1].t[-1] - self.blocks[0].t[0])

    def wait_more_samples(self, n: int, timeout: float) -> bool:
        start = self.n_samples
        return self.wait(lambda p: sum(len(b) for b in p.blocks) >= start + n, timeout)


def percentiles(values, ps=(50, 95, 99)) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    out = {f"p{p}": float(np.percentile(a, p)) for p in ps}
    out["max"] = float(a.max())
    out["n"] = int(a.size)
    return out


class Cable:
    """The puck's USB cable, for unplug/replug tests.

    On the sim: the virtual puck behind a stable path (a symlink, as udev
    makes /dev/serial/by-id/...), with its flash (config) in a directory that
    outlives it. ``unplug()`` stops it (power gone: the port vanishes, the
    firmware dies); ``replug()`` starts a new one on the same flash and points
    the path at its new port: a cold boot. On a board the rig's ``replug``
    command (e.g. a uhubctl power cycle) does both in one ``cycle()``.
    """

    def __init__(self, target: Target, tmpdir, speed: float = 1.0) -> None:
        self.target = target
        self.speed = speed
        self.vpuck = None
        self.pico = None
        if target.kind == "rp2040":
            # its own board, its flash in tmpdir, behind a stable path as for the sim
            self.path = str(tmpdir / "ttyPUCK")
            self.pico = start_pico(recording=target.recording, state_dir=tmpdir / "flash")
            self.pico.connect().close()    # its boot takes a minute of wall time: wait it out
            self._link()
        elif target.is_sim:
            self.flash = tmpdir / "flash"
            self.flash.mkdir()
            self.path = str(tmpdir / "ttyPUCK")
            self.replug()
        else:
            self.path = target.port

    @property
    def connect_options(self) -> dict:
        """openpuck.connect()'s timeouts for this puck, in its time (as Rig.open gives them)."""
        return connect_timeouts(self.target)

    @property
    def url(self) -> str:
        return "serial:" + self.path

    def _link(self) -> None:
        tmp = self.path + ".new"
        os.symlink(self.pico.port, tmp)
        os.replace(tmp, self.path)

    def unplug(self) -> None:
        if self.pico is not None:
            os.unlink(self.path)
            self.pico.power_cut()
            return
        if not self.target.is_sim:
            raise RuntimeError("a board's cable is cycled with cycle()")
        os.unlink(self.path)
        self.vpuck.stop()
        self.vpuck = None

    def replug(self) -> None:
        if self.pico is not None:
            self.pico.power_on()
            self._link()
            return
        self.vpuck = start_sim(recording=self.target.recording, speed=self.speed,
                               state_dir=self.flash)
        tmp = self.path + ".new"
        os.symlink(self.vpuck.port, tmp)
        os.replace(tmp, self.path)

    def cycle(self, off_s: float = 1.0) -> None:
        """Pull the plug for ``off_s`` seconds and put it back."""
        if self.target.is_emulated:
            self.unplug()
            time.sleep(off_s)
            self.replug()
            return
        cmd = self.target.caps.get("replug")
        subprocess.run(shlex.split(str(cmd)), check=True, timeout=60)

    def close(self) -> None:
        if self.vpuck is not None:
            self.vpuck.stop()
            self.vpuck = None
        if self.pico is not None:
            self.pico.stop()
            self.pico = None
