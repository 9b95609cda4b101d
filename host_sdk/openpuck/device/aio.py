"""The asyncio face of a :class:`~openpuck.device.puck.Puck`: the same commands, awaited.

    async with openpuck.connect_async("sim:?scenario=grip10&speed=max") as puck:
        await puck.start(exercise="grip_squeeze", target=20.0)
        async for ev in puck.events(timeout=10):
            ...

The commands are not written here: each is made from the one in
:mod:`openpuck.device.commands` (:func:`_awaited`), with its parameters, result
and docstring, and runs it in a worker thread (:func:`asyncio.to_thread`), so
the event loop never waits on the link. Events and sample blocks cross from the
Puck's reader thread to the loop through asyncio queues; :meth:`AsyncPuck.events`
ends as :meth:`Puck.events <openpuck.device.puck.Puck.events>` does
(:class:`~openpuck.device.feed.EventWindow`).
"""
from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from typing import Any, Concatenate, ParamSpec, TypeVar

from .clock import ClockSync
from .decoder import SampleBlock
from .events import DeviceInfo, Event, Status
from .feed import END, EventWindow
from .puck import Puck
from .session_decoder import SessionDecoder
from .transports import ConnectionLost, Transport, open_transport

__all__ = ["AsyncPuck", "connect_async"]

P = ParamSpec("P")
R = TypeVar("R")


def _awaited(command: Callable[Concatenate[Puck, P], R]
             ) -> Callable[Concatenate[AsyncPuck, P], Coroutine[Any, Any, R]]:
    """The coroutine face of one of :class:`Puck`'s commands: the same
    parameters, result and docstring (:func:`functools.wraps`), run in a worker
    thread on the open Puck."""
    name = command.__name__

    @functools.wraps(command)
    async def method(self: AsyncPuck, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(command, self._open_puck(name), *args, **kwargs)
    return method


class _Bridge:
    """From the Puck's reader thread to one event loop: events, sample blocks
    and the end of the stream, put on the loop's queues. Bounded as the Puck's
    own queues are: when full, the oldest goes, and is counted; the end of the
    stream always fits."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_events: int, max_samples: int) -> None:
        self.loop = loop
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.samples: asyncio.Queue[Any] = asyncio.Queue()
        self._max_events, self._max_samples = max_events, max_samples
        self.events_dropped = self.samples_dropped = 0

    def put_event(self, ev: Event) -> None:
        def put() -> None:
            if self.events.qsize() >= self._max_events:
                self.events.get_nowait()
                self.events_dropped += 1
            self.events.put_nowait(ev)
        self.loop.call_soon_threadsafe(put)

    def put_samples(self, b: SampleBlock) -> None:
        def put() -> None:
            if self.samples.qsize() >= self._max_samples:
                self.samples.get_nowait()
                self.samples_dropped += 1
            self.samples.put_nowait(b)
        self.loop.call_soon_threadsafe(put)

    def end(self) -> None:
        """Put END on both queues: the Puck's reader stopped (called on its thread)."""
        def put() -> None:
            self.events.put_nowait(END)
            self.samples.put_nowait(END)
        try:
            self.loop.call_soon_threadsafe(put)
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
        t = open_transport(self._url, _open=False)
        puck = Puck(t, **self._options)
        bridge = _Bridge(asyncio.get_running_loop(), puck._events.maxlen, puck._samples.maxlen)
        puck._queue_events = False   # events and samples reach the loop through the bridge instead
        puck.on("*", bridge.put_event)
        puck.on("samples", bridge.put_samples)
        puck._closed_hooks.append(bridge.end)
        await asyncio.to_thread(puck.open)
        self.puck, self._bridge = puck, bridge
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
    def target(self) -> float | None:
        """The target the puck counts against now, as :attr:`Puck.target
        <openpuck.device.puck.Puck.target>` (None while an auto target is being learned)."""
        return self._open_puck("target").target

    @property
    def counters(self) -> dict[str, int]:
        """Link health, as :attr:`Puck.counters <openpuck.device.puck.Puck.counters>`
        (events_dropped and sample_blocks_dropped: from this face's queues)."""
        puck, bridge = self._opened("counters")
        c = puck.counters
        c.update(events_dropped=bridge.events_dropped, sample_blocks_dropped=bridge.samples_dropped)
        return c

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

    # -- commands: made from Puck's (openpuck.device.commands), never written here --
    start = _awaited(Puck.start)
    stop = _awaited(Puck.stop)
    ping = _awaited(Puck.ping)
    led = _awaited(Puck.led)
    buzzer = _awaited(Puck.buzzer)
    calibrate = _awaited(Puck.calibrate)
    get_config = _awaited(Puck.get_config)
    set_config = _awaited(Puck.set_config)
    reboot = _awaited(Puck.reboot)
    get_info = _awaited(Puck.get_info)
    get_status = _awaited(Puck.get_status)
    record = _awaited(Puck.record)
    stop_recording = _awaited(Puck.stop_recording)
    watch = _awaited(Puck.watch)
    pair = _awaited(Puck.pair)
    unpair = _awaited(Puck.unpair)
    log_list = _awaited(Puck.log_list)
    log_read = _awaited(Puck.log_read)
    log_pull = _awaited(Puck.log_pull)
    log_confirm = _awaited(Puck.log_confirm)
    log_clear = _awaited(Puck.log_clear)
    mark_time = _awaited(Puck.mark_time)

    # -- consuming ----------------------------------------------------------------------
    def on(self, kind: str, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """Call ``callback(event)`` for each event of ``kind``, as :meth:`Puck.on
        <openpuck.device.puck.Puck.on>` does: on the reader thread, not the event loop."""
        return self._open_puck("on").on(kind, callback)

    def off(self, kind: str, callback: Callable) -> None:
        """Stop calling ``callback`` for ``kind``."""
        self._open_puck("off").off(kind, callback)

    async def events(self, timeout: float | None = None,
                     duration: float | None = None) -> AsyncIterator[Event]:
        """Events as they come. Ends as :meth:`Puck.events
        <openpuck.device.puck.Puck.events>` does: when the puck closes,
        ``timeout`` s pass with nothing new (status and config events are
        yielded but are not news), or ``duration`` s have passed. Raises
        :class:`~openpuck.device.transports.ConnectionLost` if the link is lost for good."""
        puck, bridge = self._opened("events")
        window = EventWindow(timeout, duration)
        while True:
            wait = window.wait()
            if wait is not None and wait <= 0:
                return
            try:
                item = await asyncio.wait_for(bridge.events.get(), wait)
            except asyncio.TimeoutError:
                continue   # the window says whether that was the end
            if item is END:
                bridge.events.put_nowait(END)   # for the next iterator
                if puck.closed_reason is not None:
                    raise puck.closed_reason
                return
            window.saw(item)
            yield item

    async def samples(self, timeout: float | None = None) -> AsyncIterator[SampleBlock]:
        """Sample blocks as they come (the last 4096 are kept, as a Puck keeps
        them); ends like :meth:`events`."""
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
