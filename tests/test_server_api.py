"""The clinic server's API, on SQLite and on a real PostgreSQL (tests/postgres.py):
idempotent uploads, who may see what, tokens and passwords, the programme a
home downloads, and logs without patient data."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from tests import clinic_setup

pytestmark = pytest.mark.usefixtures("clinic_url")


@pytest.fixture
def api(clinic_url):
    from fastapi.testclient import TestClient

    from openpuck.server import db as dbmod
    from openpuck.server.api import create_app
    clinics = clinic_setup.make(clinic_url)
    eng = dbmod.engine(clinic_url)
    with TestClient(create_app(eng)) as client:
        yield client, clinics, eng
    eng.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def a_session(n_reps: int = 6, *, ended: bool = True, patient: str = "anna") -> dict:
    """One home session (id 3) with one set (id 11) of n_reps reps and a partial rep (ids 100...)."""
    events = [{"id": 100 + i, "session_id": 3, "set_id": 11, "kind": "rep", "puck": "right_hand", "count": i + 1,
               "t": 2.0 * i + 1.2, "t_start": 2.0 * i, "t_peak": 2.0 * i + 0.6, "t_end": 2.0 * i + 1.2,
               "amplitude": 20.0 + i, "unit": "N", "hold_s": 0.5, "uncertain": False, "host_time": 1.7e9 + i}
              for i in range(n_reps)]
    events.append({**events[0], "id": 100 + n_reps, "kind": "partial_rep", "amplitude": 9.5, "hold_s": None})
    figures = {"reps": n_reps, "partial_reps": 1, "grips": 0, "mean_amplitude": 20.0 + (n_reps - 1) / 2,
               "best_amplitude": 20.0 + n_reps - 1, "time_under_tension_s": 1.2 * n_reps,
               "active_s": 2.0 * (n_reps - 1) + 1.2} if ended else {}
    return {"sessions": [{"id": 3, "patient": patient, "programme": "Hand and arm", "started_at": 1.7e9,
                          "ended_at": 1.7e9 + 600 if ended else None}],
            "sets": [{"id": 11, "session_id": 3, "exercise": "grip_squeeze", "set_index": 1, "target": 20.0,
                      "unit": "N", "pucks": ["right_hand"], "mode": None, "started_at": 1.7e9 + 10,
                      "ended_at": 1.7e9 + 100 if ended else None, **figures}],
            "events": events}


def stored(eng, model) -> int:
    from openpuck.server import db as dbmod
    with dbmod.sessions(eng)() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_an_upload_repeated_stores_each_rep_once(api):
    from openpuck.server.models import Event, ExerciseSet, Session
    client, c, eng = api
    first = client.post("/api/v1/upload", json=a_session(), headers=bearer(c.anna_token))
    again = client.post("/api/v1/upload", json=a_session(), headers=bearer(c.anna_token))
    assert first.status_code == again.status_code == 200
    assert first.json()["new_events"] == 7 and again.json()["new_events"] == 0
    assert (stored(eng, Session), stored(eng, ExerciseSet), stored(eng, Event)) == (1, 1, 7)


def test_an_upload_cut_and_repeated_stores_each_rep_once(api):
    from openpuck.server.models import Event
    client, c, eng = api
    whole = a_session()
    cut = {**whole, "events": whole["events"][:4]}     # what reached the server before the link went
    assert client.post("/api/v1/upload", json=cut, headers=bearer(c.anna_token)).json()["new_events"] == 4
    assert client.post("/api/v1/upload", json=whole, headers=bearer(c.anna_token)).json()["new_events"] == 3
    assert stored(eng, Event) == 7


def test_a_set_uploaded_while_open_is_brought_up_to_date_when_it_ends(api):
    client, c, _ = api
    client.post("/api/v1/upload", json=a_session(ended=False), headers=bearer(c.anna_token))
    kim = login(client, "kim@north.example")
    [open_set] = client.get(f"/api/v1/patients/{c.north_patient}/sets", headers=bearer(kim)).json()
    # never ended: its stored reps count, its other figures wait for its end
    assert open_set["ended_at"] is None and open_set["reps"] == 6 and open_set["mean_amplitude"] is None
    client.post("/api/v1/upload", json=a_session(), headers=bearer(c.anna_token))
    [ended] = client.get(f"/api/v1/patients/{c.north_patient}/sets", headers=bearer(kim)).json()
    assert ended["ended_at"] == 1.7e9 + 100 and (ended["reps"], ended["partial_reps"]) == (6, 1)


def test_an_event_whose_set_the_server_lacks_is_refused_and_nothing_is_stored(api):
    from openpuck.server.models import Event
    client, c, eng = api
    batch = a_session()
    r = client.post("/api/v1/upload", json={"events": batch["events"]}, headers=bearer(c.anna_token))
    assert r.status_code == 422 and "set 11 of session 3 is not on the server" in r.json()["detail"]
    assert stored(eng, Event) == 0


def test_an_installation_uploads_only_its_own_patients_sessions(api):
    from openpuck.server.models import Session
    client, c, eng = api
    r = client.post("/api/v1/upload", json=a_session(patient="bob"), headers=bearer(c.anna_token))
    assert r.status_code == 422 and "another patient" in r.json()["detail"]
    assert stored(eng, Session) == 0


def test_unknown_missing_and_revoked_tokens_are_refused(api):
    from openpuck.server import db as dbmod
    from openpuck.server import store
    client, c, _ = api
    assert client.get("/api/v1/installation", headers=bearer(c.anna_token)).json()["patient"] == "anna"
    assert client.get("/api/v1/installation").status_code == 401
    assert client.get("/api/v1/installation", headers=bearer("opk_" + "x" * 43)).status_code == 401
    with dbmod.sessions(api[2])() as db, db.begin():
        store.revoke_installation(db, c.anna_installation)
    r = client.post("/api/v1/upload", json=a_session(), headers=bearer(c.anna_token))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.get("/api/v1/programme", headers=bearer(c.anna_token)).status_code == 401


def login(client, email: str, password: str = clinic_setup.PASSWORD) -> str:
    r = client.post("/api/v1/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def test_a_therapist_logs_in_with_the_right_password_only(api):
    client, _, _ = api
    assert client.post("/api/v1/login", json={"email": "kim@north.example", "password": "wrong password"}
                       ).status_code == 401
    assert client.post("/api/v1/login", json={"email": "nobody@north.example",
                                              "password": clinic_setup.PASSWORD}).status_code == 401
    token = login(client, "KIM@north.example")          # e-mail addresses are not case-sensitive
    assert client.get("/api/v1/patients", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/patients", headers=bearer(token + "x")).status_code == 401
    # an installation token is not a therapist's
    assert client.get("/api/v1/patients", headers=bearer(api[1].anna_token)).status_code == 401


def test_secrets_are_stored_only_as_hashes(api):
    from openpuck.server import db as dbmod
    from openpuck.server.models import Installation, Therapist
    client, c, eng = api
    login(client, "kim@north.example")
    with dbmod.sessions(eng)() as db:
        hashes = db.scalars(select(Therapist.password_hash)).all()
        tokens = db.scalars(select(Installation.token_hash)).all()
    assert all(h.startswith("$argon2id$") and clinic_setup.PASSWORD not in h for h in hashes)
    assert c.anna_token not in tokens and all(len(t) == 64 for t in tokens)


def test_a_patients_data_is_visible_only_to_their_clinic(api):
    client, c, _ = api
    client.post("/api/v1/upload", json=a_session(), headers=bearer(c.anna_token))
    kim, lee = login(client, "kim@north.example"), login(client, "lee@south.example")
    [anna] = client.get("/api/v1/patients", headers=bearer(kim)).json()
    assert (anna["patient"], anna["sessions"], anna["reps"], anna["partial_reps"]) == ("anna", 1, 6, 1)
    assert [p["patient"] for p in client.get("/api/v1/patients", headers=bearer(lee)).json()] == ["bob"]
    assert len(client.get(f"/api/v1/patients/{c.north_patient}/sets", headers=bearer(kim)).json()) == 1
    # another clinic's patient answers as one that does not exist
    for who, other in ((lee, c.north_patient), (kim, c.south_patient)):
        assert client.get(f"/api/v1/patients/{other}/sets", headers=bearer(who)).status_code == 404
        assert client.put(f"/api/v1/patients/{other}/programme", json={"toml": clinic_setup.PROGRAMME},
                          headers=bearer(who)).status_code == 404


def test_the_programme_the_therapist_assigns_is_what_the_home_downloads(api):
    client, c, _ = api
    assert client.get("/api/v1/programme", headers=bearer(c.anna_token)).status_code == 404
    kim = login(client, "kim@north.example")
    bad = client.put(f"/api/v1/patients/{c.north_patient}/programme", json={"toml": "name = 3"},
                     headers=bearer(kim))
    assert bad.status_code == 422 and "not a programme file" in bad.json()["detail"]
    for version in (1, 2):
        r = client.put(f"/api/v1/patients/{c.north_patient}/programme", json={"toml": clinic_setup.PROGRAMME},
                       headers=bearer(kim))
        assert r.json() == {"version": version, "name": "Hand and arm, week 2"}
    got = client.get("/api/v1/programme", headers=bearer(c.anna_token)).json()
    assert (got["version"], got["toml"]) == (2, clinic_setup.PROGRAMME)
    assert client.get("/api/v1/installation", headers=bearer(c.anna_token)).json()["programme_version"] == 2


def test_the_log_names_no_patient_and_no_figure(api, caplog):
    client, c, _ = api
    caplog.set_level(logging.DEBUG)
    client.post("/api/v1/upload", json=a_session(), headers=bearer(c.anna_token))
    client.post("/api/v1/upload", json=a_session(patient="bob"), headers=bearer(c.anna_token))
    kim = login(client, "kim@north.example")
    client.post("/api/v1/login", json={"email": "kim@north.example", "password": "wrong password"})
    client.get("/api/v1/patients", headers=bearer(kim))
    client.put(f"/api/v1/patients/{c.north_patient}/programme", json={"toml": clinic_setup.PROGRAMME},
               headers=bearer(kim))
    client.post("/api/v1/upload", json=a_session(), headers=bearer("opk_unknown"))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "uploaded 1 sessions, 1 sets, 7 events (7 new)" in text       # it does say what happened
    for private in ("anna", "bob", "kim@north.example", clinic_setup.PASSWORD, "Hand and arm", "grip_squeeze",
                    "25.0", c.anna_token):
        assert private not in text


def test_a_database_error_is_answered_and_logged_without_the_rows_values(api, caplog, monkeypatch):
    # PostgreSQL's own message quotes a duplicate key's values; SQLAlchemy's quotes the parameters
    from openpuck.server import store
    client, c, _ = api

    def duplicate(db, *args):
        store.add_clinic(db, "Rehab Private Name")
        store.add_clinic(db, "Rehab Private Name")
    monkeypatch.setattr(store, "upload", duplicate)
    caplog.set_level(logging.DEBUG)
    r = client.post("/api/v1/upload", json=a_session(), headers=bearer(c.anna_token))
    assert r.status_code == 503 and "the clinic database failed (IntegrityError)" in r.json()["detail"]
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "database error on POST /api/v1/upload: IntegrityError" in logged
    assert "Rehab Private Name" not in logged + r.text


def test_an_upload_larger_than_one_insert_is_stored_whole(api):
    from openpuck.server import store
    from openpuck.server.models import Event
    client, c, eng = api
    n = store.ROWS_PER_INSERT + 10
    r = client.post("/api/v1/upload", json=a_session(n), headers=bearer(c.anna_token))
    assert r.status_code == 200 and r.json()["new_events"] == n + 1 == stored(eng, Event)


def test_many_homes_at_once_on_a_small_connection_pool_are_all_answered(clinic_url):
    """More requests at once than FastAPI has threads (40), on a pool of one
    connection: a request must hold no connection while it waits for a thread
    (else the pool and the threads wait for each other: fastapi issue 3205)."""
    import json
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor
    clinics = clinic_setup.make(clinic_url)
    server = clinic_setup.LiveServer(clinic_url, pool_size=1, max_overflow=0, pool_timeout=5)

    def whoami(_: int) -> int:
        req = urllib.request.Request(server.address + "/api/v1/installation", headers=bearer(clinics.anna_token))
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.load(r)["installation"] == clinics.anna_installation and r.status
        except urllib.error.HTTPError as e:
            return e.code
    try:
        with ThreadPoolExecutor(max_workers=100) as pool:
            answers = list(pool.map(whoami, range(200)))
    finally:
        server.stop()
    assert answers.count(200) == len(answers), {a: answers.count(a) for a in set(answers)}
