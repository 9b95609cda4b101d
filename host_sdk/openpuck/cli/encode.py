"""openpuck encode: a CSV recording to the bytes a puck would send."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .. import protocol
from ..offline.recording import open_source
from . import CliError

HELP = "turn a CSV recording into the byte stream a puck would send"
DESCRIPTION = """\
Turn a CSV recording (docs/csv-format.md) into the wire bytes a puck would send
for it: one device_info frame, then sample batches (protocol/spec.md).

The smallest LSM6DSOX full-scale ranges that hold the recording are chosen
(accel +/-2, 4, 8 or 16 g; gyro +/-125 ... 2000 dps); force is 0.05 N per count.
A new batch starts at every gap in time, so dropped samples stay dropped.
"""
EPILOG = """\
examples:
  openpuck encode rec.csv -o rec.bin            35 samples per frame (the most that fit)
  openpuck encode rec.csv -o rec.bin --batch 20 as the firmware sends at 200 Hz
  openpuck decode rec.bin --csv back.csv        and back again
"""

ACCEL_RANGES = ((2, 16384.0), (4, 8192.0), (8, 4096.0), (16, 2048.0))          # g, LSB/g
GYRO_RANGES = ((125, 262.144), (250, 131.072), (500, 65.536), (1000, 32.768),
               (2000, 16.384))                                                  # dps, LSB/dps
FORCE_N_PER_LSB = 0.05


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("csv", metavar="FILE.csv", help="recording in the OpenPuck CSV format")
    p.add_argument("-o", "--output", metavar="FILE.bin",
                   help="where to write the bytes (default: FILE.bin beside the CSV)")
    p.add_argument("--batch", type=int, default=35, metavar="N",
                   help="samples per frame, 1..35 (default 35)")


def pick_range(values: np.ndarray, ranges, what: str, unit: str) -> tuple[int, float]:
    peak = float(np.abs(values).max()) if values.size else 0.0
    for full, lsb in ranges:
        q = np.rint(values * lsb) if values.size else values
        if not values.size or (q.max() <= 32767 and q.min() >= -32768):
            return full, lsb
    raise CliError(f"{what} reaches {peak:g} {unit}, beyond the sensor's +/-{ranges[-1][0]} {unit}")


def encode_recording(rec, batch: int = 35) -> tuple[bytes, int]:
    """Wire bytes for a recording, and the number of frames."""
    if not 1 <= batch <= 35:
        raise CliError(f"--batch must be 1..35, got {batch}")
    accel_range, accel_lsb = pick_range(rec.accel, ACCEL_RANGES, "acceleration", "g")
    gyro_range, gyro_lsb = pick_range(rec.gyro, GYRO_RANGES, "angular rate", "dps")
    force = np.rint(rec.force / FORCE_N_PER_LSB)
    if len(force) and (force.min() < 0 or force.max() > 65535):
        raise CliError(f"force must be 0..{65535 * FORCE_N_PER_LSB:g} N "
                       f"(found {rec.force.min():g}..{rec.force.max():g})")
    counts = np.column_stack([np.rint(rec.accel * accel_lsb), np.rint(rec.gyro * gyro_lsb),
                              force]).astype(np.int64)
    t_us = np.rint(rec.t * 1e6).astype(np.int64)
    if len(t_us) and t_us[0] < 0:
        raise CliError("t_s must not be negative")
    seq = 0
    frames = [protocol.encode(
        "device_info", seq, fw_major=0, fw_minor=1, fw_patch=0, protocol_version=protocol.VERSION,
        capabilities=int(protocol.Capability.IMU | protocol.Capability.FORCE),
        accel_range_g=accel_range, gyro_range_dps=gyro_range,
        force_max_n=int(65535 * FORCE_N_PER_LSB), accel_g_per_lsb=1 / accel_lsb,
        gyro_dps_per_lsb=1 / gyro_lsb, force_n_per_lsb=FORCE_N_PER_LSB, max_rate_hz=400,
        rates_hz=0x1F, board="encode", serial="")]
    dt = np.diff(t_us)
    period = int(np.median(dt)) if len(dt) else 0
    if not 0 < period <= 0xFFFF:
        period = 0  # one sample per batch: the period does not matter
    starts = [0] + (np.flatnonzero(dt != period) + 1).tolist() if period else list(range(len(t_us)))
    bounds = starts + [len(t_us)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        for i in range(a, b, batch):
            j = min(i + batch, b)
            seq = (seq + 1) & 0xFFFF
            frames.append(protocol.encode("samples", seq, t0_us=int(t_us[i]) & 0xFFFFFFFF,
                                          period_us=period, samples=counts[i:j]))
    return b"".join(frames), len(frames)


def run(args: argparse.Namespace) -> int:
    src = Path(args.csv)
    out = Path(args.output) if args.output else src.with_suffix(".bin")
    rec = open_source(src, want=("csv",)).samples
    wire, nframes = encode_recording(rec, args.batch)
    out.write_bytes(wire)
    print(f"{out}: {len(rec)} samples in {nframes} frames, {len(wire)} bytes "
          f"({len(wire) / len(rec):.2f} bytes per sample)")
    return 0
