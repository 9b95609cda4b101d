"""The same queries on SQLite and PostgreSQL give the same figures: one home
history uploaded to a clinic database of each kind, the therapist's views
compared field by field, and with the home's own figures."""
from __future__ import annotations

import datetime as dt

import pytest

from openpuck.clinic.history import History
from tests import clinic_setup, synthetic_history
from tests.conftest import need_clinic_extra


def uploaded(url: str, history_path) -> tuple[str, int, int]:
    """The clinic database at ``url`` with anna's home history uploaded: (url, clinic id, anna's id)."""
    from openpuck.clinic import sync
    from openpuck.server import db as dbmod
    from openpuck.server import store
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
    eng.dispose()
    return url, clinic_id, c.north_patient


@pytest.fixture(scope="module")
def both(tmp_path_factory, postgres_cluster):
    need_clinic_extra()
    tmp = tmp_path_factory.mktemp("pg")
    written = synthetic_history.build(tmp / "history.sqlite3")
    return ([uploaded(f"sqlite:///{tmp / 'clinic.sqlite3'}", tmp / "history.sqlite3"),
             uploaded(postgres_cluster.new_database(), tmp / "history.sqlite3")],
            synthetic_history.of(written, "anna"))


def views(target: tuple[str, int, int], now: float) -> tuple[list[dict], list[dict]]:
    from openpuck.server import db as dbmod
    from openpuck.server import views as v
    url, clinic_id, patient_id = target
    eng = dbmod.engine(url)
    with dbmod.sessions(eng)() as db:
        result = v.patient_list(db, clinic_id, now), v.sets_of(db, patient_id)
    eng.dispose()
    return result


def evening(day: dt.date) -> float:
    return dt.datetime(day.year, day.month, day.day, 20).timestamp()


def test_sqlite_and_postgresql_give_the_same_figures(both):
    (on_sqlite, on_postgres), sets = both
    now = evening(synthetic_history.LAST_DAY)
    assert views(on_sqlite, now) == views(on_postgres, now)
    [anna], _ = views(on_postgres, now)
    # a set cut short counts what it stored, as at home
    reps, partial = sum(len(w.reps) for w in sets), sum(len(w.partials) for w in sets)
    assert (anna["reps"], anna["partial_reps"]) == (reps, partial)
    assert anna["success_rate"] == pytest.approx(reps / (reps + partial))
    assert anna["sets"] == len(sets) and any(not w.ended and w.reps for w in sets)


@pytest.mark.parametrize("days_after, practised, stopped", [
    (0, len(synthetic_history.PRACTISED), False),     # the two weeks: a session without an attempt is no practice
    (2, 8, False),                                     # the window has moved on two days (days 0 and 1 left it)
    (3, 7, True),                                      # three days without practice: flagged
    (9, 3, True)])
def test_adherence_counts_the_days_practised_in_the_last_two_weeks(both, days_after, practised, stopped):
    from openpuck.server.views import ADHERENCE_DAYS
    (on_sqlite, on_postgres), _ = both
    now = evening(synthetic_history.LAST_DAY + dt.timedelta(days=days_after))
    for target in (on_sqlite, on_postgres):
        [anna], _ = views(target, now)
        assert (anna["days_practised"], anna["stopped"]) == (practised, stopped)
        assert anna["adherence"] == practised / ADHERENCE_DAYS
