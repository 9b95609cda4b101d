"""The state of one puck's connection and how a command goes out on it: the
ack table, signing with this host's owner key (protocol/spec.md section 9) and
the puck's proof that it holds the key. The base of
:class:`~openpuck.device.puck.Puck`: the commands are in
:mod:`openpuck.device.commands`, the reader thread in :mod:`openpuck.device.reader`."""
from __future__ import annotations

import collections
import datetime
import hmac
import itertools
import logging
import os
import random
import threading
from collections.abc import Callable
from typing import Any

from .. import protocol
from ..errors import OpenPuckError
from ..offline import validate
from ..offline.recording import OUT, Recorder
from ..protocol import signing
from .clock import ClockSync
from .decoder import SampleBlock
from .events import Log
from .feed import Feed
from .keys import KeyStore, SigningClock
from .pending import CommandError, CommandTimeout, Match, PendingCommands
from .reconnect import StreamSettings
from .session_decoder import HOLD_S, SessionDecoder
from .transports import ConnectionLost, ReadOnlyError, Transport

log = logging.getLogger("openpuck")

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


class Link:
    """One puck over one transport: its state, and :meth:`_command`, which
    sends a command (signed when this host owns the puck) and waits for its answer."""

    def __init__(self, transport: Transport, *, timeout: float = 2.0, reconnect: bool = True,
                 reconnect_timeout: float | None = 60.0, ping_interval: float = 2.0,
                 record: str | None = None, hold_s: float = HOLD_S, fsync: bool = False,
                 max_queue: int = 100_000, overwrite: bool = False, mark_time: bool = True) -> None:
        self.transport = transport
        self.url = transport.url
        self.mark_time_on_connect = bool(mark_time)   #: open() gives the puck this host's time
        self.timeout = validate.number("timeout", timeout, 0.0, None, "s", above=True)
        self.reconnect = reconnect
        self.reconnect_timeout = validate.timeout("reconnect_timeout", reconnect_timeout)
        self.ping_interval = validate.number("ping_interval", ping_interval, 0.0, None, "s")
        self.clock = ClockSync()
        self.session = SessionDecoder(hold_s=hold_s, clock=self.clock)
        self._events = Feed(max_queue)
        self._samples = Feed(4096)
        self._queue_events = True    # False: another face queues them (the asyncio one)
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
        # called on the reader thread once it stops (the asyncio face ends its queues so)
        self._closed_hooks: list[Callable[[], None]] = []

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
            info = self.session.info
            if info is not None and "signing" in info.capabilities:
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
        """What to do about a nack (signing, USB only, a full flash), for the CommandError."""
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
        if error == "storage_full":
            return (f"the flash of {who} is full: nothing was stored and its settings are as before; "
                    f"remove files you put on it (mpremote connect PORT ls, rm) or flash it again "
                    f"(make flash), then retry")
        return ""

    # -- sending -----------------------------------------------------------------
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

    # -- events out ------------------------------------------------------------
    def _dispatch(self, item: Any) -> None:
        if isinstance(item, SampleBlock):
            if self._queue_events:
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

    def _host_log(self, level: str, text: str) -> None:
        """A Log event from the SDK itself (not the puck), in the event stream."""
        self._dispatch(Log(t=self.session.last_t or 0.0, level=level, text=text))
