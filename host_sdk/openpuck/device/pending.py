"""The commands sent to a puck and still waiting for their answer.

A command is answered by an ack or a nack naming its type and seq; some also
wait for a reply message (get_info for device_info, ping for the pong that
echoes its time, get_config for config...). :class:`PendingCommands` matches
each message from the puck to the command it answers; the reader thread
calls :meth:`~PendingCommands.resolve`, the thread that sent the command
waits in :meth:`PendingCommand.wait`. When the link is lost every command
still waiting fails at once (:meth:`~PendingCommands.fail_all`).
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from .. import protocol
from ..errors import OpenPuckError
from ..protocol import NackError, label

#: a test a reply must pass to answer a command (e.g. the pong of this ping)
Match = Callable[[protocol.Message], bool]


class CommandError(OpenPuckError):
    """The puck refused a command (nack)."""

    def __init__(self, command: str, code: int, detail: int = 0, hint: str = "") -> None:
        self.command, self.code, self.detail, self.hint = command, code, detail, hint
        self.error = label(NackError, code, f"error {code}")
        extra = f", field {detail}" if detail else ""
        super().__init__(f"{command}: refused by the puck: {self.error} (code {code}{extra})"
                         + (f": {hint}" if hint else ""))


class CommandTimeout(OpenPuckError):
    """The puck did not answer a command in time."""


class PendingCommand:
    """One command sent and waiting: for its ack, and for the reply
    ``expect`` (a message name) that passes ``match``, if it wants one."""

    __slots__ = ("name", "type_id", "seq", "expect", "match", "reply", "error", "acked", "_done")

    def __init__(self, name: str, seq: int, expect: str | None = None,
                 match: Match | None = None) -> None:
        spec = protocol.SPECS.get(name)
        if spec is None:
            raise OpenPuckError(f"unknown command {name!r} (one of {', '.join(protocol.NAMES)})")
        if expect is not None and expect not in protocol.SPECS:
            raise OpenPuckError(f"{name}: unknown reply message {expect!r}")
        self.name, self.seq, self.expect, self.match = name, seq, expect, match
        self.type_id = spec.id
        self.reply: protocol.Message | None = None
        self.error: BaseException | None = None
        self.acked = False
        self._done = threading.Event()

    def __repr__(self) -> str:
        state = ("failed" if self.error is not None else "answered") if self.done else "waiting"
        return f"<PendingCommand {self.name} seq={self.seq} {state}>"

    @property
    def done(self) -> bool:
        """Answered (acked and replied to, or nacked) or failed."""
        return self._done.is_set()

    def wait(self, timeout: float | None) -> protocol.Message | None:
        """The reply (None for a command the ack alone answers), once it came.

        Raises :class:`CommandError` on a nack, :class:`CommandTimeout` when
        nothing answered within ``timeout`` s, or the error it failed with
        (see :meth:`PendingCommands.fail_all`).
        """
        if not self._done.wait(timeout):
            if self.acked:
                raise CommandTimeout(f"{self.name}: the puck acked but sent no {self.expect} "
                                     f"within {timeout:g} s")
            raise CommandTimeout(f"{self.name}: no answer from the puck within {timeout:g} s")
        if self.error is not None:
            raise self.error
        return self.reply

    def _finish(self, error: BaseException | None = None) -> None:
        self.error = error
        self._done.set()


class PendingCommands:
    """The table of commands waiting for an answer; safe to use from two threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[PendingCommand] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._waiting)

    def register(self, name: str, seq: int, expect: str | None = None,
                 match: Match | None = None) -> PendingCommand:
        """Note command ``name`` sent with ``seq`` (register it before
        sending, so that an early answer is not missed)."""
        p = PendingCommand(name, seq, expect, match)
        with self._lock:
            self._waiting.append(p)
        return p

    def discard(self, p: PendingCommand) -> None:
        """Stop tracking ``p`` (answered, timed out or given up)."""
        with self._lock:
            if p in self._waiting:
                self._waiting.remove(p)

    def resolve(self, m: protocol.Message) -> PendingCommand | None:
        """Give message ``m`` from the puck to the command it answers, oldest
        first; returns that command, or None when ``m`` answers none.

        An ack or nack answers the command of its ``cmd_type`` and
        ``cmd_seq``; a nack fails it with :class:`CommandError`. A command
        that expects a reply is done when the reply comes (the ack may come
        before or after it); a reply goes to the oldest waiting command that
        expects its type and whose ``match`` it passes.
        """
        with self._lock:
            waiting = list(self._waiting)
        for p in waiting:
            if p.done:
                continue
            if m.type in ("ack", "nack"):
                if m["cmd_type"] != p.type_id or m["cmd_seq"] != p.seq:
                    continue
                if m.type == "nack":
                    p._finish(CommandError(p.name, m["error"], m["detail"]))
                else:
                    p.acked = True
                    if p.expect is None or p.reply is not None:
                        p._finish()
                return p
            if p.expect == m.type and (p.match is None or p.match(m)):
                p.reply = m
                p._finish()
                return p
        return None

    def fail_all(self, error: BaseException) -> None:
        """Fail every command still waiting with ``error`` (the link is lost)."""
        with self._lock:
            waiting = list(self._waiting)
        for p in waiting:
            if not p.done:
                p._finish(error)
