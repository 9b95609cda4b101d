"""The puck's commands, written once: :class:`~openpuck.device.puck.Puck` has
them as methods that block until the puck answers, and
:class:`~openpuck.device.aio.AsyncPuck` has the same methods, generated from
these, as coroutines. :data:`COMMANDS` names them."""
from __future__ import annotations

import os
import threading
import time
from typing import Any, cast

from .. import exercises, protocol
from ..errors import OpenPuckError
from ..offline import validate
from ..protocol import signing
from .events import DeviceInfo, Status
from .link import link_kind
from .pending import CommandTimeout
from .puck_log import LogCommands
from .reconnect import StreamSettings, still_streaming

#: the commands of a puck, the same on both faces (record and stop_recording
#: are in :class:`~openpuck.device.puck.Puck`, next to the rest of the recording)
COMMANDS = ("start", "stop", "ping", "led", "buzzer", "calibrate", "get_config", "set_config",
            "reboot", "get_info", "get_status", "record", "stop_recording", "watch", "pair", "unpair",
            "log_list", "log_read", "log_pull", "log_confirm", "log_clear", "mark_time")



def _named(kind: Any) -> dict[str, int]:
    """messages.toml's names of an enum's values, as a command's argument spells them."""
    return {m.label: int(m.value) for m in kind}


_CHANNELS = _named(protocol.Channel)
_CAL = _named(protocol.CalibrateWhat)
_KEYS = _named(protocol.ConfigKey)
_REBOOT = _named(protocol.RebootMode)


class Commands(LogCommands):
    """The commands of a puck (blocking): each returns once the puck has answered
    (those of its own log: :mod:`openpuck.device.puck_log`)."""

    def get_info(self) -> DeviceInfo:
        """Ask the puck who it is (also kept in :attr:`info`)."""
        self._command("get_info", expect="device_info")
        info = self.session.info
        assert info is not None   # the answer it waited for is the device_info
        return info

    def get_status(self) -> Status | None:
        """Ask for a status message now; returns the Status event."""
        self._command("get_status", expect="status")
        return self.session.status

    def start(self, exercise: str = "grip_squeeze", target: float | str | None = None, *,
              rate_hz: int = 200, channels: tuple[str, ...] = ("accel", "gyro", "force"),
              on_pct: int = 0, off_pct: int = 0) -> None:
        """Choose the exercise and start streaming samples and events.

        ``target`` in the exercise's unit (N, degrees or mm); None takes the
        catalogue default; ``"auto"`` lets the puck learn it from the first reps.
        On a replay this does nothing (the recording plays regardless).
        """
        if exercise not in exercises.names():
            raise OpenPuckError(f"start: unknown exercise {exercise!r} "
                                f"(one of {', '.join(exercises.names())})")
        ex = exercises.get(exercise)
        unit = ex.unit
        target = validate.target(target, unit, "start: target")
        rate_hz = validate.rate_hz(rate_hz, "start: rate_hz")
        if target == "auto":
            target_milli = 0
        else:
            target_milli = int(round(float(ex.target if target is None else target) * 1000))
        try:
            mask = sum(_CHANNELS[c] for c in channels)
        except KeyError as e:
            raise OpenPuckError(f"start: unknown channel {e.args[0]!r} (accel, gyro, force)") from None
        settings = StreamSettings(exercise=ex.id, target=target_milli, on_pct=on_pct,
                                  off_pct=off_pct, rate_hz=rate_hz, channels=mask)
        if not self.transport.readonly:
            self._start_session(settings)
        self._settings = settings
        self.streaming = True

    def _start_session(self, settings: StreamSettings) -> None:
        for name, fields in settings.commands():
            self._command(name, **cast(dict[str, Any], fields))

    def watch(self, *, channels: tuple[str, ...] = ("accel", "gyro", "force")) -> None:
        """Stream with the puck's own settings: its configured rate and the
        exercise its owner chose. What a host without the owner key can do on
        an owned puck (reading stays open: spec section 9); works on any puck."""
        try:
            mask = sum(_CHANNELS[c] for c in channels)
        except KeyError as e:
            raise OpenPuckError(f"watch: unknown channel {e.args[0]!r} (accel, gyro, force)") from None
        rate = self.get_config("rate_hz") if not self.transport.readonly else 200
        settings = StreamSettings(exercise=None, target=0, on_pct=0, off_pct=0, rate_hz=rate,
                                  channels=mask)
        if not self.transport.readonly:
            self._start_session(settings)
        self._settings = settings
        self.streaming = True

    def pair(self, key: bytes | None = None) -> None:
        """Make this host the puck's owner (spec section 9.4): a new random
        key (or ``key``, 32 bytes) goes to the puck over USB and, once the
        puck acks, into this host's key store under the puck's serial. From
        then on the puck obeys only commands signed with it. On a puck owned
        by another key, unpair it first (over USB)."""
        if link_kind(self.transport) != "usb":
            raise OpenPuckError(
                f"pair: {self.url} is a BLE link; pairing sends the owner key in clear, so the "
                f"puck accepts it over USB only: connect the puck's USB cable and pair with "
                f"serial:PORT (openpuck pair /dev/ttyACM0)")
        info = self.session.info
        if info is not None and "signing" not in info.capabilities:
            raise OpenPuckError(f"pair: puck {self.url} runs firmware {info.firmware}, which cannot "
                                "check signatures (no 'signing' capability): update its firmware")
        serial = self.serial
        if not serial:
            raise OpenPuckError(f"pair: puck {self.url} reports no serial number; this host "
                                "keeps keys by serial, so it cannot keep this one")
        self.keys.path_of(serial)   # a serial that cannot name a file fails before the puck changes
        new = os.urandom(signing.KEY_SIZE) if key is None else bytes(key)
        if len(new) != signing.KEY_SIZE:
            raise OpenPuckError(f"pair: a key is {signing.KEY_SIZE} bytes, not {len(new)}")
        # the key's replay floor: this host's clock, so frames a reused key signed before stay refused
        since = self.signing_clock.next()
        try:
            self._command("pair", key=new, since=since)
        except CommandTimeout as e:
            raise CommandTimeout(f"{e}; if the puck took the key, this host does not have it: "
                                 f"unpair over USB (openpuck unpair {self.url}) and pair again") from None
        self.keys.put(serial, new)
        self.get_info()
        self._owner_key, self._proven, self._refusal = new, False, None
        self._prove()

    def unpair(self) -> None:
        """Open the puck again (spec section 9.4) and forget this host's key
        for it. Over USB anyone may; over BLE only the owner (this host
        signs with its key)."""
        if link_kind(self.transport) != "usb" and self._owner_key is None and self.owned:
            raise OpenPuckError(f"unpair: over BLE only the owner may unpair puck {self.serial}, "
                                f"and this host holds no key for it; unpair over USB instead "
                                f"(openpuck unpair serial:PORT)")
        self._command("unpair")
        if self.serial:
            self.keys.delete(self.serial)
        self._owner_key, self._proven, self._refusal = None, False, None
        self.get_info()

    def stop(self) -> None:
        """Stop streaming. Returns once the puck has answered, and every event it
        sent before its answer (the set's last reps) has gone to the callbacks."""
        self.streaming = False
        if not self.transport.readonly:
            self._command("stop")

    def ping(self) -> float:
        """Round trip to the puck and back, in seconds (also feeds the clock sync)."""
        t0 = time.monotonic()
        us = int(t0 * 1e6)
        self._pings[us] = t0
        self._command("ping", expect="pong", match=lambda m: m["host_time_us"] == us,
                      host_time_us=us)
        return time.monotonic() - t0

    def led(self, r: int, g: int, b: int, duration: float = 0.0) -> None:
        """Light the LED (0..255 each) for ``duration`` s (0 = until changed)."""
        self._command("led", r=r, g=g, b=b, duration_ms=int(round(duration * 1000)))

    def buzzer(self, freq_hz: int = 2000, duration: float = 0.1) -> None:
        """Beep at ``freq_hz`` (100..8000) for ``duration`` s (0.001..5)."""
        self._command("buzzer", freq_hz=int(freq_hz), duration_ms=int(round(duration * 1000)))

    def calibrate(self, what: str = "rest") -> None:
        """``"rest"`` (hold still), ``"force_zero"`` (tare) or ``"target_rep"``."""
        if what not in _CAL:
            raise OpenPuckError(f"calibrate: unknown {what!r} (one of {', '.join(_CAL)})")
        if what in ("rest", "force_zero") and self.streaming:
            # the puck refuses (bad_state): it must lie still, not stream a set
            raise OpenPuckError(f"calibrate {what}: the puck is streaming; stop it first "
                                f"(puck.stop()), then calibrate with the puck lying still")
        self._command("calibrate", what=_CAL[what])

    def get_config(self, key: str) -> int:
        """A configuration value (keys: rate_hz, accel_range_g, exercise, target...)."""
        k = self._key(key)
        m = self._command("get_config", expect="config", match=lambda m: m["key"] == k, key=k)
        assert m is not None   # with expect=, the answer or CommandTimeout
        return int(m["value"])

    def set_config(self, key: str, value: int) -> int:
        """Set and persist a configuration value; returns the value now in force.
        A value the puck would refuse raises :class:`openpuck.offline.validate.InvalidValue`
        before anything is sent."""
        k = self._key(key)
        v = validate.config_value(key, value)
        m = self._command("set_config", expect="config", match=lambda m: m["key"] == k,
                          key=k, value=v)
        return m["value"] if m is not None else int(value)

    def reboot(self, mode: str = "normal") -> None:
        """Reboot the puck (``"bootloader"`` for flashing). The link will drop."""
        if mode not in _REBOOT:
            raise OpenPuckError(f"reboot: unknown mode {mode!r} ({', '.join(_REBOOT)})")
        self.streaming = False
        self._settings = None
        self._command("reboot", mode=_REBOOT[mode])

    @staticmethod
    def _key(key: str) -> int:
        if key not in _KEYS:
            raise validate.InvalidValue(f"unknown config key {key!r} (one of {', '.join(_KEYS)})")
        return _KEYS[key]
    def _resume_in_background(self, settings: StreamSettings, after_reset: bool) -> None:
        # commands wait for answers that only the reader thread can deliver
        threading.Thread(target=self._resume, args=(settings, after_reset), daemon=True,
                         name="openpuck-resume").start()

    def _resume(self, settings: StreamSettings, after_reset: bool) -> None:
        what = "reset" if after_reset else "reconnect"
        try:
            if after_reset:
                try:
                    if still_streaming(self.get_status(), settings):
                        return   # a false alarm: the session goes on, leave it be
                except CommandTimeout:
                    pass
            self._start_session(settings)
        except OpenPuckError as e:
            self._host_log("error", f"resume after {what} failed: {e}")

