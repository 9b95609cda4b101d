"""openpuck demo: a virtual puck plays a set of reps; each is counted live."""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

HELP = "a virtual puck counting a set of reps live (no hardware needed)"
DESCRIPTION = """\
Start a virtual puck (the puck firmware on MicroPython's unix port) playing a
built-in scenario whose true counts are known, connect to it over its serial
port, choose the exercise and target, stream, and print each rep, partial rep
and grip as the puck reports it, then the session summary. Exits 0 when the
puck's counts match the scenario's, 1 otherwise."""
EPILOG = """\
examples:
  openpuck demo                  real time, about 40 s
  openpuck demo --speed max      as fast as possible
  openpuck demo --scenario grip10
"""

RATE_HZ = 200
UNITS = {"force": "N", "tilt": "°", "heading": "°", "rotation": "°"}


def fmt(value: float, unit: str) -> str:
    return f"{value:.1f}{unit}" if unit == "°" else f"{value:.1f} {unit}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from .sim import parse_speed
    p.add_argument("--scenario", default="demo", help="built-in scenario (openpuck sim --list-scenarios)")
    p.add_argument("--speed", type=parse_speed, default=1.0, help="1 = real time (default), N, or max")
    p.add_argument("--target", type=float, help="target per rep in N or degrees (default: the scenario's)")


@dataclass
class Session:
    exercise: str
    unit: str
    reps: list[dict[str, Any]] = field(default_factory=list)
    partials: list[dict[str, Any]] = field(default_factory=list)
    grips: list[dict[str, Any]] = field(default_factory=list)
    samples: int = 0
    t_first: float | None = None
    t_last: float = 0.0
    status: dict[str, Any] | None = None
    device_info: dict[str, Any] | None = None
    nacks: list[dict[str, Any]] = field(default_factory=list)
    acks: set[int] = field(default_factory=set)


class Demo:
    def __init__(self, port: Any, session: Session, out: TextIO) -> None:
        from .. import StreamDecoder
        self.port = port
        self.s = session
        self.out = out
        self.dec = StreamDecoder()
        self.seq = 0

    def send(self, name: str, **fields: Any) -> int:
        from .. import protocol
        self.seq += 1
        self.port.write(protocol.encode(name, seq=self.seq, **fields))
        return self.seq

    def rel(self, t_us: int) -> float:
        # event times are device microseconds (u32); samples give the origin
        t0 = self.s.t_first or 0.0
        t = t_us / 1e6
        while t + 2**31 / 1e6 < t0:
            t += 2**32 / 1e6
        return t - t0

    def pump(self) -> None:
        from ..protocol import Message
        n = self.port.in_waiting
        data = self.port.read(n if n else 1)
        if not data:
            return
        for item in self.dec.feed(data):
            if not isinstance(item, Message):
                if len(item):
                    if self.s.t_first is None:
                        self.s.t_first = float(item.t[0])
                    self.s.t_last = float(item.t[-1])
                    self.s.samples += len(item)
                continue
            self.message(item)

    def message(self, m: Any) -> None:
        f, s, u = m.fields, self.s, self.s.unit
        if m.type == "ack":
            s.acks.add(f["cmd_seq"])
        elif m.type == "nack":
            s.nacks.append(f)
        elif m.type == "device_info":
            s.device_info = f
        elif m.type == "status":
            s.status = f
        elif m.type == "rep":
            s.reps.append(f)
            dur = (f["t_end_us"] - f["t_start_us"]) % 2**32 / 1e6
            hold = f"  held {f['hold_ms'] / 1000:.1f} s" if f["hold_ms"] else ""
            self.line(f["t_end_us"], f"rep {f['count']:<3d}", fmt(f["amplitude"] / 1000, u),
                      f"{dur:.1f} s{hold}")
        elif m.type == "partial_rep":
            s.partials.append(f)
            self.line(f["t_end_us"], f"partial {f['count']:<3d}", fmt(f["amplitude"] / 1000, u),
                      "did not reach the ON threshold, not counted")
        elif m.type == "grip":
            s.grips.append(f)
            self.line(f["t_end_us"], "grip", fmt(f["peak_force"] / 100, "N"),
                      f"held {f['hold_ms'] / 1000:.1f} s")
        elif m.type == "log" and f.get("level", 0) >= 2:
            print(f"  puck says: {f['text']}", file=self.out)

    def line(self, t_end_us: int, what: str, amp: str, more: str) -> None:
        print(f"  {self.rel(t_end_us):6.1f}  {what:12s} {amp:>9s}   {more}", file=self.out, flush=True)

    def wait_ack(self, seq: int, timeout_s: float) -> None:
        from . import CliError
        deadline = time.monotonic() + timeout_s
        while seq not in self.s.acks:
            if any(n["cmd_seq"] == seq for n in self.s.nacks):
                raise CliError(f"the puck refused a command: {self.s.nacks[-1]}")
            if time.monotonic() > deadline:
                raise CliError("the puck did not answer")
            self.pump()


def summary(s: Session, truth: dict[str, Any], out: TextIO) -> bool:
    u = s.unit
    amps = [r["amplitude"] / 1000 for r in s.reps]
    durs = [((r["t_end_us"] - r["t_start_us"]) % 2**32) / 1e6 for r in s.reps]
    minutes = max(s.t_last - (s.t_first or 0.0), 1e-9) / 60
    ok = (len(s.reps), len(s.partials), len(s.grips)) == (truth["reps"], truth["partial_reps"],
                                                          truth["grips"])
    print(f"\nsession summary: {s.exercise}", file=out)
    print(f"  reps              {len(s.reps):4d}   (the scenario has {truth['reps']})", file=out)
    print(f"  partial reps      {len(s.partials):4d}   (the scenario has {truth['partial_reps']})", file=out)
    print(f"  grips             {len(s.grips):4d}   (the scenario has {truth['grips']})", file=out)
    if amps:
        print(f"  amplitude         mean {fmt(sum(amps) / len(amps), u)}, best {fmt(max(amps), u)}", file=out)
        print(f"  rep duration      mean {sum(durs) / len(durs):.2f} s", file=out)
        print(f"  time under tension {sum(durs):.1f} s", file=out)
        print(f"  reps per minute   {len(s.reps) / minutes:.1f}", file=out)
    st = s.status or {}
    print(f"  samples           {s.samples} received over {s.t_last - (s.t_first or 0.0):.1f} s, "
          f"{st.get('dropped_samples', '?')} dropped by the puck", file=out)
    print("the counts match the scenario." if ok else "the counts DIFFER from the scenario.", file=out)
    return ok


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    import serial

    from .. import sim
    from ..protocol import EXERCISES
    from . import CliError

    out = out or sys.stdout
    catalogue = sim.scenarios()
    if args.scenario not in catalogue:
        raise CliError(f"unknown scenario {args.scenario!r}; known: {', '.join(sorted(catalogue))}")
    sc = catalogue[args.scenario]
    ex = next(e for e in EXERCISES if e["name"] == sc["exercise"])
    unit = UNITS[ex["signal"]]
    target = args.target if args.target is not None else sc["target"]
    session = Session(ex["name"], unit)
    speed_txt = "real time" if args.speed == 1 else ("max speed" if args.speed == float("inf")
                                                      else f"{args.speed:g}x")
    print(f"OpenPuck demo: a virtual puck (the puck firmware on MicroPython) plays "
          f"'{args.scenario}': {sc['description']}.", file=out)
    print(f"exercise {ex['name']} ({ex['motion']}), target {fmt(target, unit)}, {RATE_HZ} Hz, "
          f"{sc['duration_s']:.0f} s at {speed_txt}.\n", file=out, flush=True)
    with sim.start(scenario=args.scenario, speed=args.speed) as puck:
        port = serial.Serial(puck.port, timeout=0.05)
        try:
            d = Demo(port, session, out)
            d.wait_ack(d.send("set_exercise", exercise=ex["id"], target=round(target * 1000),
                              on_pct=0, off_pct=0), 10)
            d.wait_ack(d.send("start", rate_hz=RATE_HZ, channels=7), 10)
            print(f"  {'t (s)':>6s}  {'event':12s} {'amplitude':>9s}", file=out, flush=True)
            limit = time.monotonic() + sc["duration_s"] / args.speed + 30
            while session.t_first is None or session.t_last - session.t_first < sc["duration_s"]:
                if time.monotonic() > limit:
                    raise CliError("the virtual puck stopped streaming")
                d.pump()
            d.wait_ack(d.send("stop"), 10)
            session.status = None   # the answer to get_status, not a periodic one
            d.wait_ack(d.send("get_status"), 10)
            deadline = time.monotonic() + 5
            while session.status is None and time.monotonic() < deadline:
                d.pump()
        finally:
            port.close()
    return 0 if summary(session, sc, out) else 1
