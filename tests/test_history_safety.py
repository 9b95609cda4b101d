"""The home programme's data is private, and survives what goes wrong around
it (issue 20): the data folder is the user's only, a full disk or a failing
database is told by its first cause with the file named and leaves nothing
half-open, a damaged database is refused before anything is written to it
and moved aside only when asked, and one patient runs one session at a time."""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path

import pytest

import openpuck
from openpuck.cli import main
from openpuck.clinic import history, programme, programme_file
from openpuck.clinic.history import History, HistoryError
from openpuck.device.events import Rep
from openpuck.offline import recording

PATIENT = "sim:?scenario=patient&speed=max"

TWO_SETS = """
name = "Grip"
[[exercise]]
name = "grip_squeeze"
puck = "right_hand"
sets = 2
reps = 2
rest_s = 0
target = 15
"""


@pytest.fixture
def umask_022():
    """The usual umask, whatever the test runner's: files would be 0644 by default."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def rep(i: int, amplitude: float = 20.0) -> Rep:
    return Rep(t=i + 1.0, uncertain=False, host_time=None, t_start=float(i), t_end=i + 0.5,
               exercise="grip_squeeze", count=i + 1, t_peak=i + 0.2, amplitude=amplitude, unit="N", hold_s=None)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


# ------------------------------------------------------------------ 7: private
def test_the_data_folder_and_the_database_are_the_users_only(tmp_path, monkeypatch, umask_022):
    data = tmp_path / "data"
    monkeypatch.setenv("OPENPUCK_DATA_DIR", str(data))
    with History() as h:
        s = h.start_session("anna", "P")
        st = h.start_set(s, "grip_squeeze", 1, 20.0, "N", "right_hand")
        h.add_event(st, rep(0), "right_hand")
        files = [h.path, h.path.with_name(h.path.name + "-wal"), h.path.with_name(h.path.name + "-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        folders = [data, *[p for p in data.rglob("*") if p.is_dir()]]
        assert data / "recordings" / "anna" / str(s) in folders
        assert {str(d): mode(d) for d in folders} == {str(d): 0o700 for d in folders}


def test_an_existing_data_folder_and_database_are_tightened_when_opened(tmp_path, monkeypatch, umask_022):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    monkeypatch.setenv("OPENPUCK_DATA_DIR", str(data))
    History().close()
    db = data / "history.sqlite3"
    os.chmod(data, 0o755)
    os.chmod(db, 0o644)
    History().close()
    assert mode(data) == 0o700 and mode(db) == 0o600


def test_a_folder_the_user_named_keeps_its_mode_but_the_files_are_private(tmp_path, umask_022):
    shared = tmp_path / "clinic"
    shared.mkdir(mode=0o750)
    os.chmod(shared, 0o750)
    History(shared / "history.sqlite3").close()
    assert mode(shared) == 0o750 and mode(shared / "history.sqlite3") == 0o600


def test_a_private_recording_is_0600_even_over_an_older_file(tmp_path, umask_022):
    older = tmp_path / "1.opr"
    older.write_bytes(b"x")
    os.chmod(older, 0o644)
    recording.Recorder(older, overwrite=True, private=True).close()
    recording.Recorder(tmp_path / "2.opr", private=True).close()
    recording.Recorder(tmp_path / "mine.opr").close()
    assert mode(older) == 0o600 and mode(tmp_path / "2.opr") == 0o600
    assert mode(tmp_path / "mine.opr") == 0o644, "a recording the user names keeps the umask"


def test_a_programme_writes_every_file_and_folder_for_the_user_only(tmp_path, monkeypatch, umask_022,
                                                                      need_micropython):
    data = tmp_path / "data"
    monkeypatch.setenv("OPENPUCK_DATA_DIR", str(data))
    with openpuck.connect(PATIENT) as puck, History() as h:
        programme.run(programme_file.loads(TWO_SETS), {"right_hand": puck}, "anna", h, rest_scale=0)
    everything = [data, *data.rglob("*")]
    assert len([p for p in everything if p.suffix == ".opr"]) == 2
    assert {str(p): mode(p) for p in everything} == {
        str(p): 0o700 if p.is_dir() else 0o600 for p in everything}


def test_reports_are_the_users_only_named_or_not(tmp_path, monkeypatch, capsys, umask_022):
    db = tmp_path / "h.sqlite3"
    with History(db) as h:
        s = h.start_session("anna", "P")
        st = h.start_set(s, "grip_squeeze", 1, 20.0, "N", "right_hand")
        h.add_event(st, rep(0), "right_hand")
    named = tmp_path / "out" / "anna.html"
    assert main(["report", "--patient", "anna", "--db", str(db), "-o", str(named)]) == 0
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--patient", "anna", "--db", str(db)]) == 0
    assert mode(named) == 0o600 and mode(tmp_path / "anna-report.html") == 0o600


# ------------------------------------------------------------- 8: a full disk
class _FullDisk:
    """open() as recording.py calls it, on a disk that fills up after ``room`` files:
    the file is made, its first write fails as a full disk's does."""

    def __init__(self, room: int = 0) -> None:
        self.room, self.opened = room, []

    def __call__(self, path, *args, **kwargs):
        f = open(path, *args, **kwargs)
        self.opened.append(Path(path))
        if len(self.opened) > self.room:
            def full(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            f.write = full
        return f


def test_a_recording_on_a_full_disk_names_the_file_and_leaves_none(tmp_path, monkeypatch):
    monkeypatch.setattr(recording, "open", _FullDisk(), raising=False)
    path = tmp_path / "set.opr"
    with pytest.raises(recording.RecordingError, match=rf"^{path}: cannot write its header "
                                                       r"\(No space left on device\): free some space"):
        recording.Recorder(path)
    assert not path.exists(), "no empty .opr is left behind"


def test_a_full_disk_between_sets_ends_the_set_and_the_session_cleanly(tmp_path, monkeypatch, capsys,
                                                                       need_micropython):
    full = _FullDisk(room=1)    # the first set's recording fits, the second's does not
    monkeypatch.setattr(recording, "open", full, raising=False)
    f = tmp_path / "p.toml"
    f.write_text(TWO_SETS)
    db = tmp_path / "data" / "history.sqlite3"
    assert main(["programme", "run", str(f), "--puck", PATIENT, "--patient", "anna", "--db", str(db),
                 "--rest-scale", "0", "--json"]) == 2
    second = full.opened[1]
    line = one_error_line(capsys)
    assert f"set 2 of grip_squeeze cannot be recorded, so the session stops here: {second}: " in line
    assert "No space left on device" in line
    assert not second.exists() and full.opened[0].stat().st_size > 0
    with History(db) as h:
        (session,) = h.sessions("anna")
        sets = h.sets(session.id)
    assert session.ended_at is not None
    assert [(s.set_index, s.ended_at is not None, s.reps) for s in sets] == [(1, True, 2), (2, True, 0)]


# ------------------------------------------- 9: the first error, not the cleanup's
def test_when_the_history_fails_mid_set_the_first_error_is_told(tmp_path, monkeypatch, capsys, need_micropython):
    def no_rep(self, set_id, event, role):
        raise HistoryError(f"{self.path}: could not record a {event.kind} of set {set_id}: disk I/O error")

    def no_end(self, session_id, ended_at=None):
        raise HistoryError(f"{self.path}: could not end session {session_id}: disk I/O error")

    monkeypatch.setattr(History, "add_event", no_rep)
    monkeypatch.setattr(History, "end_session", no_end)
    f = tmp_path / "p.toml"
    f.write_text(TWO_SETS)
    assert main(["programme", "run", str(f), "--puck", PATIENT, "--patient", "anna",
                 "--db", str(tmp_path / "h.sqlite3"), "--rest-scale", "0", "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "Traceback" not in "".join(err), err
    assert "error: " in err[0] and "could not record a grip of set 1" in err[0]
    assert "then, cleaning up: " in err[1] and "could not end session 1" in err[1]


# ---------------------------------------------------- 10: a damaged database
def _damaged(tmp_path: Path) -> Path:
    """A history whose event table has a page overwritten: the session table still reads."""
    db = tmp_path / "history.sqlite3"
    with History(db) as h:
        s = h.start_session("anna", "P")
        st = h.start_set(s, "grip_squeeze", 1, 20.0, "N", "right_hand")
        for i in range(400):
            h.add_event(st, rep(i, 20.0 + i % 7), "right_hand")
        h._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # the event table's fullest leaf page (other tables' pages, the outbox's since schema 3,
        # sit between them; a mostly empty page's middle is free space that no check reads)
        fullest = h._db.execute("SELECT pageno FROM dbstat WHERE name = 'event' AND pagetype = 'leaf' "
                                "ORDER BY unused, pageno LIMIT 1").fetchone()[0]
    data = bytearray(db.read_bytes())
    page = 4096
    at = (fullest - 1) * page
    data[at + 100:at + 400] = b"\xff" * 300
    db.write_bytes(bytes(data))
    return db


def test_a_damaged_database_is_refused_before_anything_is_written(tmp_path):
    db = _damaged(tmp_path)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(history.DamagedHistory, match=rf"^{db}: damaged \(On tree page .*\); nothing was written "
                                             rf"to it\. `openpuck history --repair --db {db}` moves it aside"):
        History(db)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_the_commands_refuse_a_damaged_database_in_one_line_offering_the_repair(tmp_path, capsys):
    db = _damaged(tmp_path)
    assert main(["history", "--db", str(db)]) == 2
    assert "damaged" in (line := one_error_line(capsys)) and "openpuck history --repair" in line


def test_repair_moves_a_damaged_database_aside_and_starts_a_new_one(tmp_path, capsys):
    db = _damaged(tmp_path)
    damaged = db.read_bytes()
    assert main(["history", "--repair", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    (aside,) = tmp_path.glob("history.sqlite3.damaged-*[0-9]")
    assert f"{db} was damaged (On tree page" in out and f"moved it to {aside}" in out
    assert f"started a new, empty history at {db}" in out and f"sqlite3 {aside} .recover" in out
    assert aside.read_bytes() == damaged, "the damaged file is kept whole"
    with History(db) as h:
        assert h.patients() == []


def test_repair_leaves_a_sound_database_alone(tmp_path, capsys):
    db = tmp_path / "history.sqlite3"
    with History(db) as h:
        h.start_session("anna", "P")
    assert main(["history", "--repair", "--db", str(db)]) == 0
    assert "passes SQLite's check: nothing to repair" in capsys.readouterr().out
    assert list(tmp_path.glob("*.damaged-*")) == []
    with History(db) as h:
        assert h.patients() == ["anna"]


def test_set_aside_moves_the_write_ahead_log_with_the_database(tmp_path):
    db = tmp_path / "history.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").write_bytes(suffix.encode() or b"db")
    aside = history.set_aside(db)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(aside.name + s for s in ("", "-wal", "-shm"))
    assert Path(f"{aside}-wal").read_bytes() == b"-wal"


# ------------------------------------------------- 11: one session per patient
def test_one_session_per_patient_at_a_time(tmp_path, capsys, need_micropython):
    db = tmp_path / "history.sqlite3"
    f = tmp_path / "p.toml"
    f.write_text(TWO_SETS)
    argv = ["programme", "run", str(f), "--puck", PATIENT, "--patient", "anna", "--db", str(db),
            "--rest-scale", "0", "--json"]
    with History(db) as h, h.session_lock("anna", what="a test"):
        assert main(argv) == 2
        line = one_error_line(capsys)
        assert f"anna has a session running already (pid {os.getpid()}, a test, since " in line
        assert "one session per patient at a time" in line
        with History(db) as other:
            assert other.sessions("anna") == [], "the refused run wrote nothing"
            with other.session_lock("ben"):
                pass                    # another patient is not held up
    assert main(argv) == 0, "the lock goes with the session that held it"
    capsys.readouterr()


def test_the_lock_is_refused_by_the_runner_too(tmp_path, need_micropython):
    with History(tmp_path / "h.sqlite3") as h, h.session_lock("anna"):
        with pytest.raises(history.SessionRunning, match=rf"pid {os.getpid()}"):
            programme.run(programme_file.loads(TWO_SETS), {"right_hand": object()}, "anna", h)
