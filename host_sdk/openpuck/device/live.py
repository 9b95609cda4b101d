"""A live terminal view of a puck (rich): values, reps, grips, rate, loss.

    with openpuck.connect("sim:") as puck:
        puck.start()
        LiveView(puck).run(seconds=30)

Needs rich (``pip install openpuck[live]``, or ``pip install ".[live]"`` in a checkout). :meth:`LiveView.render` returns
the renderable, so it can be drawn into any rich Console (tests do).
"""
from __future__ import annotations

import collections
import time
from typing import Any

from ..errors import OpenPuckError, needs
from .decoder import SampleBlock


def _rich():
    try:
        import rich  # noqa: F401
    except ImportError:
        raise OpenPuckError(needs("the live view", "rich", "live")) from None
    import rich.console
    import rich.live
    import rich.panel
    import rich.table
    return rich


class LiveView:
    """Collects what a puck says (through callbacks) and draws it."""

    def __init__(self, puck: Any, title: str | None = None) -> None:
        self.puck = puck
        self.title = title or puck.url
        #: (t, accel, gyro, force) of the newest sample
        self.last: tuple[float, list[float], list[float], float] | None = None
        self.reps: list = []
        self.partials = 0
        self.grips: list = []
        self.gaps = 0
        self.uncertain = 0
        self.target: Any = None           #: the puck's latest Target event
        self.log: collections.deque = collections.deque(maxlen=5)
        self._rate_win: collections.deque = collections.deque()
        self.started = time.monotonic()
        puck.on("samples", self._samples)
        puck.on("*", self._event)

    # -- callbacks (reader thread) ----------------------------------------------
    def _samples(self, b: SampleBlock) -> None:
        if len(b):
            self.last = (float(b.t[-1]), b.accel[-1].tolist(), b.gyro[-1].tolist(), float(b.force[-1]))
            now = time.monotonic()
            self._rate_win.append((now, len(b), float(b.t[0]), float(b.t[-1])))
            while self._rate_win and now - self._rate_win[0][0] > 2.0:
                self._rate_win.popleft()

    def _event(self, ev: Any) -> None:
        k = ev.kind
        if ev.uncertain and k != "gap":
            self.uncertain += 1
        if k == "rep":
            self.reps.append(ev)
        elif k == "partial_rep":
            self.partials += 1
        elif k == "grip":
            self.grips.append(ev)
        elif k == "target":
            self.target = ev
        elif k == "gap":
            self.gaps += 1
            from .events import format_event
            self.log.append(format_event(ev).strip())
        elif k == "log":
            self.log.append(f"{ev.level}: {ev.text}")

    @property
    def rate_hz(self) -> float:
        """The puck's sample rate, by its own clock, over the last 2 s: what it
        was set to, whatever the speed the samples arrive at (a virtual puck at
        speed 2 sends 200 Hz of its time in half the time)."""
        w = list(self._rate_win)
        if not w:
            return 0.0
        n = sum(x[1] for x in w) - 1
        span = w[-1][3] - w[0][2]
        return n / span if span > 0 and n > 0 else 0.0

    @property
    def arrival_hz(self) -> float:
        """Samples a second arriving here, by the host's clock, over the last 2 s."""
        w = list(self._rate_win)
        if len(w) < 2:
            return 0.0
        span = w[-1][0] - w[0][0]
        return sum(x[1] for x in w[1:]) / span if span > 0 else 0.0

    # -- drawing ------------------------------------------------------------------
    def render(self) -> Any:
        rich = _rich()
        Table, Panel = rich.table.Table, rich.panel.Panel
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold cyan", justify="right")
        grid.add_column()
        p = self.puck
        state = "[green]connected" if p.connected else "[red]reconnecting"
        info = p.info
        if info is not None:
            grid.add_row("puck", f"{info.board} {info.serial}  fw {info.firmware}  {state}")
        else:
            grid.add_row("puck", state)
        if self.last is not None:
            t, a, g, f = self.last
            grid.add_row("accel", "  ".join(f"{v:+6.3f}" for v in a) + " g")
            grid.add_row("gyro", "  ".join(f"{v:+8.2f}" for v in g) + " dps")
            bar = "█" * int(min(40, max(0, f) / max(1e-9, self._force_scale()) * 40))
            grid.add_row("force", f"{f:6.2f} N  [magenta]{bar}")
            grid.add_row("time", f"{t:.3f} s (device)")
        else:
            grid.add_row("samples", "[dim]waiting...")
        if self.reps:
            r = self.reps[-1]
            flag = " [yellow](uncertain)" if r.uncertain else ""
            grid.add_row("reps", f"[bold green]{len(self.reps)}[/]   last {r.amplitude:.1f} {r.unit}"
                                 f" in {r.duration:.2f} s{flag}")
        else:
            grid.add_row("reps", "[bold]0")
        grid.add_row("partial", str(self.partials))
        tg = self.target
        if tg is not None:
            grid.add_row("target", f"{tg.value:.1f} {tg.unit} ({tg.source})" if tg.value is not None
                         else "[dim]being learned from the first reps")
        if self.grips:
            gr = self.grips[-1]
            grid.add_row("grips", f"{len(self.grips)}   last {gr.peak_force:.1f} N, hold {gr.hold_s:.2f} s")
        else:
            grid.add_row("grips", "0")
        c = p.counters
        loss = (f"{c.get('lost_frames', 0)} frames lost, {c.get('samples_missing', 0)} samples missing, "
                f"{c.get('crc_errors', 0) + c.get('cobs_errors', 0)} damaged, {self.gaps} gaps, "
                f"{self.uncertain} uncertain")
        rate, arriving = self.rate_hz, self.arrival_hz
        extra = (f"  [dim](arriving at {arriving:.1f} Hz)" if arriving and abs(arriving - rate) > 0.05 * rate
                 else "")
        grid.add_row("rate", f"{rate:6.1f} Hz by the puck's clock{extra}")
        grid.add_row("loss", loss)
        st = p.status
        if st is not None:
            batt = f"{st.battery_pct}% ({st.battery_v:.2f} V)" if st.battery_v else "USB power"
            grid.add_row("battery", batt)
        if p.clock.synced:
            grid.add_row("clock", f"RTT {p.clock.rtt * 1e3:.1f} ms")
        for line in self.log:
            grid.add_row("", f"[dim]{line}")
        return Panel(grid, title=f"OpenPuck  {self.title}", subtitle="Ctrl-C to stop",
                     border_style="blue")

    def _force_scale(self) -> float:
        info = self.puck.info
        peak = max([g.peak_force for g in self.grips[-5:]] + [1.0])
        return max(peak * 1.2, 5.0) if info is None else max(peak * 1.2, 5.0)

    def run(self, seconds: float | None = None, console: Any = None, until: Any = None) -> None:
        """Draw until ``seconds`` pass (the host's), ``until`` (a threading.Event,
        e.g. set when the puck's time reaches a span) is set, the puck closes, or Ctrl-C."""
        rich = _rich()
        end = None if seconds is None else time.monotonic() + seconds
        with rich.live.Live(self.render(), console=console, refresh_per_second=8,
                            transient=False) as live:
            while end is None or time.monotonic() < end:
                if self.puck.wait_closed(0.125) or (until is not None and until.is_set()):
                    break
                live.update(self.render())
            live.update(self.render())
