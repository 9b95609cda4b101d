"""Seed inputs for the fuzzers: the C harnesses' corpora (c_core/fuzz/corpus/)
and the frames the Python and virtual-puck fuzzers start from.

    python tools/fuzz_seeds.py           # (re)write c_core/fuzz/corpus/<harness>/
    python tools/fuzz_seeds.py --check   # exit 1 when the committed seeds differ

Every seed is made here from the message table (openpuck.protocol) and
simple models of movement, so no binary blob is written by hand: change the
protocol, run this again. The input layouts are those of each harness's
header comment (c_core/fuzz/fuzz_*.c).
"""
from __future__ import annotations

import argparse
import math
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "host_sdk"))

from openpuck import protocol  # noqa: E402
from openpuck.protocol import framing  # noqa: E402

CORPUS = ROOT / "c_core" / "fuzz" / "corpus"
EXERCISE_IDS = [e["id"] for e in protocol.EXERCISES]


# ---------------------------------------------------------------- messages
def example_messages() -> list[tuple[str, dict]]:
    """One typical instance of every message of the table, puck to host and
    host to puck, with values a puck sends or accepts."""
    rec = [(i, -i, 8192, 3 * i, -3 * i, 0, 600 + i) for i in range(20)]
    return [
        ("device_info", dict(fw_major=0, fw_minor=1, fw_patch=0, protocol_version=1,
                             capabilities=0x1AF, accel_range_g=4, gyro_range_dps=500,
                             force_max_n=200, accel_g_per_lsb=0.000122, gyro_dps_per_lsb=0.0175,
                             force_n_per_lsb=0.05, max_rate_hz=200, rates_hz=15, board="sim",
                             serial="SIM-PUCK")),
        ("samples", dict(t0_us=1_000_000, period_us=5000, samples=rec)),
        ("rep", dict(exercise=3, count=1, t_start_us=1_000_000, t_peak_us=1_400_000,
                     t_end_us=2_000_000, amplitude=4200, hold_ms=0)),
        ("partial_rep", dict(exercise=3, count=1, t_start_us=3_000_000, t_peak_us=3_300_000,
                             t_end_us=3_800_000, amplitude=1900)),
        ("grip", dict(t_start_us=5_000_000, t_end_us=6_000_000, peak_force=400, hold_ms=700)),
        ("status", dict(battery_mv=3900, battery_pct=80, dropped_samples=0, uptime_ms=7000,
                        streaming=1, exercise=3, reps=1, partial_reps=1, rx_errors=0,
                        reset_cause=0, cpu_load=40, link_dropped_samples=0,
                        link_dropped_frames=0, target=4000)),
        ("target", dict(exercise=3, target=4000, source=1, t_us=2_000_000)),
        ("log", dict(level=1, text="boot sim reset_cause=0")),
        ("ack", dict(cmd_type=0x40, cmd_seq=1)),
        ("nack", dict(cmd_type=0x40, cmd_seq=2, error=3, detail=1)),
        ("pong", dict(host_time_us=123456789, device_time_us=7_000_000)),
        ("config", dict(key=1, value=3)),
        ("start", dict(rate_hz=200, channels=7)),
        ("stop", {}),
        ("set_exercise", dict(exercise=3, target=40000, on_pct=50, off_pct=25)),
        ("calibrate", dict(what=2)),
        ("led", dict(r=0, g=255, b=0, duration_ms=200)),
        ("buzzer", dict(freq_hz=2000, duration_ms=100)),
        ("ping", dict(host_time_us=123456789)),
        ("get_config", dict(key=1)),
        ("set_config", dict(key=4, value=1)),
        ("reboot", dict(mode=1)),
        ("get_info", {}),
        ("get_status", {}),
    ]


def example_frames(direction: str | None = None) -> list[bytes]:
    """Whole wire frames of example_messages() ("up", "down" or both), seq 1, 2..."""
    out = []
    for seq, (name, fields) in enumerate(example_messages(), start=1):
        if direction is None or protocol.SPECS[name].dir == direction:
            out.append(protocol.encode(name, seq, **fields))
    return out


def _bodies(frames: list[bytes]) -> list[bytes]:
    return [framing.cobs_decode(f[:-1]) for f in frames]


# ---------------------------------------------------------------- stream
def _session_frames(seq0: int = 0, t0: int = 1_000_000, n_frames: int = 6) -> list[bytes]:
    """A puck's stream: device_info, samples at 200 Hz, a rep, a status."""
    msgs = dict(example_messages())
    out = [protocol.encode("device_info", seq0, **msgs["device_info"])]
    seq = seq0 + 1
    for k in range(n_frames):
        rec = [(int(800 * math.sin(0.3 * (20 * k + i))), 0, 8192, 50 * k, 0, 0, 10 * k + i)
               for i in range(20)]
        out.append(protocol.encode("samples", seq & 0xFFFF, t0_us=(t0 + 100_000 * k) & 0xFFFFFFFF,
                                   period_us=5000, samples=rec))
        seq += 1
        if k == 3:
            out.append(protocol.encode("rep", seq & 0xFFFF, **msgs["rep"]))
            seq += 1
    out.append(protocol.encode("status", seq & 0xFFFF, **msgs["status"]))
    return out


def stream_seeds() -> dict[str, bytes]:
    """fuzz_stream inputs: [mode][caps] + raw wire bytes, or + frame records."""
    session = b"".join(_session_frames())
    every = b"".join(example_frames())
    wrap = b"".join(_session_frames(seq0=65533, t0=0xFFFF_FF00 - 300_000))
    damaged = bytearray(session)
    damaged[40] ^= 0x10                     # one bit in the first samples frame
    cut = session[: len(session) // 2] + session[len(session) // 2 + 30:]

    def records(bodies: list[bytes], ctrl: int = 0) -> bytes:
        out = bytearray()
        for b in bodies:
            b = b[:-4]                      # the harness adds the CRC
            out += bytes([ctrl | (0x40 if len(b) > 255 else 0), len(b) & 0xFF]) + b
        return bytes(out)

    sb = _bodies(_session_frames())
    dup = records(sb[:3]) + records(sb[3:4], ctrl=0x08) + records(sb[4:])
    merged = records(sb[:2]) + records(sb[2:3], ctrl=0x02) + records(sb[3:])
    return {
        "raw-session": b"\x00\x00" + session,
        "raw-session-keep-raw-small-out": b"\x02\x00" + session,
        "raw-every-message": b"\x00\xc0" + every,
        "raw-seq-and-time-wrap": b"\x00\x3f" + wrap,
        "raw-damaged-bit": b"\x00\x00" + bytes(damaged),
        "raw-bytes-lost": b"\x00\x00" + cut,
        "raw-garbage-then-session": b"\x00\x00" + bytes(range(1, 256)) * 3 + b"\x00" + session,
        "frames-session": b"\x01\x00" + records(sb),
        "frames-every-message": b"\x01\x40" + records(_bodies(example_frames())),
        "frames-duplicate": b"\x03\x00" + dup,
        "frames-lost-delimiter": b"\x01\x00" + merged,
    }


# ---------------------------------------------------------------- cobs
def cobs_seeds() -> dict[str, bytes]:
    """fuzz_cobs inputs: [sel] + data."""
    frame = example_frames("up")[1]
    return {
        "empty": b"\x00",
        "zeros": b"\x00" + bytes(20),
        "run-254": b"\x01" + bytes(range(1, 255)),
        "run-255": b"\x01" + bytes(range(1, 255)) + b"\x07",
        "mixed-600": b"\x02" + bytes((i * 7) % 256 for i in range(600)),
        "encoded-frame": b"\x00" + frame[:-1],
        "encoded-frame-short-cap": b"\x07" + frame[:-1],
        "samples-payload": b"\x24" + framing.cobs_decode(frame[:-1])[4:-4],
    }


# ---------------------------------------------------------------- detect
REC = struct.Struct("<BI6hH")   # ctrl, dt, ax ay az gx gy gz, force


def _rec(ax=0, ay=0, az=8192, gx=0, gy=0, gz=0, force=0, ctrl=0, dt=0) -> bytes:
    c = lambda v: max(-32768, min(32767, int(round(v))))  # noqa: E731
    return REC.pack(ctrl, dt & 0xFFFFFFFF, c(ax), c(ay), c(az), c(gx), c(gy), c(gz),
                    max(0, min(65535, int(round(force)))))


def _hold(n: int, ctrl: int = 0, **kw) -> bytes:
    """A held position as long as n samples at 200 Hz, sampled at 25 Hz:
    records of 20 repeats (ctrl bits 5-7 = 5) 40 ms apart (ctrl bits 0-1 =
    1); ctrl's other bits go to the first record."""
    k = max(1, n // 160)
    return (_rec(ctrl=ctrl | 5 << 5 | 1, dt=40_000, **kw)
            + _rec(ctrl=5 << 5 | 1, dt=40_000, **kw) * (k - 1))


def _grip_set(reps: int = 4, peak_n: float = 40.0) -> bytes:
    """Squeezes of a force pad at 25 Hz (dt 40 ms): rest, squeeze 1.2 s, rest."""
    out = bytearray(_hold(400, force=20))
    for _ in range(reps):
        for i in range(30):
            f = 20 + peak_n / 0.05 * math.sin(math.pi * i / 30) ** 2
            out += _rec(ctrl=1, dt=40_000, force=f)
        out += _hold(200, force=20)
    return bytes(out)


def _rotation_set(reps: int = 4, axis: int = 0, deg: float = 60.0, period_s: float = 2.0,
                  still_s: float = 2.5, rate: int = 25) -> bytes:
    """Rotations about one body axis (x, y or z) and back, out and back in
    period_s, at `rate` Hz: the gyroscope rate, and gravity turned by the
    angle in the accelerometer (8192 counts per g, 65.536 per dps)."""
    dt = 1_000_000 // rate
    out = bytearray(_hold(int(still_s * 200)))
    for _ in range(reps):
        n = int(period_s * rate)
        for i in range(n):
            ph = 2 * math.pi * i / n
            ang = math.radians(deg) * (1 - math.cos(ph)) / 2
            w = math.degrees(math.radians(deg) * math.pi / period_s * math.sin(ph))
            gvec = [0.0, 0.0, 8192.0]
            if axis == 0:
                gvec = [0.0, 8192 * math.sin(ang), 8192 * math.cos(ang)]
            elif axis == 1:
                gvec = [-8192 * math.sin(ang), 0.0, 8192 * math.cos(ang)]
            rates = [0.0, 0.0, 0.0]
            rates[axis] = w * 65.536
            out += _rec(gvec[0], gvec[1], gvec[2], *rates, ctrl=1, dt=dt)
        out += _hold(int(0.8 * 200))
    return bytes(out)


def detect_seeds() -> dict[str, bytes]:
    """fuzz_detect inputs: [exercise index][opts] (+ config) + sample records."""
    idx = {e["name"]: EXERCISE_IDS.index(e["id"]) for e in protocol.EXERCISES}
    cfg = struct.pack("<iiBBBHHHHIHHHHii", 30000, 1500, 40, 20, 5, 200, 30000, 8192, 50, 65536,
                      1000, 2000, 4000, 4000, 12000, 6000)
    backward = _hold(200) + b"".join(_rec(gx=-32768, gy=-32768, gz=-32768, ctrl=3, dt=39)
                                     for _ in range(8))
    gaps = (_hold(200) + _rec(ctrl=2, dt=0x7FFF_FFFF) + _hold(100) + _rec(ctrl=2, dt=0xFFFF_0000)
            + _rotation_set(reps=2, axis=0))
    extreme = _hold(100) + _rec(ctrl=4 | (5 << 5), ax=1, ay=0, az=1, gx=1, gy=0, gz=1, force=1) * 4
    return {
        "grip-squeeze": bytes([idx["grip_squeeze"], 0]) + _grip_set(),
        "grip-squeeze-config": bytes([idx["grip_squeeze"], 1]) + cfg + _grip_set(reps=3),
        "wrist-flexion-x": bytes([idx["wrist_flexion"], 0]) + _rotation_set(axis=0, deg=50),
        "forearm-rotation-y": bytes([idx["forearm_rotation"], 2]) + _rotation_set(axis=1, deg=90),
        "trunk-rotation-z": bytes([idx["trunk_rotation"], 4]) + _rotation_set(axis=2, deg=45),
        "arm-raise-calibrate-finish": (bytes([idx["arm_raise"], 6]) + _hold(100, ctrl=8)
                                       + _rotation_set(reps=2, axis=0, deg=90)
                                       + _rec(ctrl=16) + _rotation_set(reps=1, axis=0, deg=90)),
        "time-backward": bytes([idx["ankle_dorsiflexion"], 0]) + backward,
        "huge-gaps-and-wrap": bytes([idx["row"], 0]) + gaps,
        "extreme-values": bytes([idx["elbow_flexion"], 0]) + extreme,
    }


SEEDS = {"stream": stream_seeds, "cobs": cobs_seeds, "detect": detect_seeds}

DETECT_REPEATS = (1, 2, 3, 5, 10, 20, 50, 100)   # fuzz_detect.c's repeats[]
DETECT_MAX_SAMPLES = 20000
_CONFIG = struct.Struct("<iiBBBHHHHIHHHHii")
_CONFIG_NAMES = ("target_milli", "auto_floor_milli", "on_pct", "off_pct", "hyst_pct", "min_rep_ms",
                 "max_rep_ms", "accel_lsb_per_g", "force_mn_per_lsb", "gyro_lsb_per_dps_x1000",
                 "fuse_tau_ms", "track_tau_ms", "bias_tau_ms", "still_mdps", "grip_on_mn",
                 "grip_off_mn")


def parse_detect_input(data: bytes, check) -> tuple[dict, list[tuple]]:
    """What fuzz_detect.c makes of an input: (config, samples), a sample
    being (t_us, ax, ay, az, gx, gy, gz, force, calibrate_before, finish_after).
    check(config) -> bool is op_detect_check (a fuzzed config that fails it
    leaves the catalogue defaults, as in the harness)."""
    from openpuck import _core
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        b = data[pos:pos + n]
        pos += len(b)
        return b + bytes(n - len(b))   # zeros past the end, as fuzz_u8
    ex = EXERCISE_IDS[take(1)[0] % len(EXERCISE_IDS)]
    opts = take(1)[0]
    cfg = _core.detect_config_default(ex)
    if opts & 1:
        fz = dict(cfg, **dict(zip(_CONFIG_NAMES, _CONFIG.unpack(take(_CONFIG.size)))))
        if check(fz):
            cfg = fz
    samples: list[tuple] = []
    t = 0
    while pos < len(data) and len(samples) < DETECT_MAX_SAMPLES:
        ctrl, dt, *v = REC.unpack(take(REC.size))
        if ctrl & 4:
            v = [32767 if x & 1 else -32768 for x in v[:6]] + [65535 if v[6] & 1 else 0]
        rep = DETECT_REPEATS[ctrl >> 5]
        for k in range(rep):
            if len(samples) >= DETECT_MAX_SAMPLES:
                break
            mode = ctrl & 3
            t = (t + (5000 if mode == 0 else dt & 0xFFFF if mode == 1 else dt if mode == 2
                      else -(dt & 0xFFFF))) & 0xFFFFFFFF
            samples.append((t, *v, k == 0 and bool(ctrl & 8), k == rep - 1 and bool(ctrl & 16)))
    return cfg, samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed seeds instead of writing them")
    ap.add_argument("--out", type=Path, default=CORPUS, help="corpus root (default c_core/fuzz/corpus)")
    args = ap.parse_args(argv)
    stale = []
    for harness, make in SEEDS.items():
        d = args.out / harness
        seeds = make()
        if args.check:
            have = {p.name: p.read_bytes() for p in d.glob("*")} if d.is_dir() else {}
            if have != seeds:
                stale.append(harness)
            continue
        d.mkdir(parents=True, exist_ok=True)
        for p in d.glob("*"):
            if p.name not in seeds:
                p.unlink()
        for name, data in seeds.items():
            (d / name).write_bytes(data)
        print(f"{d.relative_to(ROOT) if d.is_relative_to(ROOT) else d}: {len(seeds)} seeds, "
              f"{sum(map(len, seeds.values()))} bytes")
    if stale:
        print(f"stale seeds for {', '.join(stale)}: run python tools/fuzz_seeds.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
