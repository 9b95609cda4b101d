"""The C detector inside MicroPython: opdetect.mpy for every architecture the
machine can build, and the user C module in a unix-port firmware, give the
host C core's events, field for field (tools/natmod.py, `make natmod`).

Needs the MicroPython v1.28.0 source (../shared/micropython, unpacked under
build/), gcc, and arm-none-eabi-gcc for the ARM .mpy files; each skips with
the reason where it is absent (a failure under OPENPUCK_REQUIRE_TOOLCHAIN=1)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from openpuck import _core, exercises
from tests.test_twin_parity import RUNNER, cases, micropython
from tests.toolchain import need_shared, need_tool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import m3_micropython  # noqa: E402
import natmod  # noqa: E402

TARBALL = ("micropython", "micropython-1.28.0.tar.gz")
# .mpy header: 'M', version 6, arch << 2 | sub-version (py/persistentcode.h)
MPY_ARCH = {"x64": 2, "armv6m": 4, "armv7m": 5, "armv7emsp": 7}


@pytest.fixture(scope="module")
def tree() -> Path:
    return natmod.unpack(need_shared(*TARBALL))


@pytest.fixture(scope="module")
def mpys(tree, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("natmod")
    built = {"x64": Path(natmod.build(tree, "x64", out=out)["path"])}
    if natmod.buildable("armv6m") is None or os.environ.get("OPENPUCK_REQUIRE_TOOLCHAIN", "") not in ("", "0"):
        need_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
        for arch in ("armv6m", "armv7m", "armv7emsp"):
            built[arch] = Path(natmod.build(tree, arch, out=out)["path"])
    return built


@pytest.fixture(scope="module")
def unix_c(tree) -> Path:
    """A unix-port micropython built from the tree with the user C module."""
    return natmod.build_unix(tree, ROOT / "build" / "unix-opdetect")


@pytest.mark.slow
@pytest.mark.toolchain
def test_every_architecture_builds_a_loadable_mpy_header(mpys):
    for arch, path in mpys.items():
        head = path.read_bytes()[:4]
        assert head[0:1] == b"M" and head[1] == 6, (arch, head)
        assert head[2] >> 2 == MPY_ARCH[arch], (arch, head)
        assert head[2] & 3 == 3, (arch, head)   # ABI 6.3: MicroPython v1.23 to v1.28
        assert 4_000 < path.stat().st_size < 16_000, (arch, path.stat().st_size)
    assert "x64" in mpys


def test_without_a_micropython_tree_make_natmod_says_how_to_get_one(capsys):
    assert natmod.main(["--micropython", ""]) == 2
    err = capsys.readouterr().err
    assert "v1.28.0" in err and "MICROPY_DIR=" in err
    assert natmod.main(["--micropython", str(ROOT)]) == 2
    assert "not a MicroPython source tree" in capsys.readouterr().err


def test_a_python_without_the_linker_packages_is_told_which_to_install(tmp_path):
    bare = tmp_path / "python-without-site-packages"
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    bare.chmod(0o755)
    with pytest.raises(natmod.NatmodError, match=r"lacks pyelftools, ar.*pip install pyelftools ar"):
        natmod.check_python(str(bare))
    natmod.check_python()   # the test venv has both (the firmware and test extras)


def _run(exe: list[str], csv: Path, exercise: str, target, tmp: Path, impl: list[str]) -> tuple[list, list, int]:
    cfg, rec, c_events = m3_micropython.host_events(csv, exercise, target, max_samples=None)
    rec.tofile(tmp)
    conf = ",".join(str(cfg[k]) for k in _core.CONFIG_FIELDS)
    r = subprocess.run(exe + [str(RUNNER), str(ROOT / "firmware"), str(tmp), conf, "--c",
                              str(exercises.get(exercise).id), *impl], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.strip().splitlines()
    return c_events, [tuple(int(x) for x in line.split(",")) for line in lines[:-1]], len(rec)


def _parity(exe: list[str], impl: list[str], tmp_path: Path) -> None:
    jobs = []
    for i, p in enumerate(cases()):
        csv, exercise, target = p.values
        truth = csv.with_name(csv.stem + ".truth.json")
        targets = [target] if target else ["auto"]
        if not target and truth.exists():
            import json
            tg = json.loads(truth.read_text()).get("target")
            if tg:
                targets.append(tg)
        for j, tg in enumerate(targets):
            jobs.append((csv, exercise, tg, tmp_path / f"r{i}-{j}.bin"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda a: (a[0].name, a[2], *_run(exe, *a, impl)), jobs))
    bad = [f"{n} target={tg}: C {len(c)} events, module {len(m)}; first difference "
           f"{next(((a, b) for a, b in zip(c, m) if a != b), None)}" for n, tg, c, m, _ in results if c != m]
    assert not bad, "\n".join(bad)
    events = sum(len(c) for _, _, c, _, _ in results)
    samples = sum(s for *_, s in results)
    assert events > 0
    print(f"\n{len(results)} runs, {samples} samples, {events} events, 0 mismatches")


@pytest.mark.slow
@pytest.mark.toolchain
def test_the_x64_mpy_in_the_pypi_unix_port_gives_the_c_core_events(mpys, tmp_path):
    _parity(micropython(), [str(mpys["x64"].parent)], tmp_path)


@pytest.mark.slow
@pytest.mark.toolchain
def test_the_user_c_module_gives_the_c_core_events(unix_c, tmp_path):
    r = subprocess.run([str(unix_c), "-c", "import opdetect; print(opdetect.make_detector(5))"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Detector" in r.stdout, r.stderr
    _parity([str(unix_c)], [], tmp_path)


@pytest.mark.slow
@pytest.mark.toolchain
def test_the_virtual_puck_runs_the_c_detector_from_the_mpy(mpys, monkeypatch):
    import openpuck
    monkeypatch.setenv("OPENPUCK_NATMOD_DIR", str(mpys["x64"].parent))
    with openpuck.connect("sim:?scenario=grip10&speed=max&detector=c") as puck:
        assert "c_detector" in puck.info.capabilities
        puck.start(exercise="grip_squeeze", target=20.0)
        reps = [e for e in _events(puck, 10)]
        assert len(reps) == 10


@pytest.mark.slow
@pytest.mark.toolchain
def test_an_mpy_for_another_architecture_falls_back_to_the_twin_and_says_why(mpys, tmp_path, monkeypatch):
    if "armv6m" not in mpys:
        pytest.skip("no armv6m .mpy (arm-none-eabi-gcc absent)")
    import openpuck
    from openpuck.device import sim
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "opdetect.mpy").write_bytes(mpys["armv6m"].read_bytes())
    monkeypatch.setenv("OPENPUCK_NATMOD_DIR", str(wrong))
    with sim.start(scenario="grip10", speed=float("inf"), detector="c") as vp:
        with openpuck.connect(f"serial:{vp.port}") as puck:
            assert "c_detector" not in puck.info.capabilities
            puck.start(exercise="grip_squeeze", target=20.0)
            assert len(list(_events(puck, 10))) == 10
        deadline = time.monotonic() + 5
        log = ""
        while time.monotonic() < deadline and "incompatible" not in log:
            log = Path(vp.log_path).read_text()
            time.sleep(0.1)
    assert "detector=twin (opdetect failed to load" in log and "incompatible .mpy arch" in log, log[-2000:]


def _events(puck, n):
    got = 0
    for e in puck.events(timeout=20):
        if e.kind == "rep":
            got += 1
            yield e
            if got == n:
                return
