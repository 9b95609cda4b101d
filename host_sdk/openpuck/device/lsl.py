"""Lab Streaming Layer outlets for a puck (pylsl), so LabRecorder sees it.

Two streams per puck, both with ``source_id`` built from the puck's serial
(so LabRecorder reconnects to the same puck after a restart):

- ``OpenPuck <serial> samples``: type ``IMU``, 7 float32 channels
  ax ay az (g), gx gy gz (deg/s), force (N), nominal rate = the puck's rate.
- ``OpenPuck <serial> events``: type ``Markers``, 1 string channel,
  irregular rate; each sample is one event as JSON (kind, count, amplitude...).

Timestamps are LSL's ``local_clock()`` of the moment the puck measured the
sample (device time mapped through the ping/pong clock sync, see
:mod:`openpuck.device.clock`), not the moment it arrived, so the link's latency
does not skew them. Before the first pong, arrival time is used.

Needs pylsl and its liblsl binary (``pip install openpuck[lsl]``, or ``pip install ".[lsl]"`` in a checkout: the PyPI
wheels ship liblsl for Linux x86_64, macOS and Windows).
"""
from __future__ import annotations

import json
import time
from typing import Any

from ..errors import OpenPuckError, needs

CHANNELS = (("ax", "g"), ("ay", "g"), ("az", "g"), ("gx", "dps"), ("gy", "dps"), ("gz", "dps"),
            ("force", "N"))


def _pylsl() -> Any:
    try:
        import pylsl
        pylsl.local_clock()
    except ImportError:
        raise OpenPuckError(needs("--lsl", "pylsl", "lsl")) from None
    except (RuntimeError, OSError) as e:  # pylsl without its liblsl binary
        raise OpenPuckError(f"--lsl: pylsl is installed but liblsl cannot be loaded ({e}); "
                            "install liblsl or set PYLSL_LIB") from None
    return pylsl


class LslOutlets:
    """The sample and event outlets of one puck. Feed it with :meth:`attach`
    (callbacks on a Puck) or :meth:`push_samples` / :meth:`push_event`."""

    def __init__(self, *, serial: str = "unknown", rate_hz: float = 200.0, name: str = "OpenPuck",
                 clock: Any = None, pylsl: Any = None) -> None:
        self.lsl = pylsl or _pylsl()
        self.clock = clock
        self.rate_hz = rate_hz
        self._lsl_minus_mono = self.lsl.local_clock() - time.monotonic()
        sid = f"openpuck-{serial}"
        info = self.lsl.StreamInfo(f"{name} {serial} samples", "IMU", len(CHANNELS), float(rate_hz),
                                   "float32", f"{sid}-samples")
        chans = info.desc().append_child("channels")
        for label, unit in CHANNELS:
            ch = chans.append_child("channel")
            ch.append_child_value("label", label)
            ch.append_child_value("unit", unit)
            ch.append_child_value("type", "Force" if label == "force" else
                                  ("Accelerometer" if label.startswith("a") else "Gyroscope"))
        info.desc().append_child_value("manufacturer", "OpenPuck")
        self.samples_outlet = self.lsl.StreamOutlet(info, chunk_size=0, max_buffered=360)
        einfo = self.lsl.StreamInfo(f"{name} {serial} events", "Markers", 1, 0.0, "string",
                                    f"{sid}-events")
        self.events_outlet = self.lsl.StreamOutlet(einfo)
        self.pushed_samples = 0
        self.pushed_events = 0

    def lsl_time(self, device_t: float) -> float | None:
        """LSL local_clock() time of a device time, or None before clock sync."""
        if self.clock is None or not self.clock.synced:
            return None
        host, _err = self.clock.to_host(device_t)
        return host + self._lsl_minus_mono

    def push_samples(self, block: Any) -> None:
        n = len(block)
        if n == 0:
            return
        import numpy as np
        data = np.column_stack([block.accel, block.gyro, block.force]).astype(np.float32)
        first = self.lsl_time(float(block.t[0]))
        if first is not None:
            stamps = (first + (block.t - block.t[0])).tolist()
        else:
            now = self.lsl.local_clock()
            stamps = (now - (block.t[-1] - block.t)).tolist()
        self.samples_outlet.push_chunk(data.tolist(), stamps)
        self.pushed_samples += n

    def push_event(self, ev: Any) -> None:
        if ev.kind in ("config",):
            return
        ts = self.lsl_time(ev.t)
        payload = json.dumps(ev.as_dict())
        if ts is None:
            self.events_outlet.push_sample([payload])
        else:
            self.events_outlet.push_sample([payload], ts)
        self.pushed_events += 1

    def attach(self, puck: Any) -> LslOutlets:
        puck.on("samples", self.push_samples)
        puck.on("*", self.push_event)
        return self

    @classmethod
    def for_puck(cls, puck: Any, rate_hz: float = 200.0, pylsl: Any = None) -> LslOutlets:
        serial = puck.info.serial if puck.info is not None else "unknown"
        return cls(serial=serial, rate_hz=rate_hz, clock=puck.clock, pylsl=pylsl).attach(puck)
