"""Samples as CSV (docs/csv-format.md), the SDK's one CSV reader and writer:
one sample per line, under the header

    t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps,force_n

t_s device time in seconds; accelerometer in g, gyroscope in deg/s, force in
N. The header comes from the message table (protocol/messages.toml [csv]).
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..device.decoder import SampleBlock
from ..errors import OpenPuckError
from ..protocol._table import CSV_HEADER

HEADER = CSV_HEADER
COLUMNS = tuple(HEADER.split(","))
#: what the puck's sensors can report at their widest ranges: +-16 g, +-2000 dps,
#: force 0 to 65535 counts of 0.05 N; a value beyond it is no puck's
LIMITS = {"ax_g": 16.0, "ay_g": 16.0, "az_g": 16.0, "gx_dps": 2000.0, "gy_dps": 2000.0, "gz_dps": 2000.0}
FORCE_MAX_N = 65535 * 0.05
#: decimals written per column: enough for the device's quantisation
#: (1/8192 g, 1/65.536 dps, 0.05 N), the precision of the recordings
DECIMALS = (3, 5, 5, 5, 3, 3, 3, 2)


class CsvError(OpenPuckError):
    """A CSV file that is not a recording in the OpenPuck format."""


def read_csv(path: str | os.PathLike[str]) -> SampleBlock:
    """The samples of a CSV file (float64: ``t`` (n,) s, ``accel`` (n, 3) g,
    ``gyro`` (n, 3) dps, ``force`` (n,) N); :class:`CsvError` names the file
    and line of a problem."""
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as f:
        try:
            header = f.readline()
        except UnicodeDecodeError:
            raise CsvError(f"{path}: not a text file") from None
        if header.strip().lstrip("\ufeff") != HEADER:
            got = header.strip()[:60] or "an empty file"
            raise CsvError(f"{path}: line 1 must be the header {HEADER!r}, got {got!r}")
        try:
            text = f.read()
        except UnicodeDecodeError:
            raise CsvError(f"{path}: not a text file") from None
    if not text.strip():
        text = ""
    try:
        data = (np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2, dtype=np.float64) if text
                else np.empty((0, 8)))
    except ValueError:
        _find_bad_line(path, text)
        raise  # pragma: no cover
    if data.size == 0:
        data = np.empty((0, 8))
    if data.shape[1] != 8:
        _find_bad_line(path, text)
    if not np.isfinite(data).all():
        row = int(np.argwhere(~np.isfinite(data))[0][0])
        raise CsvError(f"{path}: line {row + 2}: a value is not a finite number")
    for col, name in enumerate(COLUMNS[1:7], start=1):
        bad = np.abs(data[:, col]) > LIMITS[name] * (1 + 1e-9)
        if bad.any():
            row = int(np.argmax(bad))
            unit = name.split("_")[1]
            raise CsvError(f"{path}: line {row + 2}: {name} {data[row, col]:g} is beyond the sensor's "
                           f"+-{LIMITS[name]:g} {unit}")
    bad = (data[:, 7] < 0) | (data[:, 7] > FORCE_MAX_N + 1e-9)
    if bad.any():
        row = int(np.argmax(bad))
        raise CsvError(f"{path}: line {row + 2}: force_n {data[row, 7]:g} is outside 0..{FORCE_MAX_N:g} N")
    t = data[:, 0].copy()
    if len(t) > 1 and not (np.diff(t) > 0).all():
        row = int(np.argmax(~(np.diff(t) > 0))) + 1
        raise CsvError(f"{path}: line {row + 2}: t_s must increase ({t[row - 1]} then {t[row]})")
    return SampleBlock(t, data[:, 1:4].astype(np.float64), data[:, 4:7].astype(np.float64),
                       data[:, 7].copy())


def _find_bad_line(path: Path, text: str) -> None:
    for i, line in enumerate(text.splitlines(), start=2):
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) != 8:
            raise CsvError(f"{path}: line {i}: expected 8 values, got {len(parts)}")
        for name, p in zip(COLUMNS, parts):
            try:
                float(p)
            except ValueError:
                raise CsvError(f"{path}: line {i}: {name} is not a number: {p.strip()[:20]!r}") from None
    raise CsvError(f"{path}: cannot parse")


def write_csv(dest: str | Path | IO[str], t: np.ndarray, accel: np.ndarray, gyro: np.ndarray,
              force: np.ndarray, t_decimals: int | None = None) -> None:
    """Write samples in the CSV format. ``t_decimals`` None: 3 when every time
    is a whole millisecond, else 6 (microseconds)."""
    t = np.asarray(t, np.float64)
    if t_decimals is None:
        us = np.rint(t * 1e6).astype(np.int64)
        t_decimals = 3 if not len(us) or not (us % 1000).any() else 6
    cols = np.column_stack([t, np.asarray(accel, np.float64).reshape(-1, 3),
                            np.asarray(gyro, np.float64).reshape(-1, 3),
                            np.asarray(force, np.float64).reshape(-1)])
    fmt = ",".join(f"%.{d}f" for d in (t_decimals,) + DECIMALS[1:])
    if isinstance(dest, (str, Path)):
        with open(dest, "w", encoding="utf-8", newline="\n") as f:
            _write(f, cols, fmt)
    else:
        _write(dest, cols, fmt)


def write_samples(samples: Any, dest: str | Path | IO[str]) -> int:
    """Write anything with ``t``, ``accel``, ``gyro``, ``force`` (a SampleBlock,
    a decoded session's samples); returns the number of rows."""
    write_csv(dest, samples.t, samples.accel, samples.gyro, samples.force)
    return len(samples.t)


def _write(f: IO[str], cols: np.ndarray, fmt: str) -> None:
    f.write(HEADER + "\n")
    step = 20000
    for i in range(0, len(cols), step):
        block = cols[i:i + step]
        f.write("\n".join(fmt % tuple(r) for r in block.tolist()))
        f.write("\n")
