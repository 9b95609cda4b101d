"""`openpuck clinic export --fhir`: a patient's practice as a FHIR R4 Bundle,
each resource valid for fhir.resources, each set an Observation with the
set's figures."""
from __future__ import annotations

import json

import pytest

from openpuck.cli import main
from tests import clinic_setup, synthetic_history
from tests.conftest import need_clinic_extra


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    need_clinic_extra()
    tmp_path = tmp_path_factory.mktemp("fhir")
    from openpuck.clinic import sync
    from openpuck.clinic.history import History
    from openpuck.server import db as dbmod
    from openpuck.server import store
    from openpuck.server.models import Installation, Patient
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    dbmod.migrate(dbmod.engine(url))
    c = clinic_setup.make(url)
    path = tmp_path / "history.sqlite3"
    written = synthetic_history.build(path)
    eng = dbmod.engine(url)
    with History(path) as h, dbmod.sessions(eng)() as db, db.begin():
        patient = db.get(Patient, c.north_patient)
        batch = sync._batch(h, sync.pending(h, "anna"))
        store.upload(db, db.get(Installation, c.anna_installation), patient, batch["sessions"], batch["sets"],
                     batch["events"])
        store.assign_programme(db, patient, clinic_setup.PROGRAMME)
    eng.dispose()
    out = tmp_path / "anna.json"
    assert main(["clinic", "--db", url, "export", "--fhir", "Rehab North", "anna", "-o", str(out)]) == 0
    return json.loads(out.read_text()), synthetic_history.of(written, "anna")


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_bundle_is_valid_fhir(exported):
    from fhir.resources.R4B.bundle import Bundle
    bundle, _ = exported
    assert Bundle.model_validate(bundle).type == "collection"
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls) and all(u.startswith("urn:uuid:") for u in urls)


def test_the_programme_is_a_care_plan_of_exercise_therapy(exported):
    bundle, _ = exported
    [plan] = resources(bundle, "CarePlan")
    assert plan["category"][0]["coding"][0] == {"system": "http://snomed.info/sct", "code": "229065009",
                                                "display": "Exercise therapy"}
    assert plan["title"] == "Hand and arm, week 2"
    assert [a["detail"]["code"]["coding"][0]["code"] for a in plan["activity"]] == ["grip_squeeze"]
    assert plan["activity"][0]["detail"]["description"] == "2 sets of 10 reps"


def test_each_set_is_an_exercise_activity_observation_with_its_figures(exported):
    bundle, sets = exported
    [patient] = resources(bundle, "Patient")
    observations = resources(bundle, "Observation")
    assert len(observations) == len(sets)
    first, w = observations[0], sets[0]
    assert first["code"]["coding"][0]["system"] == "http://loinc.org"
    assert first["code"]["coding"][0]["code"] == "73985-4"
    assert first["valueCodeableConcept"]["coding"][0]["code"] == w.exercise
    parts = {c["code"]["coding"][0]["code"]: c for c in first["component"]}
    assert parts["reps"]["valueInteger"] == len(w.reps)
    assert parts["partial_reps"]["valueInteger"] == len(w.partials)
    assert parts["best_amplitude"]["valueQuantity"]["value"] == pytest.approx(max(w.reps))
    assert parts["best_amplitude"]["valueQuantity"]["code"] == w.unit
    assert parts["target"]["valueQuantity"]["value"] == w.target
    assert parts["success_rate"]["valueQuantity"]["value"] == \
        pytest.approx(100 * len(w.reps) / (len(w.reps) + len(w.partials)))
    assert first["status"] == "final" and first["subject"]["reference"] == \
        next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is not None and e["resource"] == patient)
    # the set cut short is preliminary, with what it stored
    preliminary = [o for o in observations if o["status"] == "preliminary"]
    assert len(preliminary) == len([s for s in sets if not s.ended]) > 0
