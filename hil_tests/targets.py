"""Which puck the suite talks to: ``--puck`` specs and rig files.

A target is one puck: an SDK URL plus what the rig around it can do. It comes
from a ``--puck`` spec::

    sim                       the virtual puck (its default scenario)
    sim:RECORDING.csv         the virtual puck replaying a recording
    rp2040                    the emulated Pico W (openpuck.device.pico: the stock MicroPython
                              image in an RP2040 emulator, the firmware flashed with
                              tools/flash.py; the image from $OPENPUCK_PICO_IMAGE)
    rp2040:RECORDING.csv      the emulated Pico W, its sensors playing a recording
    serial:/dev/ttyACM0       a board on a serial port (a plain path works too)
    ble:ADDRESS               a board over BLE (an address or an advertised name)

or from a rig file (TOML, see rigs/*.toml and README.md), which adds the
board, the firmware version QA expects, and what the rig can do besides
talking to the puck (an actuator, a USB power switch, a BLE adapter...).

Each capability a test may need is one word (see NEEDS). A test that needs
what its target lacks is skipped with the reason returned by
:meth:`Target.lacks`, never failed.
"""
from __future__ import annotations

import os
import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the tomli backport (an openpuck dependency there)
    import tomli as tomllib  # type: ignore[no-redef]
from dataclasses import dataclass, field
from pathlib import Path

#: every need a test can declare with @pytest.mark.needs(...), and what it means
NEEDS = {
    "radio": "a BLE radio link to the puck and a BLE adapter on the host",
    "real_sensors": "real sensor chips at rest on the bench (not register models)",
    "motion": "scripted motion with known counts (the sim's scenarios or a rig actuator)",
    "reboot": "the puck may be rebooted by command",
    "replug": "the link can be cut and restored (USB power switch, or the sim)",
    "watchdog": "a watchdog reset can be triggered (the sim, or a debug command)",
    "byte_stream": "a byte-stream port the fault relay can sit on (serial or sim, not BLE)",
    "usb": "the puck's USB link: pairing is accepted over USB only (physical access)",
    "real_time": "the puck keeps the wall clock's pace (a latency is a wall-clock figure)",
}

_SIM_LACKS = {
    "radio": "the virtual puck has no radio: its link is a pseudo-terminal "
             "(run against a board with --puck=ble:ADDRESS or a rig file with radio = true)",
    "real_sensors": "the virtual puck's sensors are register models replaying a recording, "
                    "not chips whose noise and bias could be measured",
}


_RP2040_LACKS = {
    "radio": "the emulated Pico W has no radio: the emulator does not model the CYW43's "
             "Bluetooth (its HCI does not open), so the puck runs on USB alone",
    "real_sensors": "the emulated Pico W's sensors are the virtual puck's register models at its "
                    "pins, not chips whose noise and bias could be measured",
    "real_time": "emulated time runs 5 to 60 times slower than the wall clock, so a latency measured "
                 "through the emulator is the emulator's, not the puck's (tools/pico_bench.py gives "
                 "the rep latency in device time)",
}


class RigError(ValueError):
    """A --puck spec or rig file that cannot be understood (a usage error)."""


@dataclass
class Target:
    """One puck under test and its rig."""

    name: str                       # short id for reports ("sim", "bench-3")
    kind: str                       # sim | rp2040 | serial | ble
    url: str                        # the SDK URL (for sim: without options)
    recording: str | None = None    # sim and rp2040 only
    port: str | None = None         # serial only: the device path
    baud: int = 115200              # serial only: for UART pucks (USB CDC ignores it)
    address: str | None = None      # ble only
    board: str | None = None        # expected board name (device_info.board), if known
    firmware: str | None = None     # expected firmware version "MAJOR.MINOR.PATCH", if known
    caps: dict[str, object] = field(default_factory=dict)   # need -> True/False/details
    actuator: dict | None = None    # [actuator] table of the rig file
    budgets: dict[str, float] = field(default_factory=dict)
    rig_file: str | None = None

    @property
    def is_sim(self) -> bool:
        return self.kind == "sim"

    @property
    def is_emulated(self) -> bool:
        """A puck this suite starts itself (the virtual puck or the emulated Pico)."""
        return self.kind in ("sim", "rp2040")

    @property
    def slowdown(self) -> float:
        """Wall seconds a device second may take: the emulated Pico runs
        slower than real time (budget ``slowdown`` of a rig file overrides)."""
        return self.budget("slowdown", 60.0 if self.kind == "rp2040" else 1.0)

    def lacks(self, need: str) -> str | None:
        """None when the target has ``need``, else why it is skipped."""
        if need not in NEEDS:
            raise RigError(f"unknown need {need!r}: known are {', '.join(NEEDS)}")
        if self.caps.get(need):
            return None
        if self.is_sim and need in _SIM_LACKS:
            return _SIM_LACKS[need]
        if self.kind == "rp2040" and need in _RP2040_LACKS:
            return _RP2040_LACKS[need]
        where = f"rig file {self.rig_file}" if self.rig_file else f"--puck={self.spec()}"
        hint = {
            "radio": "set radio = true in the rig's [capabilities] (needs a BLE adapter)",
            "real_sensors": "set real_sensors = true when the puck lies still on the bench",
            "motion": "declare an [actuator] in the rig file; without one a person must move "
                      "the puck, which a nightly run cannot do",
            "reboot": "set reboot = true",
            "replug": "set replug = \"COMMAND\" (e.g. a uhubctl power cycle of the port)",
            "watchdog": "set watchdog = \"COMMAND\" or true when the firmware has a debug "
                        "command that starves the watchdog",
            "byte_stream": "the fault relay needs a serial port; BLE carries GATT writes",
            "usb": "a puck is paired over its USB cable only: give --puck=serial:PORT, or a rig "
                   "file whose puck is on USB",
        }[need]
        return f"needs {NEEDS[need]}; {where} does not provide it ({hint})"

    def spec(self) -> str:
        if self.kind in ("sim", "rp2040"):
            return self.kind + (f":{self.recording}" if self.recording else "")
        return self.url

    def budget(self, key: str, default: float) -> float:
        return float(self.budgets.get(key, default))

    def describe(self) -> dict:
        """What the summary report prints about this target."""
        return {"name": self.name, "kind": self.kind, "spec": self.spec(),
                "board": self.board, "expected_firmware": self.firmware,
                "rig_file": self.rig_file,
                "capabilities": sorted(k for k, v in self.caps.items() if v)}


def _default_caps(kind: str) -> dict[str, object]:
    if kind in ("sim", "rp2040"):   # a pseudo-terminal stands in for the USB port
        return {"motion": True, "reboot": True, "replug": True, "watchdog": True,
                "byte_stream": True, "usb": True, "real_time": kind == "sim"}
    if kind == "serial":
        return {"reboot": True, "byte_stream": True, "usb": True, "real_time": True}
    return {"reboot": True, "radio": True, "real_time": True}   # ble


def parse_spec(spec: str, name: str | None = None) -> Target:
    """A Target from a --puck spec."""
    spec = spec.strip()
    if not spec:
        raise RigError("empty --puck spec")
    if spec == "sim" or spec.startswith("sim:"):
        rec = spec[4:] or None
        if rec and "?" in rec:
            raise RigError(f"--puck={spec}: give the recording only; the suite sets "
                           "scenario and speed per test")
        if rec and not Path(rec).exists():
            raise RigError(f"--puck={spec}: recording {rec} not found")
        return Target(name or "sim", "sim", "sim:" + (rec or ""), recording=rec,
                      board="sim", firmware=_sim_firmware(), caps=_default_caps("sim"))
    if spec == "rp2040" or spec.startswith("rp2040:"):
        rec = spec[7:] or None
        if rec and "?" in rec:
            raise RigError(f"--puck={spec}: give the recording only; the image comes from "
                           "$OPENPUCK_PICO_IMAGE and the suite sets the scenario per test")
        if rec and not Path(rec).exists():
            raise RigError(f"--puck={spec}: recording {rec} not found")
        return Target(name or "rp2040", "rp2040", "rp2040:" + (rec or ""), recording=rec,
                      board="pico_w", firmware=_sim_firmware(), caps=_default_caps("rp2040"))
    if spec.startswith("ble:"):
        addr = spec[4:]
        if not addr:
            raise RigError("--puck=ble:ADDRESS needs an address or advertised name")
        return Target(name or f"ble-{_slug(addr)}", "ble", spec, address=addr,
                      caps=_default_caps("ble"))
    if spec.startswith("serial:") or spec.startswith("/") or re.match(r"^COM\d+$", spec, re.I):
        rest = spec[7:] if spec.startswith("serial:") else spec
        port, _, query = rest.partition("?")
        if not port:
            raise RigError("--puck=serial:PORT needs a port")
        baud = 115200
        for kv in filter(None, query.split("&")):
            k, _, v = kv.partition("=")
            if k != "baud" or not v.isdigit():
                raise RigError(f"--puck={spec}: only ?baud=N may follow a serial port")
            baud = int(v)
        return Target(name or f"serial-{_slug(port)}", "serial", "serial:" + rest, port=port,
                      baud=baud, caps=_default_caps("serial"))
    if Path(spec).suffix == ".toml":
        return load_rig(spec)
    raise RigError(f"--puck={spec}: expected sim[:RECORDING], rp2040[:RECORDING], serial:PORT, ble:ADDRESS "
                   "or a rig file (.toml)")


def load_rig(path: str | os.PathLike) -> Target:
    """A Target from a rig file (see rigs/README section of hil_tests/README.md)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise RigError(f"rig file {p} not found") from None
    except tomllib.TOMLDecodeError as e:
        raise RigError(f"rig file {p}: {e}") from None
    rig = data.get("rig", {})
    puck = rig.get("puck") or (("serial:" + rig["port"]) if rig.get("port") else None)
    if not puck:
        raise RigError(f"rig file {p}: [rig] needs puck = \"URL\" or port = \"/dev/...\"")
    t = parse_spec(puck, name=rig.get("name") or p.stem)
    t.rig_file = str(p)
    t.board = rig.get("board", t.board)
    fw = rig.get("firmware")
    if fw is not None and not re.fullmatch(r"\d+\.\d+\.\d+", str(fw)):
        raise RigError(f"rig file {p}: firmware = {fw!r} is not MAJOR.MINOR.PATCH")
    t.firmware = fw or t.firmware
    caps = data.get("capabilities", {})
    unknown = set(caps) - set(NEEDS)
    if unknown:
        raise RigError(f"rig file {p}: unknown capabilities {sorted(unknown)}; "
                       f"known: {', '.join(NEEDS)}")
    t.caps.update(caps)
    if "actuator" in data:
        act = data["actuator"]
        if not act.get("command") or not act.get("scenarios"):
            raise RigError(f"rig file {p}: [actuator] needs command and scenarios")
        t.actuator = act
        t.caps["motion"] = True
    t.budgets = {k: float(v) for k, v in data.get("budgets", {}).items()}
    return t


def resolve(specs: list[str], rigs: list[str]) -> list[Target]:
    """Targets from --puck values, --rig files or directories (in that order)."""
    out = [parse_spec(s) for s in specs]
    for r in rigs:
        p = Path(r)
        if p.is_dir():
            files = sorted(p.glob("*.toml"))
            if not files:
                raise RigError(f"--rig={r}: no *.toml rig files in this directory")
            out.extend(load_rig(f) for f in files)
        else:
            out.append(load_rig(p))
    names = [t.name for t in out]
    for n in set(names):
        if names.count(n) > 1:
            dup = [t for t in out if t.name == n]
            for i, t in enumerate(dup):
                t.name = f"{n}-{i + 1}"
    return out


def _sim_firmware() -> str | None:
    """The version of the firmware the virtual puck runs (its VERSION tuple in
    openpuck_fw/__init__.py), so the handshake proves the sim runs this tree."""
    try:
        import openpuck.device.sim

        src = (openpuck.device.sim.firmware_dir() / "openpuck_fw" / "__init__.py").read_text()
    except Exception:  # noqa: BLE001 - no sim here: nothing to expect
        return None
    m = re.search(r"^VERSION\s*=\s*\((\d+),\s*(\d+),\s*(\d+)\)", src, re.M)
    return ".".join(m.groups()) if m else None


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-")[-24:] or "puck"
