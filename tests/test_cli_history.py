"""`openpuck history` and `openpuck report`: the history read back as tables,
as JSON for scripts and as the report; every mistake a one-line error that
says what to do."""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections import defaultdict

import pytest

from openpuck.cli import build_parser, main
from openpuck.clinic import browser
from tests import synthetic_history as synth
from tests.toolchain import need_tool


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("history") / "history.sqlite3"
    return path, synth.build(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cells(row: str) -> list[str]:
    """A table row's cells: columns are two or more spaces apart ("13 min" is one cell)."""
    return re.split(r"\s{2,}", row.strip())


def section(out: str, title: str) -> list[str]:
    """The lines of a text section, its header line first, up to the blank line after it."""
    lines = out.splitlines()
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def expected_daily(written) -> dict[tuple[str, str], tuple[int, int]]:
    """(day, exercise) -> (reps, partial reps), from what was written."""
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for s in synth.of(written, "anna"):
        out[(s.day.isoformat(), s.exercise)][0] += len(s.reps)
        out[(s.day.isoformat(), s.exercise)][1] += len(s.partials)
    return {k: (r, p) for k, (r, p) in out.items()}


# --- openpuck history ---

def test_without_a_patient_it_lists_the_patients(db, capsys):
    path, _ = db
    code, out, _ = run(capsys, "history", "--db", str(path))
    assert code == 0
    rows = section(out, f"database: {path}")
    assert rows[0].split() == ["patient", "sessions", "first", "day", "last", "day"]
    assert rows[1].split() == ["anna", "12", "2025-03-03", "2025-03-16"]
    assert rows[2].split() == ["ben", "1", "2025-03-05", "2025-03-05"]
    code, out, _ = run(capsys, "history", "--db", str(path), "--json")
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["database"] == str(path)
    assert [p["patient"] for p in doc["patients"]] == ["anna", "ben"]
    assert doc["patients"][0] == {"patient": "anna", "sessions": 12, "first_day": "2025-03-03",
                                  "last_day": "2025-03-16"}


def test_a_patient_gets_a_row_per_day_and_exercise_with_what_was_written(db, capsys):
    path, written = db
    code, out, _ = run(capsys, "history", "--db", str(path), "--patient", "anna")
    assert code == 0
    assert out.splitlines()[0] == ("anna: 12 sessions from 2025-03-03 to 2025-03-16, practised on 10 of 14 days; "
                                   "534 reps, 96 partial (85% success)")
    head, *rows = section(out, "per day and exercise")
    assert head.split() == ["day", "exercise", "sets", "reps", "partial", "success", "mean", "best", "reps/min",
                            "tension"]
    got = {(c[0], c[1]): (int(c[3]), int(c[4])) for c in map(cells, rows)}
    assert got == expected_daily(written)
    grip_first = next(r for r in rows if r.startswith("2025-03-03  grip_squeeze"))
    assert "20.2 N" in grip_first                           # mean of 18.0..20.8 and 19.0..21.8 N, with the unit
    wrist_first = next(r for r in rows if r.startswith("2025-03-03  wrist_flexion"))
    assert "32.2°" in wrist_first                           # degrees as °


def test_every_session_is_listed_and_the_one_cut_short_says_so(db, capsys):
    path, written = db
    _, out, _ = run(capsys, "history", "--db", str(path), "--patient", "anna")
    head, *rows = section(out, "sessions")
    assert head.split()[:4] == ["id", "date", "start", "length"]
    assert len(rows) == 12
    table = [cells(r) for r in rows]
    for sid, _, _, _, sets, reps, partials, _, source, programme in table:
        written_sets = [s for s in written if s.session == int(sid)]
        assert (int(sets), int(reps), int(partials)) == (len(written_sets), sum(len(s.reps) for s in written_sets),
                                                         sum(len(s.partials) for s in written_sets))
        assert (source, programme) == ("live", "Hand and arm")
    assert [c[1:4] for c in table if c[3] == "not ended"] == [["2025-03-16", "10:00", "not ended"]]
    assert [c[1:3] for c in table] == sorted(c[1:3] for c in table)     # oldest first


def test_personal_bests_carry_their_unit_and_day(db, capsys):
    path, written = db
    _, out, _ = run(capsys, "history", "--db", str(path), "--patient", "anna")
    head, *rows = section(out, "personal bests")
    best = {r.split()[0]: r for r in rows}
    assert set(best) == {"grip_squeeze", "wrist_flexion", "forearm_rotation"}
    top = max(a for s in synth.of(written, "anna", "wrist_flexion") for a in s.reps)
    assert f"{top:.1f}°" in best["wrist_flexion"] and "2025-03-16" in best["wrist_flexion"]
    assert "28.3 N" in best["grip_squeeze"]


def test_json_is_one_stable_object_with_the_same_numbers(db, capsys):
    path, written = db
    code, out, _ = run(capsys, "history", "--db", str(path), "--patient", "anna", "--json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["version", "database", "patient", "first_day", "last_day", "days_in_range",
                         "days_practised", "programmes", "totals", "exercises", "daily", "sessions"]
    assert doc["version"] == 1 and doc["patient"] == "anna" and doc["programmes"] == ["Hand and arm"]
    assert (doc["first_day"], doc["last_day"], doc["days_in_range"]) == ("2025-03-03", "2025-03-16", 14)
    assert doc["days_practised"] == [(synth.FIRST_DAY + dt.timedelta(days=k)).isoformat() for k in synth.PRACTISED]
    anna = synth.of(written, "anna")
    assert doc["totals"] == {"sessions": 12, "sets": len(anna), "reps": sum(len(s.reps) for s in anna),
                             "partial_reps": sum(len(s.partials) for s in anna),
                             "success_rate": round(534 / (534 + 96), 6)}
    assert {(d["day"], d["exercise"]): (d["reps"], d["partial_reps"]) for d in doc["daily"]} == expected_daily(written)
    assert set(doc["daily"][0]) == {"day", "exercise", "pucks", "mode", "name", "unit", "sets", "reps",
                                    "partial_reps", "success_rate", "mean_amplitude", "best_amplitude",
                                    "reps_per_minute", "time_under_tension_s"}
    assert {(d["name"], tuple(d["pucks"]), d["mode"]) for d in doc["daily"]} == {
        (e, ("right_hand",), None) for e in ("grip_squeeze", "wrist_flexion", "forearm_rotation")}
    grip = next(e for e in doc["exercises"] if e["exercise"] == "grip_squeeze")
    assert grip["unit"] == "N" and grip["personal_best"]["amplitude"] == 28.3
    assert grip["personal_best"]["day"] == "2025-03-16"
    assert dt.datetime.fromisoformat(grip["personal_best"]["at"]).tzinfo is not None   # times carry their offset
    cut = [s for s in doc["sessions"] if s["ended_at"] is None]
    assert len(cut) == 1 and cut[0]["started_at"].startswith("2025-03-16T10:00:00")
    assert doc["database"] == str(path)


def test_the_data_folder_is_where_it_looks_without_db(db, capsys, monkeypatch):
    path, _ = db
    monkeypatch.setenv("OPENPUCK_DATA_DIR", str(path.parent))
    code, out, _ = run(capsys, "history", "--patient", "ben")
    assert code == 0 and out.startswith("ben: 1 session from 2025-03-05 to 2025-03-05")
    code, out, _ = run(capsys, "history", "--db", str(path.parent), "--patient", "ben", "--json")   # a folder
    assert code == 0 and json.loads(out)["totals"]["reps"] == 3


# --- errors: one line, what is wrong and what to do ---

def test_an_unknown_patient_is_refused_naming_the_known_ones(db, capsys):
    path, _ = db
    for command in ("history", "report"):
        code, out, err = run(capsys, command, "--db", str(path), "--patient", "ana")
        assert code == 2 and out == ""
        assert err.count("\n") == 1
        assert err.startswith(f"openpuck {command}: error: no patient 'ana' in {path}")
        assert "did you mean 'anna'?" in err and "patients: anna, ben" in err


def test_a_patient_name_that_cannot_be_stored_is_refused(db, capsys):
    path, _ = db
    code, _, err = run(capsys, "history", "--db", str(path), "--patient", "../anna")
    assert code == 2 and "patient '../anna' cannot name a folder" in err


def test_a_missing_database_says_where_it_looked_and_how_one_is_made(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENPUCK_DATA_DIR", str(tmp_path / "data"))
    for argv in (["history"], ["history", "--patient", "anna"], ["report", "--patient", "anna"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert f"no history database at {tmp_path / 'data' / 'history.sqlite3'} ($OPENPUCK_DATA_DIR)" in err
        assert "it is made when a patient runs the first session of a programme" in err
        assert "--db PATH" in err
    code, _, err = run(capsys, "history", "--db", str(tmp_path / "typo.sqlite3"))
    assert code == 2 and f"no history database at {tmp_path / 'typo.sqlite3'} (--db)" in err
    assert not (tmp_path / "data").exists() and not (tmp_path / "typo.sqlite3").exists()   # nothing created


def test_a_file_that_is_not_a_history_is_refused_in_one_line(tmp_path, capsys):
    other = tmp_path / "notes.sqlite3"
    other.write_text("shopping list\n" * 200)
    code, _, err = run(capsys, "history", "--db", str(other))
    assert code == 2 and err.count("\n") == 1 and str(other) in err
    con = sqlite3.connect(tmp_path / "newer.sqlite3")
    con.execute("PRAGMA user_version = 99")
    con.close()
    code, _, err = run(capsys, "history", "--db", str(tmp_path / "newer.sqlite3"))
    assert code == 2 and "written by a newer OpenPuck" in err


# --- openpuck report ---

def test_report_writes_the_page_and_says_what_is_in_it(db, capsys, tmp_path):
    path, _ = db
    out_file = tmp_path / "reports" / "anna.html"
    code, out, err = run(capsys, "report", "--db", str(path), "--patient", "anna", "-o", str(out_file),
                         "--title", "Anna, weeks 1-2")
    assert code == 0, err
    assert out.strip() == (f"{out_file}: anna, 12 sessions from 2025-03-03 to 2025-03-16, practised on 10 of "
                           f"14 days, 534 reps (85% success)")
    page = out_file.read_text(encoding="utf-8")
    assert "<title>Anna, weeks 1-2</title>" in page and 'id="summary"' in page


def test_report_names_its_file_after_the_patient_by_default(db, capsys, tmp_path, monkeypatch):
    path, _ = db
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "report", "--db", str(path), "--patient", "ben")
    assert code == 0 and (tmp_path / "ben-report.html").is_file() and out.startswith("ben-report.html: ben, ")


def test_report_wants_an_html_name(db, capsys, tmp_path):
    path, _ = db
    code, _, err = run(capsys, "report", "--db", str(path), "--patient", "anna", "-o", str(tmp_path / "a.pdf"))
    assert code == 2 and "give an .html name (--pdf writes a.pdf beside it)" in err
    assert not (tmp_path / "a.pdf").exists()


def test_report_pdf_without_chromium_says_so_and_keeps_the_page(db, capsys, tmp_path, monkeypatch):
    path, _ = db
    monkeypatch.setenv(browser.ENV_CHROMIUM, str(tmp_path / "none"))
    code, out, err = run(capsys, "report", "--db", str(path), "--patient", "anna", "-o", str(tmp_path / "a.html"),
                         "--pdf")
    assert code == 2
    assert (tmp_path / "a.html").is_file() and not (tmp_path / "a.pdf").exists()
    assert err.startswith(f"openpuck report: no PDF ({tmp_path / 'a.html'} is written; print it from a browser)")


def test_report_pdf_with_chromium(db, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(browser.ENV_CHROMIUM, need_tool("chromium", "chromium"))
    path, _ = db
    code, out, err = run(capsys, "report", "--db", str(path), "--patient", "ben", "-o", str(tmp_path / "b.html"),
                         "--pdf")
    assert code == 0, err
    assert out.splitlines()[-1] == f"{tmp_path / 'b.pdf'}: the same, printed for A4"
    assert (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF-")


# --- help ---

@pytest.mark.parametrize("command, example", [
    ("history", "openpuck history --patient anna --json"),
    ("report", "openpuck report --patient anna -o anna.html --pdf"),
])
def test_help_teaches_with_examples(command, example):
    parser = build_parser()
    sub = next(a for a in parser._subparsers._group_actions if a.dest == "command")   # noqa: SLF001
    text = sub.choices[command].format_help()
    assert "examples:" in text and example in text and "--db PATH" in text
    assert command in parser.format_help()


def test_a_reader_that_stops_early_is_no_error(db, tmp_path, monkeypatch, capsys):
    """`openpuck history --json | head`: head goes away; that is not our error."""
    path, _ = db

    class ClosedPipe:
        def __init__(self, fd: int) -> None:
            self.fd = fd

        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            pass

        def fileno(self) -> int:
            return self.fd

    with open(tmp_path / "stdout", "w") as f:
        monkeypatch.setattr("sys.stdout", ClosedPipe(f.fileno()))
        code = main(["history", "--db", str(path), "--patient", "anna", "--json"])
    assert code == 0
    assert capsys.readouterr().err == ""
