"""The reconnect policy: how long to wait between attempts to reopen a lost
link, when to give up, and what to send the puck once it is back.

Waits start at 0.1 s and double up to 5 s; the Puck gives up when the next
wait would end past ``reconnect_timeout`` s after the loss (None: never).
Once the link is back (or the puck restarted on a live link), the session it
was streaming is started again: set_exercise, then start, with what
:meth:`Puck.start <openpuck.Puck.start>` sent.

Nothing here touches a transport or a thread: the Puck's reader thread asks.
"""
from __future__ import annotations

from dataclasses import dataclass

from .events import Status, exercise_name

FIRST_WAIT_S = 0.1
MAX_WAIT_S = 5.0


@dataclass(frozen=True)
class ReconnectPolicy:
    """Backoff between reopen attempts and the deadline of an outage."""

    timeout: float | None = 60.0      #: s after the loss to give up; None = never
    first_wait: float = FIRST_WAIT_S
    max_wait: float = MAX_WAIT_S

    def __post_init__(self) -> None:
        if not 0 < self.first_wait <= self.max_wait:
            raise ValueError(f"waits must be 0 < first_wait <= max_wait, got "
                             f"{self.first_wait!r} and {self.max_wait!r}")

    def outage(self, lost_at: float) -> Outage:
        """The attempts of one outage that began at ``lost_at`` (time.monotonic() s)."""
        return Outage(self, lost_at)


class Outage:
    """One outage: the waits between its attempts and its deadline."""

    def __init__(self, policy: ReconnectPolicy, lost_at: float) -> None:
        self.policy = policy
        self.deadline = None if policy.timeout is None else lost_at + policy.timeout
        self._next = policy.first_wait

    def wait_after_failure(self, now: float) -> float | None:
        """An attempt failed at ``now``: how long to wait before the next one,
        or None to give up (that wait would end past the deadline)."""
        wait = self._next
        if self.deadline is not None and now + wait > self.deadline:
            return None
        self._next = min(wait * 2, self.policy.max_wait)
        return wait


@dataclass(frozen=True)
class StreamSettings:
    """What :meth:`Puck.start <openpuck.Puck.start>` sent, in wire values; sent
    again after a reconnect or a puck reset."""

    exercise: int | None   #: exercise id of the catalogue; None: the puck's own (Puck.watch)
    target: int        #: milli-units of the exercise (mN, millidegrees); 0 = auto
    on_pct: int
    off_pct: int
    rate_hz: int
    channels: int      #: bit set of enums.channel

    def commands(self) -> list[tuple[str, dict[str, int]]]:
        """The commands that start this session on a puck, in order: (name, fields).
        Without an exercise (a watch), start alone: the puck keeps its own."""
        start = ("start", {"rate_hz": self.rate_hz, "channels": self.channels})
        if self.exercise is None:
            return [start]
        return [("set_exercise", {"exercise": self.exercise, "target": self.target,
                                  "on_pct": self.on_pct, "off_pct": self.off_pct}), start]


def samples_expected(streaming: bool, readonly: bool) -> bool:
    """Whether samples will come once the link is back (and end its Gap): when
    the puck was streaming, and always on a replay, which plays regardless."""
    return streaming or readonly


def to_resend(streaming: bool, settings: StreamSettings | None,
              readonly: bool) -> StreamSettings | None:
    """The session to start again once the link (or a restarted puck) is back:
    the one that was streaming. None when nothing was, and on a replay (it
    cannot be sent to)."""
    if streaming and settings is not None and not readonly:
        return settings
    return None


def still_streaming(status: Status | None, settings: StreamSettings) -> bool:
    """After a suspected puck reset: True when the puck says it still streams
    the exercise of ``settings`` (a false alarm: leave it be)."""
    return (status is not None and status.streaming
            and (settings.exercise is None or status.exercise == exercise_name(settings.exercise)))
