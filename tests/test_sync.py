"""`openpuck sync`: the home history's outbox sent to a real clinic server on
localhost (SQLite and PostgreSQL behind it): everything once, the same
figures on both sides, offline then caught up, a cut sync repeated, the
programme fetched."""
from __future__ import annotations

import sqlite3

import pytest

from openpuck.cli import main
from openpuck.clinic.history import History
from openpuck.device.events import Rep
from tests import clinic_setup, synthetic_history


@pytest.fixture
def clinic(clinic_url):
    clinics = clinic_setup.make(clinic_url)
    server = clinic_setup.LiveServer(clinic_url)
    yield server, clinics
    server.stop()


def server_sets(server, patient_id: int) -> list[dict]:
    from openpuck.server import db as dbmod
    from openpuck.server.views import sets_of
    with dbmod.sessions(server.engine)() as db:
        return sets_of(db, patient_id)


def server_event_count(server) -> int:
    from sqlalchemy import func, select

    from openpuck.server import db as dbmod
    from openpuck.server.models import Event
    with dbmod.sessions(server.engine)() as db:
        return db.scalar(select(func.count()).select_from(Event))


def outbox(path) -> int:
    return sqlite3.connect(path).execute("SELECT count(*) FROM outbox").fetchone()[0]


def test_a_sync_sends_the_patients_history_once_with_the_same_figures(clinic, tmp_path):
    from openpuck.clinic import sync
    server, c = clinic
    path = tmp_path / "history.sqlite3"
    written = synthetic_history.build(path)
    cfg = sync.ClinicConfig(server.address, c.anna_token)
    with History(path) as h:
        first = sync.sync(h, cfg, batch=100)
        again = sync.sync(h, cfg)
        home = {(s.session_id, s.set_index, s.exercise): s for sid in [x.id for x in h.sessions("anna")]
                for s in h.sets(sid)}
    anna = synthetic_history.of(written, "anna")
    attempts = sum(len(w.reps) + len(w.partials) for w in anna)
    assert first.new_events == attempts and again.sent == again.new_events == 0
    assert first.others_left == again.others_left > 0          # ben's: this token is anna's
    on_server = server_sets(server, c.north_patient)
    assert len(on_server) == len(anna) == len(home)
    assert sum(s["reps"] for s in on_server) == sum(len(w.reps) for w in anna)    # cut short: its stored reps
    for s in on_server:
        mine = home[(s["session"], s["set_index"], s["exercise"])]
        assert (s["target"], s["started_at"], s["ended_at"]) == (mine.target, mine.started_at, mine.ended_at)
        if mine.ended_at is not None:
            assert [s[f] for f in ("reps", "partial_reps", "mean_amplitude", "best_amplitude",
                                   "time_under_tension_s", "active_s")] == \
                [getattr(mine.figures, f) for f in ("reps", "partial_reps", "mean_amplitude", "best_amplitude",
                                                    "time_under_tension_s", "active_s")]


def test_offline_nothing_leaves_the_outbox_and_the_next_sync_catches_up(clinic, tmp_path):
    from openpuck.clinic import sync
    server, c = clinic
    path = tmp_path / "history.sqlite3"
    synthetic_history.build(path)
    queued = outbox(path)
    closed = sync.ClinicConfig("http://127.0.0.1:9", c.anna_token)   # the discard port: nothing listens
    with History(path) as h:
        with pytest.raises(sync.SyncError, match=r"cannot reach the clinic server http://127.0.0.1:9 .*nothing is "
                                                 r"lost"):
            sync.sync(h, closed)
        assert outbox(path) == queued
        caught_up = sync.sync(h, sync.ClinicConfig(server.address, c.anna_token))
    assert caught_up.sent > 0 and outbox(path) == caught_up.others_left


def test_a_sync_cut_after_the_server_stored_a_batch_and_repeated_stores_each_rep_once(clinic, tmp_path,
                                                                                         monkeypatch):
    from openpuck.clinic import sync
    server, c = clinic
    path = tmp_path / "history.sqlite3"
    written = synthetic_history.build(path)
    real_call = sync._call
    uploads = []

    def answer_lost_on_the_third_upload(cfg, method, where, body=None, timeout_s=60.0):
        answer = real_call(cfg, method, where, body, timeout_s)       # the server has stored it...
        if where == "/api/v1/upload":
            uploads.append(where)
            if len(uploads) == 3:
                raise sync.SyncError("the link went down")              # ...and the home never hears so
        return answer
    cfg = sync.ClinicConfig(server.address, c.anna_token)
    with History(path) as h:
        monkeypatch.setattr(sync, "_call", answer_lost_on_the_third_upload)
        with pytest.raises(sync.SyncError, match="the link went down"):
            sync.sync(h, cfg, batch=40)
        monkeypatch.setattr(sync, "_call", real_call)
        sync.sync(h, cfg, batch=40)
    anna = synthetic_history.of(written, "anna")
    assert server_event_count(server) == sum(len(w.reps) + len(w.partials) for w in anna)


def test_a_set_that_ends_after_a_sync_is_brought_up_to_date_at_the_next(clinic, tmp_path):
    from openpuck.clinic import sync
    server, c = clinic
    cfg = sync.ClinicConfig(server.address, c.anna_token)
    with History(tmp_path / "history.sqlite3") as h:
        s = h.start_set(h.start_session("anna", "Hand and arm", 1.7e9), "grip_squeeze", 1, 20.0, "N", ["right_hand"],
                        started_at=1.7e9 + 5)
        h.add_event(s, Rep(t=1.0, exercise="grip_squeeze", count=1, t_start=0.0, t_peak=0.5, t_end=1.0,
                           amplitude=24.0, unit="N"), "right_hand")
        sync.sync(h, cfg)
        [open_set] = server_sets(server, c.north_patient)
        h.add_event(s, Rep(t=4.0, exercise="grip_squeeze", count=2, t_start=3.0, t_peak=3.5, t_end=4.0,
                           amplitude=26.0, unit="N"), "right_hand")
        h.end_set(s, 1.7e9 + 60)
        assert sync.sync(h, cfg).new_events == 1
    [ended] = server_sets(server, c.north_patient)
    assert (open_set["ended_at"], open_set["reps"], open_set["best_amplitude"]) == (None, 1, None)
    assert (ended["ended_at"], ended["reps"], ended["best_amplitude"]) == (1.7e9 + 60, 2, 26.0)


def test_the_cli_keeps_the_settings_fetches_the_programme_and_says_a_revoked_token(clinic, tmp_path, capsys,
                                                                                     monkeypatch):
    from openpuck.server import db as dbmod
    from openpuck.server import store
    server, c = clinic
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "config"))
    db = tmp_path / "history.sqlite3"
    synthetic_history.build(db)
    with dbmod.sessions(server.engine)() as s, s.begin():
        from openpuck.server.models import Patient
        store.assign_programme(s, s.get(Patient, c.north_patient), clinic_setup.PROGRAMME)
    token = tmp_path / "token.txt"
    token.write_text(c.anna_token + "\n")
    assert main(["sync", "--db", str(db), "--server", server.address, "--token-file", str(token)]) == 0
    out = capsys.readouterr().out
    assert "anna: sent " in out and "of other patients stay here: this computer's token is anna's" in out
    assert (tmp_path / "clinic_programme.toml").read_text() == clinic_setup.PROGRAMME
    assert "programme version 1 from the clinic" in out
    assert ((tmp_path / "config" / "clinic.json").stat().st_mode & 0o777) == 0o600
    assert main(["sync", "--db", str(db)]) == 0                    # the kept settings
    assert "anna: sent 0 records" in capsys.readouterr().out
    with dbmod.sessions(server.engine)() as s, s.begin():
        store.revoke_installation(s, c.anna_installation)
    assert main(["sync", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "refused this computer's token" in err and "ask the clinic for a new one" in err


def test_after_the_clinic_restores_an_older_backup_sync_all_fills_in_what_it_lost(clinic, tmp_path, monkeypatch,
                                                                                  capsys):
    from sqlalchemy import delete

    from openpuck.server import db as dbmod
    from openpuck.server.models import Event
    server, c = clinic
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "config"))
    db = tmp_path / "history.sqlite3"
    written = synthetic_history.build(db)
    token = tmp_path / "token.txt"
    token.write_text(c.anna_token)
    assert main(["sync", "--db", str(db), "--server", server.address, "--token-file", str(token)]) == 0
    with dbmod.sessions(server.engine)() as s, s.begin():
        s.execute(delete(Event).where(Event.local_id > 50))      # what the restored backup lacks
    assert main(["sync", "--db", str(db), "--all"]) == 0
    assert " queued again" in capsys.readouterr().out
    assert server_event_count(server) == sum(len(w.reps) + len(w.partials)
                                             for w in synthetic_history.of(written, "anna"))


ONE_SET = """
name = "Grip"
[[exercise]]
name = "grip_squeeze"
puck = "right_hand"
sets = 1
reps = 2
rest_s = 0
target = 15
"""


def test_a_programme_run_sends_its_session_when_a_clinic_is_configured(clinic, tmp_path, monkeypatch, capsys,
                                                                       need_micropython):
    from openpuck.clinic import sync
    server, c = clinic
    monkeypatch.setenv("OPENPUCK_CONFIG_DIR", str(tmp_path / "config"))
    programme = tmp_path / "p.toml"
    programme.write_text(ONE_SET)
    db = tmp_path / "data" / "history.sqlite3"
    run = ["programme", "run", str(programme), "--puck", "sim:?scenario=patient&speed=max", "--patient", "anna",
           "--db", str(db), "--rest-scale", "0", "--plain"]
    sync.save_config("http://127.0.0.1:9", c.anna_token)          # offline: the session is kept for later
    assert main(run) == 0
    assert "clinic: not sent now (cannot reach the clinic server" in capsys.readouterr().out
    assert server_event_count(server) == 0
    sync.save_config(server.address, c.anna_token)
    assert main(run) == 0
    assert "clinic: sent " in capsys.readouterr().out
    with History(db) as h:
        home = sum(len(h.events(s.id)) for session in h.sessions("anna") for s in h.sets(session.id))
    assert server_event_count(server) == home > 0 and outbox(db) == 0


def test_a_server_that_dies_in_the_middle_of_its_answer_is_a_clear_error_and_nothing_is_lost(tmp_path):
    import socket
    import threading

    from openpuck.clinic import sync
    path = tmp_path / "history.sqlite3"
    synthetic_history.build(path)
    listener = socket.create_server(("127.0.0.1", 0))

    def half_an_answer() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 400\r\n\r\n{\"stored\": ")

    threading.Thread(target=half_an_answer, daemon=True).start()
    cfg = sync.ClinicConfig(f"http://127.0.0.1:{listener.getsockname()[1]}", "token")
    try:
        with History(path) as h:
            queued = outbox(path)
            with pytest.raises(sync.SyncError, match="cannot reach the clinic server .*nothing is lost"):
                sync.sync(h, cfg, batch=5)
    finally:
        listener.close()
    assert outbox(path) == queued > 0
