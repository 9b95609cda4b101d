"""The per-run summary: what QA reads first in reports/hil-<timestamp>/.

Tests record figures with the ``hil_figures`` fixture; each figure travels
as a user property of the test's report (``hil:<name>``), so it also lands
in the JUnit XML and crosses from pytest-xdist workers to the controller
unchanged. The controller gathers them with the outcomes and writes
``summary.md`` (for people) and ``summary.json`` (for dashboards).
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "hil:"
PUCK_KEY = PREFIX + "puck"
DEVICE_KEY = PREFIX + "device"
TARGET_KEY = PREFIX + "target"
WANTS_PUCK_KEY = PREFIX + "wants_puck"   # a puck test that found no puck configured
NO_PUCK = "(no puck)"   # the suite's self-tests
#: the exit status of a run that tested no puck: none given, or the one given unreachable
NO_PUCK_EXIT = 3


@dataclass
class Outcome:
    nodeid: str
    puck: str
    outcome: str          # passed | failed | skipped | error | xfailed | xpassed
    duration: float
    message: str = ""


@dataclass
class RunSummary:
    """Collects outcomes, figures and device descriptions across workers."""

    started: float = field(default_factory=time.time)
    command: str = ""
    outcomes: list[Outcome] = field(default_factory=list)
    figures: dict[str, dict[str, dict]] = field(default_factory=lambda: defaultdict(dict))
    devices: dict[str, dict] = field(default_factory=dict)
    targets: dict[str, dict] = field(default_factory=dict)
    #: puck name -> why it could not be reached (the run stopped there)
    unreachable: dict[str, str] = field(default_factory=dict)
    #: puck tests that ran with no puck configured (each skipped)
    wanted_puck: int = 0

    def add_report(self, report) -> None:
        """Take one pytest TestReport (setup, call or teardown phase)."""
        props = dict(report.user_properties)
        puck = props.get(PUCK_KEY, NO_PUCK)
        if WANTS_PUCK_KEY in props and report.when == "setup":
            self.wanted_puck += 1
        for k, v in report.user_properties:
            if not k.startswith(PREFIX) or k in (PUCK_KEY, WANTS_PUCK_KEY):
                continue
            if k == DEVICE_KEY:
                self.devices[puck] = json.loads(v)
            elif k == TARGET_KEY:
                self.targets[puck] = json.loads(v)
            else:
                self.figures[puck][k[len(PREFIX):]] = {**json.loads(v), "test": report.nodeid}
        outcome = None
        if report.when == "call":
            outcome = report.outcome
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
        elif report.failed:
            outcome = "error"
        elif report.skipped and report.when == "setup":
            outcome = "skipped"
        if outcome is None:
            return
        msg = ""
        if outcome in ("xfailed", "xpassed"):
            msg = str(report.wasxfail)
        elif outcome == "skipped" and isinstance(report.longrepr, tuple):
            msg = str(report.longrepr[2]).removeprefix("Skipped: ")
        elif outcome in ("failed", "error"):
            crash = getattr(report.longrepr, "reprcrash", None)
            msg = crash.message if crash is not None else str(report.longrepr)
            msg = msg.strip().splitlines()[0] if msg.strip() else ""
        self.outcomes.append(Outcome(report.nodeid, puck, outcome, report.duration, msg))

    # --- writing ------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        c: dict[str, int] = defaultdict(int)
        for o in self.outcomes:
            c[o.outcome] += 1
        return dict(c)

    def puck_tested(self) -> bool:
        """True when at least one test ran (passed or not) against a puck."""
        return any(o.puck != NO_PUCK and o.outcome != "skipped" for o in self.outcomes)

    def no_puck(self) -> str | None:
        """Why the run tested no puck although it was meant to, else None: the
        puck it was given could not be reached, no puck was given to its puck
        tests, or pucks were given and not one test ran on them."""
        if self.unreachable:
            return "; ".join(f"{self._spec(p)}: {why}" for p, why in sorted(self.unreachable.items()))
        if self.puck_tested():
            return None
        if self.wanted_puck:
            return (f"{self.wanted_puck} puck tests skipped: no puck given "
                    "(--puck=sim|serial:PORT|ble:ADDRESS, --rig=FILE, or $OPENPUCK_HIL_PUCK)")
        if self.targets:
            return "no test ran on " + ", ".join(self._spec(p) for p in sorted(self.targets))
        return None

    def _spec(self, puck: str) -> str:
        spec = self.targets.get(puck, {}).get("spec")
        return f"{puck} ({spec})" if spec and spec != puck else puck

    def verdict(self) -> str:
        """UNREACHABLE, NO PUCK TESTED, FAIL or PASS: the first word of the report."""
        if self.unreachable:
            return "UNREACHABLE"
        if self.no_puck():
            return "NO PUCK TESTED"
        c = self.counts()
        return "FAIL" if c.get("failed") or c.get("error") else "PASS"

    def as_dict(self) -> dict:
        return {"started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.started)),
                "duration_s": round(time.time() - self.started, 1),
                "verdict": self.verdict(), "no_puck": self.no_puck(),
                "unreachable": dict(self.unreachable),
                "command": self.command, "counts": self.counts(),
                "targets": self.targets, "devices": self.devices,
                "figures": {p: dict(f) for p, f in self.figures.items()},
                "outcomes": [o.__dict__ for o in self.outcomes]}

    def write(self, folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        js = folder / "summary.json"
        js.write_text(json.dumps(self.as_dict(), indent=1, default=str) + "\n")
        md = folder / "summary.md"
        md.write_text(self.markdown())
        return md, js

    def markdown(self) -> str:
        d = self.as_dict()
        c = d["counts"]
        lines = [f"# OpenPuck HIL run {d['started']}: {d['verdict']}", ""]
        if d["no_puck"]:
            lines += [f"**{d['verdict']}**: {d['no_puck']}. This run tested no puck: it is not a pass.", ""]
        lines += [f"- command: `{self.command}`",
                  f"- duration: {d['duration_s']} s",
                  "- results: " + (", ".join(f"{n} {k}" for k, n in sorted(c.items())) or "none"), ""]
        pucks = sorted(set(self.targets) | set(self.devices) | {o.puck for o in self.outcomes}
                       - {NO_PUCK})
        lines += ["## Pucks", "",
                  "| puck | target | rig file | board | firmware | serial | capabilities |",
                  "|---|---|---|---|---|---|---|"]
        for p in pucks:
            t, dev = self.targets.get(p, {}), self.devices.get(p, {})
            fw = dev.get("firmware", "?")
            if t.get("expected_firmware") and t["expected_firmware"] != fw:
                fw += f" (rig expects {t['expected_firmware']})"
            lines.append(f"| {p} | `{t.get('spec', '?')}` | {t.get('rig_file') or '-'} | "
                         f"{dev.get('board', '?')} | {fw} | {dev.get('serial', '?')} | "
                         f"{', '.join(dev.get('capabilities', [])) or '?'} |")
        lines += ["", "## Results per puck", "",
                  "| puck | passed | failed | errors | skipped | xfailed |",
                  "|---|---|---|---|---|---|"]
        by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for o in self.outcomes:
            by[o.puck][o.outcome] += 1
        for p in sorted(by):
            b = by[p]
            lines.append(f"| {p} | {b['passed']} | {b['failed']} | {b['error']} | "
                         f"{b['skipped']} | {b['xfailed']} |")
        if self.figures:
            lines += ["", "## Figures", "", "| puck | figure | value | conditions |",
                      "|---|---|---|---|"]
            for p in sorted(self.figures):
                for name, fig in sorted(self.figures[p].items()):
                    lines.append(f"| {p} | {name} | {_fmt(fig)} | {fig.get('note', '')} |")
        bad = [o for o in self.outcomes if o.outcome in ("failed", "error")]
        if bad:
            lines += ["", "## Failures", ""]
            lines += [f"- **{o.nodeid}** [{o.puck}]: {o.message}" for o in bad]
        known = [o for o in self.outcomes if o.outcome in ("xfailed", "xpassed")]
        if known:
            lines += ["", "## Known gaps (xfail: expected to fail until fixed; xpassed: fixed)", ""]
            lines += [f"- {o.outcome}: {o.nodeid} [{o.puck}]: {o.message}" for o in known]
        skipped = [o for o in self.outcomes if o.outcome == "skipped"]
        if skipped:
            lines += ["", "## Skipped (what the target lacks)", ""]
            lines += [f"- {o.nodeid} [{o.puck}]: {o.message}" for o in skipped]
        return "\n".join(lines) + "\n"


def _fmt(fig: dict) -> str:
    v, unit = fig.get("value"), fig.get("unit", "")
    if isinstance(v, dict):
        return ", ".join(f"{k} {_num(x)}" for k, x in v.items()) + (f" {unit}" if unit else "")
    return f"{_num(v)}{(' ' + unit) if unit else ''}"


def _num(x) -> str:
    if isinstance(x, float):
        return f"{x:.6g}" if abs(x) < 1e6 else f"{x:.0f}"
    return str(x)
