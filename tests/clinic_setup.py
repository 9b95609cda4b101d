"""Two clinics with a therapist, a patient and an installation each, for the clinic server's tests."""
from __future__ import annotations

from dataclasses import dataclass

from openpuck.server import db as dbmod
from openpuck.server import store

PASSWORD = "correct horse battery"
PROGRAMME = """\
name = "Hand and arm, week 2"

[[exercise]]
name = "grip_squeeze"
puck = "right_hand"
sets = 2
reps = 10
"""


@dataclass(frozen=True)
class Clinics:
    north_patient: int          #: anna, of Rehab North (kim@north.example)
    south_patient: int          #: bob, of Rehab South (lee@south.example)
    anna_installation: int
    anna_token: str
    bob_token: str


def make(url: str) -> Clinics:
    eng = dbmod.engine(url)
    try:
        with dbmod.sessions(eng)() as db, db.begin():
            north, south = store.add_clinic(db, "Rehab North"), store.add_clinic(db, "Rehab South")
            store.add_therapist(db, north, "kim@north.example", PASSWORD)
            store.add_therapist(db, south, "lee@south.example", PASSWORD)
            anna, bob = store.add_patient(db, north, "anna"), store.add_patient(db, south, "bob")
            inst, anna_token = store.issue_installation(db, anna)
            _, bob_token = store.issue_installation(db, bob)
            return Clinics(anna.id, bob.id, inst.id, anna_token, bob_token)
    finally:
        eng.dispose()


class LiveServer:
    """The API served by uvicorn on a localhost port, in a thread of the test
    (the socket listens before the thread starts, so no wait is needed)."""

    def __init__(self, url: str, **engine_kwargs: object) -> None:
        import socket
        import threading

        import uvicorn

        from openpuck.server.api import create_app
        self.engine = dbmod.engine(url, **engine_kwargs)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.address = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.engine), log_level="warning",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.sock.close()
        self.engine.dispose()
