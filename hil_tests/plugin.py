"""The suite's pytest plugin: options, the puck fixtures, needs, reports.

Loaded by hil_tests/conftest.py. Everything a test needs from a puck goes
through the SDK's public API (``import openpuck``); this module only decides
*which* puck, opens it, and writes the reports.
"""
from __future__ import annotations

import json
import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from openpuck.errors import OpenPuckError

from . import report as rpt
from .targets import NEEDS, RigError, Target, resolve

__all__ = [  # what conftest.py takes: every hook and fixture, underscores included
    "pytest_addoption", "pytest_configure", "pytest_configure_node", "pytest_generate_tests",
    "pytest_runtest_logreport", "pytest_runtest_setup", "pytest_sessionstart", "pytest_sessionfinish",
    "pytest_terminal_summary", "hil_settings", "hil_target", "hil_figures", "_hil_needs",
    "hil", "puck",
]

ENV_PUCK = "OPENPUCK_HIL_PUCK"
ENV_RIG = "OPENPUCK_HIL_RIG"

_summary_key = pytest.StashKey[rpt.RunSummary]()
_targets_key = pytest.StashKey[list]()
_dir_key = pytest.StashKey[Path]()


# --------------------------------------------------------------------- options
def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("openpuck-hil", "OpenPuck hardware-in-the-loop suite")
    g.addoption("--puck", action="append", default=[], metavar="SPEC",
                help="the puck under test: sim[:RECORDING.csv] | serial:/dev/ttyACM0 | "
                     "ble:ADDRESS | RIG.toml. Give it several times (with -n N --dist each) "
                     f"for several pucks. Default: ${ENV_PUCK} (comma-separated).")
    g.addoption("--rig", action="append", default=[], metavar="FILE|DIR",
                help="a rig file (TOML: port, board, expected firmware, capabilities) or a "
                     f"directory of them (one puck each). Default: ${ENV_RIG}.")
    g.addoption("--hil-short", action="store_true", default=False,
                help="the short run of CI and `make test` (under two minutes on the sim)")
    g.addoption("--hil-duration", type=float, default=None, metavar="SECONDS",
                help="streaming integrity run length in device seconds "
                     "(default 60 with --hil-short, else 600); also the streaming under faults "
                     "(default 60 with --hil-short, else 300)")
    g.addoption("--hil-report-dir", default=None, metavar="DIR",
                help="where the run's report goes (default reports/hil-<timestamp>/); "
                     "--junitxml defaults to DIR/junit.xml")


@dataclass(frozen=True)
class Settings:
    """How long and how hard each check runs."""

    short: bool
    stream_s: float          # streaming integrity, device seconds
    rates: tuple[int, ...]   # rates whose integrity is checked
    pings: int               # ping round trips for latency percentiles
    fault_s: float           # device seconds of streaming under faults


def _settings(config: pytest.Config) -> Settings:
    short = config.getoption("--hil-short")
    dur = config.getoption("--hil-duration")
    if dur is not None and dur <= 0:
        raise pytest.UsageError("--hil-duration must be positive")
    return Settings(short=short,
                    stream_s=dur if dur is not None else (60.0 if short else 600.0),
                    rates=(200,) if short else (25, 50, 100, 200),
                    pings=100 if short else 500,
                    fault_s=dur if dur is not None else (60.0 if short else 300.0))


def _specs_from_env(name: str) -> list[str]:
    return [s.strip() for s in os.environ.get(name, "").split(",") if s.strip()]


# ------------------------------------------------------------------ configure
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs(*what): the test needs these of the target; skipped with the "
        "reason when it lacks one. Known: " + "; ".join(f"{k} = {v}" for k, v in NEEDS.items()))
    config.addinivalue_line("markers", "selftest: tests of the suite's own tools (no puck)")
    config.addinivalue_line("markers", "destructive: reboots, resets or cuts the link")
    specs = config.getoption("--puck") or _specs_from_env(ENV_PUCK)
    rigs = config.getoption("--rig") or _specs_from_env(ENV_RIG)
    try:
        targets = resolve(specs, rigs)
    except RigError as e:
        raise pytest.UsageError(str(e)) from None
    config.stash[_targets_key] = targets
    worker = getattr(config, "workerinput", None)
    if worker is not None:
        config.stash[_dir_key] = Path(worker["hil_report_dir"])
        return
    # the controller (or a run without xdist): the report folder and JUnit default
    folder = config.getoption("--hil-report-dir")
    if folder is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder = config.rootpath / "reports" / f"hil-{stamp}"
    folder = Path(folder)
    config.stash[_dir_key] = folder
    if getattr(config.option, "xmlpath", None) is None and not config.getoption("collectonly"):
        config.option.xmlpath = str(folder / "junit.xml")
    summary = rpt.RunSummary(command=" ".join(["pytest"] + [shlex.quote(a) for a in
                                                            config.invocation_params.args]))
    for t in targets:
        summary.targets[t.name] = t.describe()
    config.stash[_summary_key] = summary
    _check_xdist(config, targets)


def _check_xdist(config: pytest.Config, targets: list[Target]) -> None:
    n = getattr(config.option, "numprocesses", None)
    if not n or n == "auto" or config.getoption("dist", "no") == "no":
        return
    real = [t for t in targets if not t.is_emulated]
    if len(targets) > 1:
        if config.getoption("dist") != "each":
            raise pytest.UsageError(
                f"{len(targets)} pucks: run one xdist worker per puck with "
                f"-n {len(targets)} --dist each (every worker runs the whole suite on its puck)")
        if int(n) != len(targets):
            raise pytest.UsageError(f"{len(targets)} pucks need -n {len(targets)} (one worker "
                                    f"per puck), not -n {n}")
    elif real and config.getoption("dist") != "each":
        raise pytest.UsageError(f"one real puck ({real[0].spec()}) cannot be shared by {n} "
                                "workers; drop -n, or give one --puck per worker with --dist each")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # xdist hook (controller side)
    node.workerinput["hil_report_dir"] = str(node.config.stash[_dir_key])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``stream_rate``: the rates the run checks. Several pucks without xdist:
    every test runs on each, one after the other."""
    if "stream_rate" in metafunc.fixturenames:
        rates = _settings(metafunc.config).rates
        metafunc.parametrize("stream_rate", rates, ids=[f"{r}hz" for r in rates])
    if "hil_target" not in metafunc.fixturenames:
        return
    targets = metafunc.config.stash[_targets_key]
    if len(targets) > 1 and not hasattr(metafunc.config, "workerinput"):
        metafunc.parametrize("hil_target", targets, ids=[t.name for t in targets],
                             indirect=True, scope="session")


# ------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def hil_settings(pytestconfig: pytest.Config) -> Settings:
    return _settings(pytestconfig)


@pytest.fixture(scope="session")
def hil_target(request: pytest.FixtureRequest) -> Target:
    """The puck this session (or this xdist worker) tests."""
    targets: list[Target] = request.config.stash[_targets_key]
    if hasattr(request, "param"):
        return request.param
    if not targets:
        pytest.skip(f"no puck configured: give --puck=sim|serial:PORT|ble:ADDRESS, --rig=FILE, "
                    f"or set {ENV_PUCK}")
    worker = getattr(request.config, "workerinput", None)
    if worker is not None and len(targets) > 1:
        return targets[int(worker["workerid"].removeprefix("gw")) % len(targets)]
    return targets[0]


class Figures:
    """Records a figure for the run summary (and the JUnit XML)."""

    def __init__(self, request: pytest.FixtureRequest, target: Target) -> None:
        self._props = request.node.user_properties
        self._target = target

    def __call__(self, name: str, value, unit: str = "", note: str = "") -> None:
        if isinstance(value, dict):
            value = {k: _plain(v) for k, v in value.items()}
        else:
            value = _plain(value)
        self._props.append((rpt.PREFIX + name,
                            json.dumps({"value": value, "unit": unit, "note": note})))


def _plain(v):
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float):
        return round(v, 6)
    return v


@pytest.fixture
def hil_figures(request: pytest.FixtureRequest, hil_target: Target) -> Figures:
    return Figures(request, hil_target)


@pytest.fixture(autouse=True)
def _hil_needs(request: pytest.FixtureRequest):
    """Skip (never fail) a test whose needs the target lacks; tag its report
    with the puck's name and, once a test has talked to it, what it is."""
    marks = list(request.node.iter_markers("needs"))
    if "hil_target" not in request.fixturenames and not marks:
        yield
        return
    target: Target = request.getfixturevalue("hil_target")
    props = request.node.user_properties
    props.append((rpt.PUCK_KEY, target.name))
    props.append((rpt.TARGET_KEY, json.dumps(target.describe())))
    for m in marks:
        for need in m.args:
            why = target.lacks(need)
            if why:
                pytest.skip(why)
    rig = request.getfixturevalue("hil")
    yield
    if rig.device:
        props.append((rpt.DEVICE_KEY, json.dumps(rig.device)))


@pytest.fixture(scope="session")
def hil(hil_target: Target, hil_settings: Settings, request: pytest.FixtureRequest):
    """Opens pucks of the target for tests (see :class:`hil_tests.rig.Rig`)."""
    from .rig import Rig

    rig = Rig(hil_target, hil_settings)
    # Reach the puck once before any test: an unplugged or wrong port is one
    # line at the start, not the same traceback in every test.
    try:
        with rig.open():
            pass
    except (OpenPuckError, OSError) as e:
        rig.close()
        summary = request.config.stash.get(_summary_key, None)
        if summary is not None:
            summary.unreachable[hil_target.name] = str(e)
        pytest.exit(f"hil: cannot reach the puck {hil_target.name!r} ({hil_target.spec()}): {e} "
                    "(check --puck / --rig, the cable, and that no other program holds the port)",
                    returncode=rpt.NO_PUCK_EXIT)
    yield rig
    rig.close()


@pytest.fixture
def puck(hil, request: pytest.FixtureRequest):
    """A connected puck (real time, the default scenario on the sim), closed after."""
    with hil.open() as session:
        yield session.puck


# -------------------------------------------------------------------- reports
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tag a puck test that has no puck to run on, before its fixtures skip it
    (the session-scoped hil_target is set up before any function fixture)."""
    if item.config.stash[_targets_key]:
        return
    if "hil_target" in getattr(item, "fixturenames", ()) or any(item.iter_markers("needs")):
        item.user_properties.append((rpt.WANTS_PUCK_KEY, "1"))


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    cfg = _CONFIG.get("config")
    if cfg is None or hasattr(cfg, "workerinput"):
        return
    cfg.stash[_summary_key].add_report(report)


_CONFIG: dict = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config


def _wants_report(summary: rpt.RunSummary) -> bool:
    return bool(summary.outcomes or summary.unreachable or summary.targets)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    cfg = session.config
    if hasattr(cfg, "workerinput") or _summary_key not in cfg.stash:
        return
    summary = cfg.stash[_summary_key]
    if not _wants_report(summary):
        return
    summary.write(cfg.stash[_dir_key])
    why = summary.no_puck()
    if why is None:
        return
    # a run that tested no puck never passes, whatever its self-tests did
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = rpt.NO_PUCK_EXIT
    if exitstatus not in _SUMMARY_EXITS:   # pytest_terminal_summary will not run: say it here
        tr = cfg.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            _print_verdict(tr, summary, cfg)


#: the exit statuses after which pytest calls pytest_terminal_summary
_SUMMARY_EXITS = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED,
                  pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED)


def _print_verdict(tr, summary: rpt.RunSummary, config: pytest.Config) -> None:
    tr.section("OpenPuck HIL summary")
    why = summary.no_puck()
    if why:
        tr.write_line(f"{summary.verdict()}: {why}", red=True, bold=True)
    for p, figs in sorted(summary.figures.items()):
        for name, fig in sorted(figs.items()):
            tr.write_line(f"{p:>10}  {name:<28} {rpt._fmt(fig)}")
    tr.write_line(f"report: {config.stash[_dir_key] / 'summary.md'} (JUnit XML: {config.option.xmlpath})")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or _summary_key not in config.stash:
        return
    summary = config.stash[_summary_key]
    if not _wants_report(summary) and not summary.wanted_puck:
        return
    _print_verdict(terminalreporter, summary, config)
