"""The same queries on SQLite and PostgreSQL give the same figures: one home
history uploaded to a clinic database of each kind, the therapist's views
compared field by field (and with the home's own figures)."""
from __future__ import annotations

import pytest

from openpuck.clinic.history import History
from tests import clinic_setup, synthetic_history
from tests.conftest import need_clinic_extra


def views_after_upload(url: str, history_path) -> tuple[list[dict], list[dict]]:
    from openpuck.clinic import sync
    from openpuck.server import db as dbmod
    from openpuck.server import store, views
    from openpuck.server.models import Installation, Patient
    eng = dbmod.engine(url)
    dbmod.migrate(eng)
    c = clinic_setup.make(url)
    with History(history_path) as h, dbmod.sessions(eng)() as db, db.begin():
        inst = db.get(Installation, c.anna_installation)
        patient = db.get(Patient, c.north_patient)
        assert inst is not None and patient is not None
        batch = sync._batch(h, sync.pending(h, "anna"))
        store.upload(db, inst, patient, batch["sessions"], batch["sets"], batch["events"])
        clinic_id = patient.clinic_id
    with dbmod.sessions(eng)() as db:
        result = views.patient_list(db, clinic_id), views.sets_of(db, c.north_patient)
    eng.dispose()
    return result


def test_sqlite_and_postgresql_give_the_same_figures(tmp_path, postgres_cluster):
    need_clinic_extra()
    path = tmp_path / "history.sqlite3"
    written = synthetic_history.build(path)
    on_sqlite = views_after_upload(f"sqlite:///{tmp_path / 'clinic.sqlite3'}", path)
    on_postgres = views_after_upload(postgres_cluster.new_database(), path)
    assert on_sqlite == on_postgres
    [anna] = on_postgres[0]
    # a set cut short counts what it stored, as at home
    sets = synthetic_history.of(written, "anna")
    reps, partial = sum(len(w.reps) for w in sets), sum(len(w.partials) for w in sets)
    assert (anna["reps"], anna["partial_reps"]) == (reps, partial)
    assert anna["success_rate"] == pytest.approx(reps / (reps + partial))
    assert anna["sets"] == len(sets) and any(not w.ended and w.reps for w in sets)
