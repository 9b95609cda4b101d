"""The reader thread of a :class:`~openpuck.device.puck.Puck`: bytes from the
transport into the session decoder, events to the callbacks and the queue,
answers to the waiting commands, periodic pings, and the session restored
after a lost link or a puck that restarted."""
from __future__ import annotations

import logging
import threading
import time

from .. import protocol
from ..offline.recording import IN
from .commands import Commands
from .reconnect import ReconnectPolicy, samples_expected, to_resend
from .transports import ConnectionLost, EndOfStream, TransportError

log = logging.getLogger("openpuck")

#: the send times of this many latest periodic pings are kept to pair with their pongs
_MAX_PINGS = 32


class Reader(Commands):
    """The reader thread's side of a puck (see :mod:`openpuck.device.puck`)."""

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
            for hook in list(self._closed_hooks):
                try:
                    hook()
                except Exception:  # noqa: BLE001 - the reader is ending anyway
                    log.exception("openpuck: closing hook %r raised", hook)

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
        self._mark_in_background()   # the puck may have restarted meanwhile: date its new boot
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
        self._mark_in_background()   # a new boot: its log records are dated only by a new mark

    def _mark_in_background(self) -> None:
        # as connect does (mark_time); a command waits for an answer only this thread delivers
        if self.mark_time_on_connect and not self.transport.readonly:
            threading.Thread(target=self._mark_time_on_connect, daemon=True, name="openpuck-mark-time").start()
