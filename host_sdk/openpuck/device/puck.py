"""The Puck API: one object per puck (asyncio: :mod:`openpuck.device.aio`).

    import openpuck
    with openpuck.connect("sim:?scenario=grip10") as puck:
        print(puck.info.board, puck.info.firmware)
        puck.start(exercise="grip_squeeze", target=25.0)
        for ev in puck.events(timeout=5):
            if ev.kind == "rep":
                print(ev.count, round(ev.amplitude, 1), ev.unit)

How it works: a reader thread per puck pulls bytes from the transport into a
:class:`~openpuck.device.session_decoder.SessionDecoder`; events go to the callbacks given to
:meth:`Puck.on` (called on the reader thread: keep them short) and to a queue
(:class:`~openpuck.device.feed.Feed`) that :meth:`Puck.events` drains; sample blocks
to :meth:`Puck.samples`. Each command waits for its ack in the table of
:mod:`openpuck.device.pending` (a nack raises :class:`CommandError` naming the
command and the error). Pings every ``ping_interval`` s keep the clock sync
(:attr:`Puck.clock`) fresh. When the link drops, the reader reconnects as
:mod:`openpuck.device.reconnect` says (exponential backoff, 0.1 s doubling to 5 s,
for at most ``reconnect_timeout`` s), sends set_exercise and start again if
the puck was streaming, and reports the hole as a :class:`~openpuck.device.events.Gap`
event. When the puck restarts but the link stays up (the sim's pty, a puck
behind a serial adapter), the session decoder sees its seq restart (or its
uptime go back); the reader then does the same: a Gap ``"puck_reset"``, and
set_exercise and start again if the puck was streaming.

Signing (protocol/spec.md section 9): when this host holds the owner key of
the puck (:mod:`openpuck.device.keys`, by the serial in device_info), every
state-changing command goes out signed, with a timestamp of the host's
:class:`~openpuck.device.keys.SigningClock` and this connection's ``link_id``. Before
the first signed command on a connection (and after each reconnect) the puck
must prove that it holds the key (a challenge answered with an HMAC under
it): a device that only claims the serial gets nothing signed.
:meth:`Puck.pair` (over USB) makes this host the owner; :meth:`Puck.unpair`
opens the puck again; :meth:`Puck.watch` reads an owned puck's stream
without the key.
"""
from __future__ import annotations

import collections
import datetime
import hmac
import itertools
import logging
import os
import random
import threading
import time
from typing import Any, Callable, Iterator

from .. import exercises, protocol
from ..offline import validate
from .clock import ClockSync
from .decoder import SampleBlock
from ..errors import OpenPuckError
from .events import DeviceInfo, Event, Log, Status
from .feed import EMPTY, END, Feed
from .keys import KeyStore, SigningClock
from .pending import CommandError, CommandTimeout, Match, PendingCommands
from ..protocol import signing
from ..offline.recording import IN, OUT, Recorder
from .reconnect import (ReconnectPolicy, StreamSettings, samples_expected, still_streaming,
                        to_resend)
from .session_decoder import HOLD_S, SessionDecoder
from .transports import (ConnectionLost, EndOfStream, ReadOnlyError, Transport, TransportError,
                         open_transport)

__all__ = ["CommandError", "CommandTimeout", "Puck", "connect"]

log = logging.getLogger("openpuck")

_EX_BY_NAME = {e["name"]: e for e in protocol.EXERCISES}
_CHANNELS = protocol.ENUMS["channel"]
_CAL = protocol.ENUMS["calibrate_what"]
_KEYS = protocol.ENUMS["config_key"]
#: the send times of this many latest periodic pings are kept to pair with their pongs
_MAX_PINGS = 32
# a signing link id per connection of this process: a random start, then one more each
_link_ids = itertools.count(random.SystemRandom().randrange(256))
_link_lock = threading.Lock()
#: the SDK follows a puck's newest accepted timestamp (from its proof) at most
#: this far ahead of the host's wall clock; further is a clock error to fix
FOLLOW_LIMIT_S = 86400.0


def _next_link_id() -> int:
    with _link_lock:
        return next(_link_ids) & 0xFF


def link_kind(transport: Transport) -> str:
    """``"usb"`` or ``"ble"``: the puck's link behind a transport (a spy: what
    it wraps; serial ports, the virtual puck's pty and in-memory loops: usb)."""
    inner = getattr(transport, "inner", None)
    if inner is not None:
        return link_kind(inner)
    return "ble" if transport.scheme == "ble" else "usb"


class Puck:
    """One puck over one transport. Use :func:`openpuck.connect` to make one."""

    def __init__(self, transport: Transport, *, timeout: float = 2.0, reconnect: bool = True,
                 reconnect_timeout: float | None = 60.0, ping_interval: float = 2.0,
                 record: str | None = None, hold_s: float = HOLD_S, fsync: bool = False,
                 max_queue: int = 100_000, overwrite: bool = False) -> None:
        self.transport = transport
        self.url = transport.url
        self.timeout = validate.number("timeout", timeout, 0.0, None, "s", above=True)
        self.reconnect = reconnect
        self.reconnect_timeout = validate.timeout("reconnect_timeout", reconnect_timeout)
        self.ping_interval = validate.number("ping_interval", ping_interval, 0.0, None, "s")
        self.clock = ClockSync()
        self.session = SessionDecoder(hold_s=hold_s, clock=self.clock)
        self._events = Feed(max_queue)
        self._samples = Feed(4096)
        self._queue_events = True
        self._callbacks: dict[str, list[Callable]] = collections.defaultdict(list)
        self._seq = itertools.count(1)
        self._pending = PendingCommands()
        self._pings: dict[int, float] = {}
        self._last_ping = 0.0
        self._recorder: Recorder | None = None
        self._record_path, self._fsync = record, fsync
        self._overwrite = overwrite
        self._discard_empty = False
        self._told_rec_error = False
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._closing = threading.Event()
        self.connected = False
        self.streaming = False
        self._settings: StreamSettings | None = None   # what start() sent, to send again
        self.callback_errors = 0
        self.reconnects = 0
        self.closed_reason: BaseException | None = None
        self.link_id = _next_link_id()      #: this connection's signing link id
        self.keys = KeyStore()              #: where the owner keys are (openpuck.device.keys)
        self.signing_clock = SigningClock(self.keys.folder)
        self._owner_key: bytes | None = None
        self._proven = False                 # the puck proved it holds _owner_key on this link
        self._refusal: str | None = None     # why nothing is signed for this puck, if so
        self._sign_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------
    def open(self) -> "Puck":
        if self._thread is not None:
            return self
        if self._record_path:
            self.record(self._record_path, fsync=self._fsync, overwrite=self._overwrite)
        try:
            self.transport.open()
        except Exception:
            self._stop_recording(discard_if_empty=True)   # no puck, no recording left behind
            raise
        self.connected = True
        if self._recorder:
            self._recorder.note("connect", url=self.url)
        self._running.set()
        self._thread = threading.Thread(target=self._reader, daemon=True,
                                        name=f"openpuck-reader-{self.url}")
        self._thread.start()
        if not self.transport.readonly:
            try:
                self.get_info()
                self._load_key()
                for _ in range(3):
                    self.ping()
            except BaseException:
                self._discard_empty = True
                self.close()
                raise
        return self

    def close(self) -> None:
        """Stop streaming (best effort), stop the reader, close the link."""
        if self._closing.is_set():
            return
        self._closing.set()
        if self.streaming and self.connected and not self.transport.readonly:
            try:
                self._command("stop", timeout=0.5)
            except OpenPuckError:
                pass
        self._running.clear()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        try:
            self.transport.close()
        except Exception:  # noqa: BLE001
            pass
        self.connected = False
        self._stop_recording(discard_if_empty=self._discard_empty)
        self._events.close()
        self._samples.close()

    def __enter__(self) -> "Puck":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Puck {self.url!r} {'connected' if self.connected else 'not connected'}>"

    # -- recording ------------------------------------------------------------
    def record(self, path: str, *, fsync: bool = False, flush_interval: float = 0.5,
               overwrite: bool = False, private: bool = False) -> Recorder:
        """Append every byte of the link (both directions) to ``path`` from now on.
        An existing file is kept (RecordingError) unless ``overwrite``;
        ``private``: readable by the user only (mode 0600), as patient data is."""
        self._stop_recording()
        self._recorder = Recorder(path, url=self.url, fsync=fsync, flush_interval=flush_interval,
                                  overwrite=overwrite, private=private)
        return self._recorder

    @property
    def recorder(self) -> Recorder | None:
        """The recording in progress (``bytes_written``, ``path``), or None."""
        return self._recorder

    def stop_recording(self) -> None:
        """Stop recording (and close the file); nothing when not recording."""
        self._stop_recording()

    def _stop_recording(self, discard_if_empty: bool = False) -> None:
        rec, self._recorder = self._recorder, None
        if rec is not None:
            rec.note("stop")
            rec.close()
            if discard_if_empty and not rec.received:
                rec.path.unlink(missing_ok=True)

    # -- properties ---------------------------------------------------------------
    @property
    def info(self) -> DeviceInfo | None:
        """The puck's device_info in physical units (None on a replay before it appears)."""
        return self.session.info

    @property
    def status(self) -> Status | None:
        """The latest Status event, or None."""
        return self.session.status

    @property
    def counters(self) -> dict[str, int]:
        """Link health: the session decoder's counters (frames, samples, lost_frames,
        crc_errors, gaps, partial_frames...) and events_dropped,
        sample_blocks_dropped, callback_errors, reconnects."""
        c = self.session.counters
        c.update(events_dropped=self._events.dropped, sample_blocks_dropped=self._samples.dropped,
                 callback_errors=self.callback_errors, reconnects=self.reconnects)
        return c

    # -- signing ----------------------------------------------------------------
    @property
    def serial(self) -> str:
        """The puck's serial number (device_info), "" before it is known."""
        info = self.session.info
        return info.serial if info is not None else ""

    @property
    def owned(self) -> bool:
        """The puck says it is paired (device_info capability ``owned``)."""
        info = self.session.info
        return info is not None and "owned" in info.capabilities

    @property
    def has_key(self) -> bool:
        """This host holds a key for this puck (it signs state-changing commands)."""
        return self._owner_key is not None

    def _load_key(self) -> None:
        """Take this host's key for the puck, if any, and have the puck prove it
        holds it. A puck that says it is open gets nothing signed (the key is
        kept on disk); one that says it is owned but cannot prove it gets no
        signed command at all: each raises why (see :meth:`_prove`)."""
        serial = self.serial
        self._owner_key = self.keys.get(serial) if serial else None
        self._proven = False
        self._refusal = None
        if self._owner_key is None:
            return
        if not self.owned:
            self._owner_key = None
            if "signing" in self.session.info.capabilities:
                log.warning("openpuck: this host holds a key for puck %s (%s) but the puck is not "
                            "paired (someone unpaired it over USB); pair it again: openpuck pair %s",
                            serial, self.keys.path_of(serial), self.url)
            return
        try:
            self._prove()
        except OpenPuckError as e:
            log.warning("openpuck: %s", e)

    def _prove(self) -> None:
        """Challenge the puck to prove it holds this host's key (spec section
        9.6), then move the signing clock past the newest timestamp it
        accepted. Raises OpenPuckError, naming the puck and saying to pair it
        again over USB, when it cannot; every signed command raises the same
        until the link is lost or the key is loaded again."""
        key = self._owner_key
        assert key is not None
        who = f"puck {self.serial} at {self.url}"
        nonce = os.urandom(signing.NONCE_SIZE)
        try:
            m = self._command("challenge", expect="proof", match=lambda m: m["nonce"] == nonce,
                              nonce=nonce)
        except CommandError as e:
            why = f"it refused the challenge ({e.error})"
        except CommandTimeout:
            why = "it did not answer the challenge"
        else:
            assert m is not None
            if hmac.compare_digest(bytes(m["tag"]), signing.proof(key, nonce, m["newest"])):
                self._follow(m["newest"], who)
                self._proven = True
                return
            why = "its proof does not verify with this host's key"
        self._refusal = (
            f"{who} did not prove that it holds this host's owner key "
            f"({self.keys.path_of(self.serial)}): {why}. It may be another device claiming its "
            f"serial, or the puck was paired again elsewhere; nothing signed was sent to it. Pair the "
            f"puck again over its USB cable: openpuck unpair serial:PORT, then openpuck pair serial:PORT")
        raise OpenPuckError(self._refusal)

    def _follow(self, newest: int, who: str) -> None:
        """Move the signing clock past ``newest`` (authenticated by a proof),
        unless that is more than FOLLOW_LIMIT_S ahead of this host's clock."""
        ahead = (newest - signing.now()) * signing.UNIT_US / 1e6
        if ahead > FOLLOW_LIMIT_S:
            when = datetime.datetime.fromtimestamp(
                signing.EPOCH_UNIX + newest * signing.UNIT_US / 1e6, datetime.timezone.utc)
            self._refusal = (
                f"{who} has accepted signing timestamps up to {when:%Y-%m-%d %H:%M} UTC, "
                f"{ahead / 86400:.1f} days ahead of this host's clock: a host holding its key has "
                f"its clock far ahead, or this host's clock is behind. Check the clocks; pairing it "
                f"again over USB starts its timestamps afresh (openpuck unpair serial:PORT, then "
                f"openpuck pair serial:PORT)")
            raise OpenPuckError(self._refusal)
        self.signing_clock.advance_to(newest + 1)

    def _hint(self, name: str, error: str, signed: bool) -> str:
        """What to do about a signing nack, for the CommandError."""
        who = f"puck {self.serial or self.url}"
        if error == "unauthenticated" and not signed:
            return (f"{who} is paired with an owner and this host holds no key for it "
                    f"({self.keys.folder / 'keys'}); only the owner changes its state. Read its "
                    f"stream with puck.watch() (openpuck stream --watch), or take it over with the "
                    f"cable: openpuck unpair {self.url} then openpuck pair {self.url} (USB only)")
        if error == "unauthenticated":
            return (f"this host's key for {who} ({self.keys.path_of(self.serial)}) is not the puck's "
                    f"owner key (it was paired again elsewhere); over USB: openpuck unpair "
                    f"{self.url}, then openpuck pair {self.url}")
        if error == "replayed":
            return (f"{who} refused a timestamp signed past the newest it proved to have accepted "
                    f"(another host with the key signing at the same time?): try again, or pair it "
                    f"again over USB, which starts its timestamps afresh")
        if error == "usb_only":
            return f"{name} is accepted over the puck's USB link only (physical access)"
        return ""

    # -- commands ---------------------------------------------------------------
    def _command(self, name: str, *, expect: str | None = None, match: Match | None = None,
                 timeout: float | None = None, **fields: Any) -> protocol.Message | None:
        if self.transport.readonly:
            raise ReadOnlyError(f"{name}: {self.url} is read-only (a replay)")
        if not self.connected:
            raise ConnectionLost(f"{name}: {self.url} is not connected")
        policy = signing.policy(name)
        key = self._owner_key if policy is not None else None
        if key is not None and not self._proven:
            if policy == "off_usb" and link_kind(self.transport) == "usb":
                key = None                # unpair over USB goes unsigned: anyone may
            elif self._refusal is not None:
                raise OpenPuckError(f"{name}: {self._refusal}")
            else:
                self._prove()
        for attempt in (1, 2):
            try:
                return self._send(name, key, expect, match, timeout, fields)
            except CommandError as e:
                if e.error == "replayed" and key is not None and attempt == 1:
                    # the puck accepted a newer timestamp (it rebooted: its floor is its mark,
                    # or another host signed): ask it, authenticated, and sign past it. A bare
                    # nack is not authenticated, so it never moves the clock by itself
                    self._proven = False
                    self._prove()
                    continue
                hint = self._hint(name, e.error, key is not None)
                if hint:
                    raise CommandError(e.command, e.code, e.detail, hint) from None
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, name: str, key: bytes | None, expect: str | None, match: Match | None,
              timeout: float | None, fields: dict[str, Any]) -> protocol.Message | None:
        seq = next(self._seq) & 0xFFFF
        p = self._pending.register(name, seq, expect, match)
        try:
            if key is not None:
                # timestamps go out in the order they are taken (two threads may send:
                # the user's and the resume after a reconnect), or the later would be replayed
                with self._sign_lock:
                    self._write(signing.encode_signed(name, seq, sign_key=key, link_id=self.link_id,
                                                      timestamp=self.signing_clock.next(), **fields))
            else:
                self._write(protocol.encode(name, seq=seq, **fields))
            return p.wait(self.timeout if timeout is None else timeout)
        except CommandTimeout as e:
            raise CommandTimeout(f"{e} (puck {self.url})") from None
        finally:
            self._pending.discard(p)

    def _write(self, frame: bytes) -> None:
        if self._recorder:
            self._recorder.write(OUT, signing.redact(frame))   # a recording is made to be shared
        self.transport.write(frame)

    def get_info(self) -> DeviceInfo:
        """Ask the puck who it is (also kept in :attr:`info`)."""
        self._command("get_info", expect="device_info")
        return self.session.info

    def get_status(self) -> Status | None:
        """Ask for a status message now; returns the Status event."""
        self._command("get_status", expect="status")
        return self.session.status

    def start(self, exercise: str = "grip_squeeze", target: float | str | None = None, *,
              rate_hz: int = 200, channels: tuple[str, ...] = ("accel", "gyro", "force"),
              on_pct: int = 0, off_pct: int = 0) -> None:
        """Choose the exercise and start streaming samples and events.

        ``target`` in the exercise's unit (N or degrees); None takes the
        catalogue default; ``"auto"`` lets the puck learn it from the first reps.
        On a replay this does nothing (the recording plays regardless).
        """
        ex = _EX_BY_NAME.get(exercise)
        if ex is None:
            raise OpenPuckError(f"start: unknown exercise {exercise!r} "
                                f"(one of {', '.join(_EX_BY_NAME)})")
        unit = exercises.get(exercise).unit
        target = validate.target(target, unit, "start: target")
        rate_hz = validate.rate_hz(rate_hz, "start: rate_hz")
        if target == "auto":
            target_milli = 0
        else:
            target_milli = int(round(float(ex["target"] if target is None else target) * 1000))
        try:
            mask = sum(_CHANNELS[c] for c in channels)
        except KeyError as e:
            raise OpenPuckError(f"start: unknown channel {e.args[0]!r} (accel, gyro, force)") from None
        settings = StreamSettings(exercise=ex["id"], target=target_milli, on_pct=on_pct,
                                  off_pct=off_pct, rate_hz=rate_hz, channels=mask)
        if not self.transport.readonly:
            self._start_session(settings)
        self._settings = settings
        self.streaming = True

    def _start_session(self, settings: StreamSettings) -> None:
        for name, fields in settings.commands():
            self._command(name, **fields)

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
        return m["value"] if m is not None else None

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
        modes = protocol.ENUMS["reboot_mode"]
        if mode not in modes:
            raise OpenPuckError(f"reboot: unknown mode {mode!r} (normal, bootloader)")
        self.streaming = False
        self._settings = None
        self._command("reboot", mode=modes[mode])

    @staticmethod
    def _key(key: str) -> int:
        if key not in _KEYS:
            raise validate.InvalidValue(f"unknown config key {key!r} (one of {', '.join(_KEYS)})")
        return _KEYS[key]

    # -- consuming ------------------------------------------------------------------
    def on(self, kind: str, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """Call ``callback(event)`` for each event of ``kind`` (``"rep"``, ``"grip"``,
        ``"gap"``..., ``"*"`` for every event, ``"samples"`` for sample blocks).
        Callbacks run on the reader thread; an exception in one is logged and counted."""
        self._callbacks[kind].append(callback)
        return callback

    def off(self, kind: str, callback: Callable) -> None:
        """Stop calling ``callback`` for ``kind`` (nothing if it was not registered)."""
        try:
            self._callbacks[kind].remove(callback)
        except ValueError:
            pass

    def events(self, timeout: float | None = None, duration: float | None = None) -> Iterator[Event]:
        """Events as they come. Ends when the puck is closed, a replay ends,
        ``timeout`` s pass with nothing new (a status or config event, which a
        streaming puck sends every second whatever happens, is yielded but
        does not count as new), or ``duration`` s have passed. Raises
        :class:`ConnectionLost` if the link is lost for good.

        The events are a queue: two threads iterating it each get some of them
        (use :meth:`on` callbacks to give every consumer every event)."""
        timeout = validate.timeout("events: timeout", timeout)
        duration = validate.timeout("events: duration", duration)
        now = time.monotonic()
        end = None if duration is None else now + duration
        quiet_end = None if timeout is None else now + timeout
        while True:
            now = time.monotonic()
            deadlines = [d for d in (end, quiet_end) if d is not None]
            wait = None if not deadlines else min(deadlines) - now
            if wait is not None and wait <= 0:
                return
            item = self._events.get(wait)
            if item is END:
                return
            if item is EMPTY:
                continue
            if timeout is not None and item.kind not in ("status", "config"):
                quiet_end = time.monotonic() + timeout
            yield item

    def samples(self, timeout: float | None = None) -> Iterator[SampleBlock]:
        """Sample blocks (numpy: ``t``, ``accel``, ``gyro``, ``force``) as they come;
        ends like :meth:`events`."""
        while True:
            item = self._samples.get(timeout)
            if item is END or item is EMPTY:
                return
            yield item

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Wait until the reader stops (a replay's end, a link lost for good)."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the reader thread ------------------------------------------------------------
    def _dispatch(self, item: Any) -> None:
        if isinstance(item, SampleBlock):
            self._samples.put(item)
            cbs = self._callbacks.get("samples", ())
        else:
            if self._queue_events:
                self._events.put(item)
            cbs = list(self._callbacks.get(item.kind, ())) + list(self._callbacks.get("*", ()))
        for cb in list(cbs):
            try:
                cb(item)
            except Exception:  # noqa: BLE001 - a user's callback must not kill the reader
                self.callback_errors += 1
                log.exception("openpuck: callback %r raised", cb)

    def _control(self, m: protocol.Message, now: float) -> None:
        if m.type == "pong":
            sent = self._pings.pop(m["host_time_us"], None)
            if sent is not None:
                dev = self.session.unwrap(m["device_time_us"])
                if self.clock.synced:
                    pred, err = self.clock.to_host(dev)
                    if abs(pred - (sent + now) / 2) > 1.0 + err:  # the puck restarted its clock
                        self.clock.reset()
                self.clock.add(sent, now, dev)
        self._pending.resolve(m)

    def _reader(self) -> None:
        t = self.transport
        try:
            while self._running.is_set():
                try:
                    data = t.read(0.05)
                except EndOfStream:
                    self.connected = False
                    for ev in self.session.finish():
                        self._dispatch(ev)
                    break
                except ConnectionLost as e:
                    if not self._handle_lost(e):
                        break
                    continue
                now = time.monotonic()
                if data:
                    rec = self._recorder
                    if rec:
                        rec.write(IN, data)
                        if rec.error is not None and not self._told_rec_error:
                            self._told_rec_error = True
                            self._host_log("error", f"recording to {rec.path} stopped: "
                                           f"{rec.error.strerror or rec.error}; the {rec.bytes_written} "
                                           f"bytes before it are kept, the stream goes on")
                    out, control = self.session.feed(data, now)
                    # what the puck sent before an answer reaches the callbacks before the
                    # command returns: after stop(), every event of the stream has been told
                    for item in out:
                        self._dispatch(item)
                    for m in control:
                        self._control(m, now)
                    if self.session.take_reset():
                        self._puck_reset()
                else:
                    for ev in self.session.poll(now):
                        self._dispatch(ev)
                if (self.ping_interval and not t.readonly and self.connected
                        and now - self._last_ping >= self.ping_interval and self._thread is not None):
                    self._last_ping = now
                    self._ping_async(now)
        except Exception as e:  # noqa: BLE001 - report, never die silently
            log.exception("openpuck: reader of %s failed", self.url)
            self.closed_reason = e
        finally:
            self.connected = False
            self._pending.fail_all(ConnectionLost(f"{self.url}: reader stopped"))
            self._events.close(self.closed_reason if not self._closing.is_set() else None)
            self._samples.close()

    def _ping_async(self, now: float) -> None:
        us = int(now * 1e6)
        self._pings[us] = now
        if len(self._pings) > _MAX_PINGS:
            for k in sorted(self._pings)[:-_MAX_PINGS]:
                del self._pings[k]
        try:
            self._write(protocol.encode("ping", seq=next(self._seq) & 0xFFFF, host_time_us=us))
        except (ConnectionLost, TransportError):
            pass

    def _handle_lost(self, e: BaseException) -> bool:
        """Reconnect with backoff. False when the link is gone for good."""
        now = time.monotonic()
        self.connected = False
        self._proven, self._refusal = False, None   # whoever answers next proves the key again
        self._pending.fail_all(ConnectionLost(f"{self.url}: link lost ({e})"))
        if self._closing.is_set() or not self._running.is_set():
            return False
        self.session.link_lost(now)
        if self._recorder:
            self._recorder.note("disconnect", reason=str(e))
        if not self.reconnect or not self.transport.reconnectable:
            self.closed_reason = ConnectionLost(f"{self.url}: link lost ({e})")
            return False
        limit = "" if self.reconnect_timeout is None else f" for up to {self.reconnect_timeout:g} s"
        self._host_log("warning", f"link to {self.url} lost ({e}); reconnecting{limit}")
        outage = ReconnectPolicy(timeout=self.reconnect_timeout).outage(now)
        while self._running.is_set():
            try:
                self.transport.reopen()
                break
            except (TransportError, OSError) as err:
                last = err
            wait = outage.wait_after_failure(time.monotonic())
            if wait is None:
                self.closed_reason = ConnectionLost(
                    f"{self.url}: link lost and not back within {self.reconnect_timeout:g} s ({last})")
                return False
            if self._closing.wait(wait):
                return False
        else:
            return False
        self.connected = True
        self.reconnects += 1
        if self._recorder:
            self._recorder.note("connect", url=self.url)
        restored = time.monotonic()
        self._host_log("info", f"link to {self.url} back after {restored - now:.1f} s")
        for ev in self.session.link_restored(
                restored, samples_expected(self.streaming, self.transport.readonly)):
            self._dispatch(ev)
        resend = to_resend(self.streaming, self._settings, self.transport.readonly)
        if resend is not None:
            self._resume_in_background(resend, after_reset=False)
        return True

    def _puck_reset(self) -> None:
        """The puck restarted on a live link: restore the session, as a reconnect does."""
        log.warning("openpuck: %s restarted (link up); restoring the session", self.url)
        if self._recorder:
            self._recorder.note("puck_reset")
        resend = to_resend(self.streaming, self._settings, self.transport.readonly)
        if resend is not None:
            self._resume_in_background(resend, after_reset=True)
        elif not samples_expected(self.streaming, self.transport.readonly):
            for ev in self.session.reset_gap():   # no samples will come to end the gap
                self._dispatch(ev)

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

    def _host_log(self, level: str, text: str) -> None:
        """A Log event from the SDK itself (not the puck), in the event stream."""
        self._dispatch(Log(t=self.session.last_t or 0.0, level=level, text=text))


def connect(url: str, **options: Any) -> Puck:
    """Open a puck by URL and return a connected :class:`Puck`.

    URLs: ``serial:/dev/ttyACM0[?baud=N]`` (or the plain path), ``ble:ADDRESS``
    or ``ble:NAME``, ``sim:[RECORDING.csv][?scenario=NAME&speed=N|max]``,
    ``replay:FILE.opr[?speed=N|max]``, ``spy:URL[?log=FILE]``.
    Options: ``timeout`` (s per command), ``reconnect`` (bool),
    ``reconnect_timeout`` (s, None = forever), ``ping_interval`` (s),
    ``record`` (a path: record every byte), ``fsync``.
    """
    t = open_transport(url, _open=False)
    return Puck(t, **options).open()

