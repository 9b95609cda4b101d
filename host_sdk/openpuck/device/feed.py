"""A bounded, closable queue between a Puck's reader thread and its consumers."""
from __future__ import annotations

import collections
import threading
import time
from typing import Any

from ..offline import validate

#: returned by :meth:`Feed.get` once the feed is closed and drained
END = object()
#: returned by :meth:`Feed.get` when nothing came within the timeout
EMPTY = object()


class Feed:
    """Items in order; when full, the oldest is dropped (and counted in
    :attr:`dropped`) so that a consumer that stopped reading never stalls the
    reader."""

    def __init__(self, maxlen: int) -> None:
        self._q: collections.deque = collections.deque()
        self._maxlen = self.maxlen = maxlen
        self._cond = threading.Condition()
        self._closed: BaseException | bool = False
        self.dropped = 0

    def put(self, item: Any) -> None:
        with self._cond:
            if len(self._q) >= self._maxlen:
                self._q.popleft()
                self.dropped += 1
            self._q.append(item)
            self._cond.notify()

    def close(self, exc: BaseException | None = None) -> None:
        """No more items: :meth:`get` returns what is left, then :data:`END`
        (or raises ``exc``, e.g. the ConnectionLost that ended the reader)."""
        with self._cond:
            self._closed = exc if exc is not None else True
            self._cond.notify_all()

    def get(self, timeout: float | None) -> Any:
        """An item; :data:`EMPTY` on timeout; :data:`END` once closed and drained."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._q:
                if self._closed is not False:
                    if isinstance(self._closed, BaseException):
                        raise self._closed
                    return END
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return EMPTY
                self._cond.wait(left if left is not None else 0.5)
            return self._q.popleft()


#: events that a streaming puck sends every second whatever happens: they do
#: not count as news for ``events(timeout=...)``
HEARTBEATS = frozenset({"status", "config"})


class EventWindow:
    """When an iteration of ``events(timeout, duration)`` ends, the same for
    :class:`~openpuck.device.puck.Puck` and :class:`~openpuck.device.aio.AsyncPuck`:
    once ``duration`` s have passed, or ``timeout`` s without an event other
    than a status or config (:data:`HEARTBEATS`)."""

    def __init__(self, timeout: float | None, duration: float | None) -> None:
        self.timeout = validate.timeout("events: timeout", timeout)
        duration = validate.timeout("events: duration", duration)
        now = time.monotonic()
        self._end = None if duration is None else now + duration
        self._quiet_end = None if self.timeout is None else now + self.timeout

    def wait(self) -> float | None:
        """How long to wait for the next event: None = no limit, 0 or less = the
        iteration is over."""
        deadlines = [d for d in (self._end, self._quiet_end) if d is not None]
        return None if not deadlines else min(deadlines) - time.monotonic()

    def saw(self, event: Any) -> None:
        """``event`` came: news (anything but a heartbeat) restarts the quiet timeout."""
        if self.timeout is not None and event.kind not in HEARTBEATS:
            self._quiet_end = time.monotonic() + self.timeout
