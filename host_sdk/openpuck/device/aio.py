"""The asyncio face of a :class:`~openpuck.device.puck.Puck`: the same commands, awaited.

    async with openpuck.connect_async("sim:?scenario=grip10&speed=max") as puck:
        await puck.start(exercise="grip_squeeze", target=20.0)
        async for ev in puck.events(timeout=10):
            ...

Each command runs the Puck's blocking command in a worker thread
(:func:`asyncio.to_thread`), so the event loop never waits on the link.
Events and sample blocks cross from the Puck's reader thread to the loop
through asyncio queues.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, AsyncIterator, Callable, Generator

from .clock import ClockSync
from .decoder import SampleBlock
from .events import DeviceInfo, Event, Status
from .feed import END
from .puck import Puck
from ..offline.recording import Recorder
from .session_decoder import SessionDecoder
from .transports import ConnectionLost, Transport, open_transport

__all__ = ["AsyncPuck", "connect_async"]

#: sample blocks kept for a consumer that does not read them (the oldest go first)
_MAX_SAMPLE_BLOCKS = 4096


class _Bridge:
    """From the Puck's reader thread to one event loop: events, sample blocks
    and the end of the stream, put on the loop's queues."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.samples: asyncio.Queue[Any] = asyncio.Queue(maxsize=_MAX_SAMPLE_BLOCKS)

    def put_event(self, ev: Event) -> None:
        self.loop.call_soon_threadsafe(self.events.put_nowait, ev)

    def put_samples(self, b: SampleBlock) -> None:
        def put() -> None:
            if self.samples.full():
                self.samples.get_nowait()
            self.samples.put_nowait(b)
        self.loop.call_soon_threadsafe(put)

    def end_when_closed(self, puck: Puck) -> None:
        """Put END on both queues once ``puck``'s reader stops (run on a thread)."""
        puck.wait_closed()
        try:
            self.loop.call_soon_threadsafe(self.events.put_nowait, END)
            self.loop.call_soon_threadsafe(self.samples.put_nowait, END)
        except RuntimeError:  # the loop is closed: nobody is listening
            pass


class AsyncPuck:
    """One puck, for asyncio. Make one with :func:`openpuck.connect_async`.

    The commands are coroutines that take what :class:`~openpuck.device.puck.Puck`'s
    take and return what they return; :meth:`events` and :meth:`samples` are
    async iterators. The underlying Puck is :attr:`puck` once open.
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._url, self._options = url, options
        self.puck: Puck | None = None
        self._bridge: _Bridge | None = None

    # -- lifecycle ------------------------------------------------------------
    async def open(self) -> AsyncPuck:
        """Connect (as :func:`openpuck.connect` does, in a worker thread)."""
        if self.puck is not None:
            return self
        bridge = _Bridge(asyncio.get_running_loop())
        t = open_transport(self._url, _open=False)
        puck = Puck(t, **self._options)
        puck._queue_events = False   # events reach the loop through the bridge instead
        puck.on("*", bridge.put_event)
        puck.on("samples", bridge.put_samples)
        await asyncio.to_thread(puck.open)
        self.puck, self._bridge = puck, bridge
        threading.Thread(target=bridge.end_when_closed, args=(puck,), daemon=True,
                         name=f"openpuck-async-watch-{puck.url}").start()
        return self

    async def close(self) -> None:
        """Stop streaming (best effort), stop the reader, close the link."""
        if self.puck is not None:
            await asyncio.to_thread(self.puck.close)

    def __await__(self) -> Generator[Any, None, AsyncPuck]:
        return self.open().__await__()

    async def __aenter__(self) -> AsyncPuck:
        return await self.open()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        return f"<AsyncPuck {self.url!r} {state}>"

    def _open_puck(self, what: str) -> Puck:
        return self._opened(what)[0]

    def _opened(self, what: str) -> tuple[Puck, _Bridge]:
        if self.puck is None or self._bridge is None:
            raise ConnectionLost(f"{what}: {self._url} is not open yet (use `async with "
                                 f"openpuck.connect_async(url) as puck:` or `await puck.open()`)")
        return self.puck, self._bridge

    # -- state ------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The puck's URL."""
        return self.puck.url if self.puck is not None else self._url

    @property
    def connected(self) -> bool:
        """The link is up (False before :meth:`open` and after :meth:`close`)."""
        return self.puck is not None and self.puck.connected

    @property
    def streaming(self) -> bool:
        """:meth:`start` was called and :meth:`stop` was not since."""
        return self.puck is not None and self.puck.streaming

    @property
    def info(self) -> DeviceInfo | None:
        """The puck's device_info in physical units (None on a replay before it appears)."""
        return self._open_puck("info").info

    @property
    def status(self) -> Status | None:
        """The latest Status event, or None."""
        return self._open_puck("status").status

    @property
    def counters(self) -> dict[str, int]:
        """Link health, as :attr:`Puck.counters <openpuck.device.puck.Puck.counters>`."""
        return self._open_puck("counters").counters

    @property
    def clock(self) -> ClockSync:
        """Device time to host time (see :mod:`openpuck.device.clock`)."""
        return self._open_puck("clock").clock

    @property
    def session(self) -> SessionDecoder:
        """The session decoder: the stream's events and counters."""
        return self._open_puck("session").session

    @property
    def transport(self) -> Transport:
        """The link."""
        return self._open_puck("transport").transport

    # -- commands -----------------------------------------------------------------
    async def start(self, exercise: str = "grip_squeeze", target: float | str | None = None, *,
                    rate_hz: int = 200, channels: tuple[str, ...] = ("accel", "gyro", "force"),
                    on_pct: int = 0, off_pct: int = 0) -> None:
        """Choose the exercise and start streaming samples and events.

        ``target`` in the exercise's unit (N or degrees); None takes the
        catalogue default; ``"auto"`` lets the puck learn it from the first reps.
        """
        await asyncio.to_thread(self._open_puck("start").start, exercise, target,
                                rate_hz=rate_hz, channels=channels, on_pct=on_pct,
                                off_pct=off_pct)

    async def stop(self) -> None:
        """Stop streaming."""
        await asyncio.to_thread(self._open_puck("stop").stop)

    async def ping(self) -> float:
        """Round trip to the puck and back, in seconds (also feeds the clock sync)."""
        return await asyncio.to_thread(self._open_puck("ping").ping)

    async def led(self, r: int, g: int, b: int, duration: float = 0.0) -> None:
        """Light the LED (0..255 each) for ``duration`` s (0 = until changed)."""
        await asyncio.to_thread(self._open_puck("led").led, r, g, b, duration)

    async def buzzer(self, freq_hz: int = 2000, duration: float = 0.1) -> None:
        """Beep at ``freq_hz`` (100..8000) for ``duration`` s (0.001..5)."""
        await asyncio.to_thread(self._open_puck("buzzer").buzzer, freq_hz, duration)

    async def calibrate(self, what: str = "rest") -> None:
        """``"rest"`` (hold still), ``"force_zero"`` (tare) or ``"target_rep"``."""
        await asyncio.to_thread(self._open_puck("calibrate").calibrate, what)

    async def get_config(self, key: str) -> int:
        """A configuration value (keys: rate_hz, accel_range_g, exercise, target...)."""
        return await asyncio.to_thread(self._open_puck("get_config").get_config, key)

    async def set_config(self, key: str, value: int) -> int:
        """Set and persist a configuration value; returns the value now in force."""
        return await asyncio.to_thread(self._open_puck("set_config").set_config, key, value)

    async def watch(self, *, channels: tuple[str, ...] = ("accel", "gyro", "force")) -> None:
        """Stream with the puck's own settings (what a host without the owner key can do)."""
        await asyncio.to_thread(self._open_puck("watch").watch, channels=channels)

    async def pair(self, key: bytes | None = None) -> None:
        """Make this host the puck's owner (over USB only; see Puck.pair)."""
        await asyncio.to_thread(self._open_puck("pair").pair, key)

    async def unpair(self) -> None:
        """Open the puck again and forget this host's key for it (see Puck.unpair)."""
        await asyncio.to_thread(self._open_puck("unpair").unpair)

    async def reboot(self, mode: str = "normal") -> None:
        """Reboot the puck (``"bootloader"`` for flashing). The link will drop."""
        await asyncio.to_thread(self._open_puck("reboot").reboot, mode)

    async def get_info(self) -> DeviceInfo:
        """Ask the puck who it is (also kept in :attr:`info`)."""
        return await asyncio.to_thread(self._open_puck("get_info").get_info)

    async def get_status(self) -> Status | None:
        """Ask for a status message now; returns the Status event."""
        return await asyncio.to_thread(self._open_puck("get_status").get_status)

    async def record(self, path: str, *, fsync: bool = False,
                     flush_interval: float = 0.5, overwrite: bool = False, private: bool = False) -> Recorder:
        """Append every byte of the link (both directions) to ``path`` from now on.
        An existing file is kept (RecordingError) unless ``overwrite``;
        ``private``: readable by the user only (mode 0600)."""
        return await asyncio.to_thread(self._open_puck("record").record, path, fsync=fsync,
                                       flush_interval=flush_interval, overwrite=overwrite, private=private)

    async def stop_recording(self) -> None:
        """Stop recording (and close the file); nothing when not recording."""
        await asyncio.to_thread(self._open_puck("stop_recording").stop_recording)

    # -- consuming ----------------------------------------------------------------------
    def on(self, kind: str, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """Call ``callback(event)`` for each event of ``kind``, as :meth:`Puck.on
        <openpuck.device.puck.Puck.on>` does: on the reader thread, not the event loop."""
        return self._open_puck("on").on(kind, callback)

    def off(self, kind: str, callback: Callable) -> None:
        """Stop calling ``callback`` for ``kind``."""
        self._open_puck("off").off(kind, callback)

    async def events(self, timeout: float | None = None) -> AsyncIterator[Event]:
        """Events as they come; ends when the puck closes (or after ``timeout`` s of quiet).
        Raises :class:`~openpuck.device.transports.ConnectionLost` if the link is lost for good."""
        puck, bridge = self._opened("events")
        while True:
            try:
                item = await asyncio.wait_for(bridge.events.get(), timeout)
            except asyncio.TimeoutError:
                return
            if item is END:
                bridge.events.put_nowait(END)   # for the next iterator
                if puck.closed_reason is not None:
                    raise puck.closed_reason
                return
            yield item

    async def samples(self, timeout: float | None = None) -> AsyncIterator[SampleBlock]:
        """Sample blocks as they come (the last 4096 are kept); ends like :meth:`events`."""
        bridge = self._opened("samples")[1]
        while True:
            try:
                item = await asyncio.wait_for(bridge.samples.get(), timeout)
            except asyncio.TimeoutError:
                return
            if item is END:
                bridge.samples.put_nowait(END)
                return
            yield item


def connect_async(url: str, **options: Any) -> AsyncPuck:
    """``async with openpuck.connect_async(url) as puck:`` (or ``puck = await
    connect_async(url)``). Options as for :func:`openpuck.connect`."""
    return AsyncPuck(url, **options)
