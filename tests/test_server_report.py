"""A patient's report from the clinic's data is the very report `openpuck report`
makes at home from the same history."""
from __future__ import annotations

import datetime as dt

from openpuck.cli import main
from openpuck.clinic.history import History
from tests import clinic_setup, synthetic_history
from tests.conftest import need_clinic_extra


def test_the_clinics_report_of_a_patient_is_the_home_report(tmp_path, capsys):
    need_clinic_extra()
    from fastapi.testclient import TestClient

    from openpuck.clinic import sync
    from openpuck.clinic.report import render
    from openpuck.clinic.report_data import gather
    from openpuck.server import db as dbmod
    from openpuck.server.api import create_app
    from openpuck.server.report import patient_report
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    eng = dbmod.engine(url)
    dbmod.migrate(eng)
    c = clinic_setup.make(url)
    path = tmp_path / "history.sqlite3"
    synthetic_history.build(path)
    now = dt.datetime(2025, 3, 17, 9)
    with TestClient(create_app(eng)) as client, History(path) as h:
        batch = sync._batch(h, sync.pending(h, "anna"))
        assert client.post("/api/v1/upload", json=batch,
                           headers={"Authorization": f"Bearer {c.anna_token}"}).status_code == 200
        at_home = render(gather(h, "anna"), now=now)
        kim = client.post("/api/v1/login", json={"email": "kim@north.example",
                                                 "password": clinic_setup.PASSWORD}).json()["token"]
        page = client.get(f"/api/v1/patients/{c.north_patient}/report", headers={"Authorization": f"Bearer {kim}"})
        lee = client.post("/api/v1/login", json={"email": "lee@south.example",
                                                 "password": clinic_setup.PASSWORD}).json()["token"]
        other = client.get(f"/api/v1/patients/{c.north_patient}/report", headers={"Authorization": f"Bearer {lee}"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Home programme report: anna" in page.text
    assert other.status_code == 404
    with dbmod.sessions(eng)() as db:
        assert patient_report(db, c.north_patient, now=now) == at_home
    out = tmp_path / "anna.html"
    assert main(["clinic", "--db", url, "report", "Rehab North", "anna", "-o", str(out)]) == 0
    assert "Home programme report: anna" in out.read_text() and out.stat().st_mode & 0o077 == 0
    eng.dispose()
