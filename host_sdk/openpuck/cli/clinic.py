"""openpuck clinic: run the clinic server and keep its records."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

HELP = "the clinic server: serve the API, migrate its database, add clinics, therapists, patients, tokens"
DESCRIPTION = """\
The clinic server keeps many patients' histories in one PostgreSQL database
(sessions, sets and reps uploaded by `openpuck sync` from each home) and
serves them to the clinic's therapists. It needs the clinic extra:
pip install openpuck[clinic]. docs/clinic.md tells how a clinic runs it.

--db (or OPENPUCK_CLINIC_DB) is the database's URL:
postgresql+psycopg://user@host/dbname, or sqlite:///clinic.sqlite3 to try it out."""
EPILOG = """\
examples:
  openpuck clinic migrate --db postgresql://openpuck@localhost/openpuck
  openpuck clinic add-clinic "Rehab North"
  openpuck clinic add-therapist "Rehab North" kim@rehab-north.example   (asks for the password)
  openpuck clinic add-patient "Rehab North" anna
  openpuck clinic issue-token "Rehab North" anna     a new installation's token, shown once
  openpuck clinic revoke 7                           installation 7's token no longer works
  openpuck clinic assign "Rehab North" anna programmes/hand_arm.toml
  openpuck clinic export --fhir "Rehab North" anna -o anna.json   a FHIR R4 Bundle of anna's practice
  openpuck clinic report "Rehab North" anna -o anna.html        the report openpuck report makes at home
  openpuck clinic serve --host 127.0.0.1 --port 8024
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="the database URL (default: $OPENPUCK_CLINIC_DB)")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = sub.add_parser("serve", help="serve the HTTP API (the database must be migrated)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: behind a proxy)")
    s.add_argument("--port", type=int, default=8024)
    s.add_argument("--workers", type=int, default=1, help="API processes (default 1)")
    sub.add_parser("migrate", help="create the tables, or bring them to this version's schema")
    s = sub.add_parser("add-clinic", help="add a clinic")
    s.add_argument("name")
    s = sub.add_parser("add-therapist", help="add a therapist (the password is asked, or read from stdin)")
    s.add_argument("clinic")
    s.add_argument("email")
    s = sub.add_parser("add-patient", help="add a patient, by the name their home history uses")
    s.add_argument("clinic")
    s.add_argument("patient")
    s = sub.add_parser("issue-token", help="a new installation (home computer) for a patient; prints its token once")
    s.add_argument("clinic")
    s.add_argument("patient")
    s = sub.add_parser("revoke", help="revoke an installation's token")
    s.add_argument("installation", type=int)
    s = sub.add_parser("assign", help="assign a programme file to a patient")
    s.add_argument("clinic")
    s.add_argument("patient")
    s.add_argument("programme", help="a programme TOML file")
    s = sub.add_parser("report", help="a patient's report (HTML) from the clinic's data, as `openpuck report`")
    s.add_argument("clinic")
    s.add_argument("patient")
    s.add_argument("-o", "--output", required=True, help="the HTML file to write")
    s = sub.add_parser("export", help="a patient's practice as a FHIR R4 Bundle (JSON)")
    s.add_argument("--fhir", action="store_true", required=True, help="FHIR R4 (the only format so far)")
    s.add_argument("clinic")
    s.add_argument("patient")
    s.add_argument("-o", "--output", help="the JSON file to write (default: standard output)")


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def run(args: argparse.Namespace) -> int:
    from ..server import require
    require()
    from sqlalchemy.exc import IntegrityError

    from ..server import db as dbmod
    from ..server import store
    from . import CliError
    eng = dbmod.engine(args.db)
    if args.action == "migrate":
        print(f"clinic database at schema {dbmod.migrate(eng)}")
        return 0
    dbmod.check_current(eng)
    if args.action == "serve":
        return _serve(args, eng)
    try:
        with dbmod.sessions(eng)() as db, db.begin():
            if args.action == "add-clinic":
                print(f"clinic {store.add_clinic(db, args.name).id}: {args.name}")
            elif args.action == "add-therapist":
                t = store.add_therapist(db, store.clinic_named(db, args.clinic), args.email, _password())
                print(f"therapist {t.id}: {t.email}")
            elif args.action == "add-patient":
                p = store.add_patient(db, store.clinic_named(db, args.clinic), args.patient)
                print(f"patient {p.id}: {p.home_name}")
            elif args.action == "issue-token":
                patient = store.patient_of(db, store.clinic_named(db, args.clinic), args.patient)
                inst, token = store.issue_installation(db, patient)
                print(f"installation {inst.id} of {patient.home_name}; its token (shown once, give it to the "
                      f"home: openpuck sync --server URL --token-file FILE):\n{token}")
            elif args.action == "revoke":
                print(f"installation {store.revoke_installation(db, args.installation).id} revoked")
            elif args.action == "assign":
                with open(args.programme, encoding="utf-8") as f:
                    text = f.read()
                patient = store.patient_of(db, store.clinic_named(db, args.clinic), args.patient)
                prog = store.assign_programme(db, patient, text)
                print(f"programme {prog.name!r} is version {prog.version} for {patient.home_name}")
            elif args.action == "report":
                from ..server.report import patient_report
                patient = store.patient_of(db, store.clinic_named(db, args.clinic), args.patient)
                _write_private(args.output, patient_report(db, patient.id))
                print(f"report of {patient.home_name} written to {args.output}")
            elif args.action == "export":
                _export(db, store.patient_of(db, store.clinic_named(db, args.clinic), args.patient).id, args.output)
    except (store.StoreError, ValueError) as e:
        raise CliError(str(e)) from None
    except IntegrityError:
        raise CliError(f"{args.action}: that one exists already") from None
    return 0


def _write_private(path: str, text: str) -> None:
    """A patient's data goes to a file readable by its user only, as the home report."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _export(db: Session, patient_id: int, output: str | None) -> None:
    import json

    from ..server import fhir
    text = json.dumps(fhir.bundle(db, patient_id), indent=1) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    _write_private(output, text)
    print(f"FHIR bundle written to {output}", file=sys.stderr)


def _serve(args: argparse.Namespace, eng: Engine) -> int:
    import uvicorn

    from ..server import db as dbmod
    url = eng.url.render_as_string(hide_password=False)
    # the workers build their own app from the environment (uvicorn's factory), each with its engine
    os.environ[dbmod.ENV_DB] = url
    print(f"openpuck clinic: serving on http://{args.host}:{args.port} (database {eng.url!r})", flush=True)
    # no access log: its paths carry patient ids
    uvicorn.run("openpuck.server.api:app_from_environment", factory=True, host=args.host, port=args.port,
                workers=args.workers, access_log=False, log_level="info")
    return 0
