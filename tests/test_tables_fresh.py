"""Generated files match their sources (run `make tables` after editing one):
the codec tables match protocol/*.toml, c_core/crc32_table.h matches the CRC
polynomial of tools/gen_crc_constants.py."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("generator", ["gen_tables.py", "gen_crc_constants.py"])
def test_generated_files_are_fresh(generator):
    r = subprocess.run([sys.executable, str(ROOT / "tools" / generator), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_a_detector_number_is_written_once_and_reaches_the_c_and_the_twin(tmp_path, monkeypatch):
    """protocol/detector.toml is the one place: a changed constant, default or
    limit changes c_core/op_detect_params.h and the twin's generated block,
    and `gen_tables.py --check` calls both stale."""
    sys.path.insert(0, str(ROOT / "tools"))
    import gen_tables
    src = (ROOT / "protocol" / "detector.toml").read_text()
    for old, new, c_text, twin_text in (
            ('turn_pct = { value = 35,', 'turn_pct = { value = 36,', "#define TURN_PCT (36)", "_TURN_PCT = const(36)"),
            ("hyst_pct = 5\n", "hyst_pct = 6\n", "X(hyst_pct, 6)", "('hyst_pct', 6),"),
            ("still_mdps = [100, 15000]", "still_mdps = [100, 16000]", "X(still_mdps, 100, 16000)",
             "('still_mdps', 100, 16000),")):
        assert old in src
        edited = tmp_path / "detector.toml"
        edited.write_text(src.replace(old, new))
        monkeypatch.setattr(gen_tables, "DETECTOR", edited)
        out = gen_tables.outputs()
        c_h, twin = out[gen_tables.PARAMS_OUT], out[gen_tables.TWIN_OUT]
        assert c_text in c_h and twin_text in twin, new
        assert c_h != gen_tables.PARAMS_OUT.read_text() and twin != gen_tables.TWIN_OUT.read_text()
        # only the generated block of the twin changes
        assert twin.split(gen_tables.TWIN_BEGIN)[0] == gen_tables.TWIN_OUT.read_text().split(gen_tables.TWIN_BEGIN)[0]


def test_an_exercise_with_a_signal_the_detector_does_not_compute_is_refused(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "tools"))
    import gen_tables
    edited = tmp_path / "exercises.toml"
    edited.write_text((ROOT / "protocol" / "exercises.toml").read_text().replace(
        'signal = "rotation"', 'signal = "tilt"', 1))
    monkeypatch.setattr(gen_tables, "EXERCISES", edited)
    with pytest.raises(SystemExit, match="does not compute"):
        gen_tables.outputs()
