"""A patient's practice as FHIR resources (``openpuck clinic export --fhir``).

One ``collection`` Bundle: the Patient (identified by clinic and home name
only), the programme as a CarePlan (category SNOMED CT 229065009 "Exercise
therapy", an activity per exercise of the assigned programme file), and each
set as an Observation (LOINC 73985-4 "Exercise activity", the exercise as its
value, based on the CarePlan) with components for the set's figures: reps,
partial reps, the target, mean and best range of motion or force, time under
tension and success rate. No standard code names those figures or the
exercises, so they are the project's own code systems (:data:`FIGURE_SYSTEM`,
:data:`EXERCISE_SYSTEM`). Each resource is validated by fhir.resources'
models of FHIR R4B (4.3.0, whose Patient, CarePlan, Observation and Bundle
are R4's) before it is written.
"""
from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

from sqlalchemy.orm import Session as Db

from ..clinic import programme_file
from .models import Clinic, Patient
from .store import current_programme
from .views import sets_of

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
EXERCISE_SYSTEM = "urn:openpuck:exercise"       #: the catalogue's names (protocol/exercises.toml)
FIGURE_SYSTEM = "urn:openpuck:figure"           #: a set's figures (openpuck.offline.summary.SetSummary)
PATIENT_SYSTEM = "urn:openpuck:clinic:{clinic}:patient"
_UNITS = {"N": "N", "deg": "deg", "s": "s", "%": "%"}
_NS = uuid.UUID("7a0c2a4e-5e1b-4b8e-9a53-0c9f1e6c2d11")     # fixed: the same record gets the same id


def _when(t: float | None) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat()


def _ref(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NS, f'{kind}:{key}')}"


def _component(code: str, display: str, value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    concept = {"coding": [{"system": FIGURE_SYSTEM, "code": code, "display": display}]}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"code": concept, "valueInteger": value}
    number, unit = value
    return {"code": concept, "valueQuantity": {"value": round(float(number), 6), "unit": unit, "system": UCUM,
                                               "code": _UNITS.get(unit, unit)}}


def bundle(db: Db, patient_id: int) -> dict[str, Any]:
    """The patient's Bundle as JSON-ready data, every resource validated."""
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.careplan import CarePlan
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.patient import Patient as FhirPatient
    patient = db.get(Patient, patient_id)
    if patient is None:
        raise ValueError(f"there is no patient {patient_id}")
    clinic = db.get(Clinic, patient.clinic_id)
    assert clinic is not None
    key = f"{clinic.id}:{patient.id}"
    patient_url, plan_url = _ref("patient", key), _ref("careplan", key)
    entries: list[tuple[str, Any]] = [(patient_url, FhirPatient.model_validate({
        "resourceType": "Patient",
        "identifier": [{"system": PATIENT_SYSTEM.format(clinic=clinic.id), "value": patient.home_name}]}))]
    prog = current_programme(db, patient.id)
    activities = []
    if prog is not None:
        for ex in programme_file.loads(prog.toml).exercises:
            activities.append({"detail": {
                "kind": "ServiceRequest", "status": "scheduled",
                "code": {"coding": [{"system": EXERCISE_SYSTEM, "code": ex.exercise}]},
                "description": f"{ex.sets} sets of "
                               + (f"{ex.reps} reps" if ex.reps is not None else f"{ex.seconds:g} s")}})
    entries.append((plan_url, CarePlan.model_validate({
        "resourceType": "CarePlan", "status": "active", "intent": "plan",
        "category": [{"coding": [{"system": SNOMED, "code": "229065009", "display": "Exercise therapy"}]}],
        "title": prog.name if prog is not None else "OpenPuck home programme",
        "subject": {"reference": patient_url},
        **({"created": _when(prog.assigned_at)} if prog is not None else {}),
        **({"activity": activities} if activities else {})})))
    for s in sets_of(db, patient.id):
        unit = s["unit"]
        attempts = (s["reps"] or 0) + (s["partial_reps"] or 0)
        parts = [
            _component("reps", "Repetitions", s["reps"]),
            _component("partial_reps", "Partial repetitions", s["partial_reps"]),
            _component("target", "Target", None if s["target"] is None else (s["target"], unit)),
            _component("mean_amplitude", "Mean range of motion or force",
                       None if s["mean_amplitude"] is None else (s["mean_amplitude"], unit)),
            _component("best_amplitude", "Best range of motion or force",
                       None if s["best_amplitude"] is None else (s["best_amplitude"], unit)),
            _component("time_under_tension", "Time under tension",
                       None if s["time_under_tension_s"] is None else (s["time_under_tension_s"], "s")),
            _component("success_rate", "Success rate",
                       (100.0 * (s["reps"] or 0) / attempts, "%") if attempts else None),
        ]
        entries.append((_ref("set", f"{key}:{s['session']}:{s['set_index']}:{s['exercise']}:{s['started_at']}"),
                        Observation.model_validate({
            "resourceType": "Observation", "status": "final" if s["ended_at"] is not None else "preliminary",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "activity", "display": "Activity"}]}],
            "code": {"coding": [{"system": LOINC, "code": "73985-4", "display": "Exercise activity"}]},
            "subject": {"reference": patient_url}, "basedOn": [{"reference": plan_url}],
            "effectivePeriod": {k: v for k, v in (("start", _when(s["started_at"])), ("end", _when(s["ended_at"])))
                                if v is not None},
            "valueCodeableConcept": {"coding": [{"system": EXERCISE_SYSTEM, "code": s["exercise"]}],
                                     "text": f"set {s['set_index']} of {s['exercise']}"},
            "component": [c for c in parts if c is not None]})))
    out = Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "timestamp": _when(time.time()),
                                 "entry": [{"fullUrl": url, "resource": r.model_dump(mode="json")}
                                           for url, r in entries]})
    return json.loads(out.model_dump_json())
