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

The layers of a Puck, one module each: :mod:`~openpuck.device.link` (its
state, sending a command, signing), :mod:`~openpuck.device.commands` (the
commands, which :class:`~openpuck.device.aio.AsyncPuck` shares),
:mod:`~openpuck.device.reader` (the reader thread) and this one (opening,
closing, recording, the events and samples).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import OpenPuckError
from ..offline.recording import Recorder
from .decoder import SampleBlock
from .events import DeviceInfo, Event, Status
from .feed import EMPTY, END, EventWindow
from .link import FOLLOW_LIMIT_S, link_kind
from .pending import CommandError, CommandTimeout
from .reader import Reader
from .transports import open_transport

__all__ = ["CommandError", "CommandTimeout", "FOLLOW_LIMIT_S", "Puck", "connect", "link_kind"]


class Puck(Reader):
    """One puck over one transport. Use :func:`openpuck.connect` to make one.

    Options: ``timeout`` (s per command), ``reconnect``, ``reconnect_timeout``
    (s, None = forever), ``ping_interval`` (s), ``record`` (a path), ``hold_s``,
    ``fsync``, ``max_queue`` (events kept for :meth:`events`), ``overwrite``,
    ``mark_time`` (default True: give the puck this host's time on connect, which
    dates its log: :meth:`mark_time`)."""

    # -- lifecycle ------------------------------------------------------------
    def open(self) -> Puck:
        """Open the link, start the reader thread and (unless a replay) ask the
        puck who it is, load this host's key for it and sync the clock."""
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
                if self.mark_time_on_connect:
                    self._mark_time_on_connect()   # dates the puck's log records of this boot
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

    def __enter__(self) -> Puck:
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
    def target(self) -> float | None:
        """The target the puck's detector counts against now, in the exercise's
        unit (N or degrees), as the puck last told (a target event or a status):
        the learned one for an auto target; None before the puck said, or while
        an auto target is still being learned."""
        return self.session.target

    @property
    def counters(self) -> dict[str, int]:
        """Link health: the session decoder's counters (frames, samples, lost_frames,
        crc_errors, gaps, partial_frames...) and events_dropped,
        sample_blocks_dropped, callback_errors, reconnects."""
        c = self.session.counters
        c.update(events_dropped=self._events.dropped, sample_blocks_dropped=self._samples.dropped,
                 callback_errors=self.callback_errors, reconnects=self.reconnects)
        return c

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
        window = EventWindow(timeout, duration)
        while True:
            wait = window.wait()
            if wait is not None and wait <= 0:
                return
            item = self._events.get(wait)
            if item is END:
                return
            if item is EMPTY:
                continue
            window.saw(item)
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


def connect(url: str, **options: Any) -> Puck:
    """Open a puck by URL and return a connected :class:`Puck`.

    URLs: ``serial:/dev/ttyACM0[?baud=N]`` (or the plain path), ``ble:ADDRESS``
    or ``ble:NAME``, ``sim:[RECORDING.csv][?scenario=NAME&speed=N|max]``,
    ``replay:FILE.opr[?speed=N|max]``, ``spy:URL[?log=FILE]``.
    Options: ``timeout`` (s per command), ``reconnect`` (bool),
    ``reconnect_timeout`` (s, None = forever), ``ping_interval`` (s),
    ``record`` (a path: record every byte), ``fsync``, ``mark_time`` (default
    True: the puck logs this host's time, dating its log's records of this boot;
    skipped where the puck has no log or this host may not sign for it).
    """
    t = open_transport(url, _open=False)
    return Puck(t, **options).open()

