"""Each board file declares its name, architecture, platform and parts; the
tools read them there (tools/board_files.py), never from a table of their own."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import board_files  # noqa: E402
import build_firmware  # noqa: E402
import flash  # noqa: E402
import natmod  # noqa: E402


def test_every_board_file_declares_its_facts() -> None:
    found = board_files.boards()
    assert {"pico_w", "esp32s3_devkit", "sim"} <= set(found)
    assert found["pico_w"].arch == "armv6m" and found["pico_w"].platform == "rp2"
    assert found["esp32s3_devkit"].arch == "xtensawin" and found["esp32s3_devkit"].platform == "esp32"
    assert "hx711" in found["esp32s3_devkit"].parts and "fsr" in found["pico_w"].parts
    assert found["sim"].parts == found["pico_w"].parts   # the virtual puck is a Pico W puck


def test_flash_and_natmod_read_the_board_files() -> None:
    found = board_files.boards()
    assert set(flash.BOARDS) == {n for n, b in found.items() if b.flashable} == {"pico_w", "esp32s3_devkit"}
    assert natmod.BOARD_ARCH == {n: b.arch for n, b in found.items()}
    assert not hasattr(flash, "BOARD_ARCH")


def test_every_board_architecture_is_one_the_tools_build() -> None:
    for name, b in board_files.boards().items():
        assert b.arch in natmod.ARCHES, name
        assert b.arch in build_firmware.ARCHES, name


def test_a_real_board_imports_no_other_board_file() -> None:
    for name, b in flash.BOARDS.items():
        assert b.imports == (), f"{name} imports {b.imports}: shared wiring goes in openpuck_fw/board.py"


def test_a_board_file_missing_a_fact_is_named(tmp_path: Path) -> None:
    (tmp_path / "half.py").write_text('NAME = "half"\nARCH = "armv6m"\n')
    with pytest.raises(board_files.BoardFileError, match=r"half\.py.*PLATFORM, PARTS missing"):
        board_files.boards(tmp_path)


def test_a_board_files_name_is_its_file_name(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text('NAME = "theirs"\nARCH = "x64"\nPLATFORM = "linux"\nPARTS = ()\n')
    with pytest.raises(board_files.BoardFileError, match="NAME is 'theirs'"):
        board_files.boards(tmp_path)


def test_a_helper_module_is_no_board(tmp_path: Path) -> None:
    (tmp_path / "sim_helper.py").write_text("X = 1\n")
    assert board_files.boards(tmp_path) == {}
