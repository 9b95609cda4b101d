"""Many homes syncing at once with a clinic server on localhost: the harness of
tests/test_clinic_load.py (a few homes, in make test) and
tests/bench/test_clinic_load_bench.py (500, in make bench).

Each home is a copy of one home history recorded with the virtual puck's
patient scenario (a programme session through `openpuck programme run`),
filed under its own patient with its own installation token. The server is a
real `openpuck clinic serve` process; it can be killed (SIGKILL) in the middle
of the homes' syncs and started again, after which the homes that failed sync
again. At the end the server must hold every home's every rep once.
"""
from __future__ import annotations

import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

PROGRAMME = """
name = "Load"
[[exercise]]
name = "grip_squeeze"
puck = "right_hand"
sets = 2
reps = 4
rest_s = 0
target = 15
"""


def record_template(folder: Path) -> Path:
    """One home history: a session of the virtual puck's patient scenario."""
    from openpuck.cli import main
    programme = folder / "load.toml"
    programme.write_text(PROGRAMME)
    db = folder / "template" / "history.sqlite3"
    assert main(["programme", "run", str(programme), "--puck", "sim:?scenario=patient&speed=max", "--patient",
                 "p", "--db", str(db), "--rest-scale", "0", "--json"]) == 0
    return db


@dataclass
class Home:
    history: Path
    token: str
    events: int             #: reps, partial reps and grips in its history


def make_homes(folder: Path, template: Path, clinic_url: str, n: int) -> list[Home]:
    """``n`` copies of ``template``, each its own patient (p000...) and installation of one clinic."""
    from openpuck.server import db as dbmod
    from openpuck.server import store
    eng = dbmod.engine(clinic_url)
    homes = []
    with dbmod.sessions(eng)() as db, db.begin():
        clinic = store.add_clinic(db, "Load")
        for i in range(n):
            name = f"p{i:03d}"
            _, token = store.issue_installation(db, store.add_patient(db, clinic, name))
            path = folder / name / "history.sqlite3"
            path.parent.mkdir()
            shutil.copyfile(template, path)
            con = sqlite3.connect(path, isolation_level=None)
            con.execute("UPDATE session SET patient = ?", (name,))
            events = con.execute("SELECT count(*) FROM event").fetchone()[0]
            con.close()
            homes.append(Home(path, token, events))
    eng.dispose()
    return homes


class ServedClinic:
    """`openpuck clinic serve` on a free localhost port, in its own process."""

    def __init__(self, clinic_url: str, workers: int = 1) -> None:
        self.url, self.workers = clinic_url, workers
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.address = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "openpuck", "clinic", "--db", self.url, "serve",
                                      "--port", str(self.port), "--workers", str(self.workers)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen, ready = [], 0
        assert self.proc.stdout is not None
        for line in self.proc.stdout:          # each worker says when it is up
            seen.append(line)
            ready += "Application startup complete" in line
            if ready == self.workers:
                break
        else:
            raise RuntimeError("the clinic server stopped before it listened:\n" + "".join(seen))
        # keep reading its output, or a full pipe would stall it
        threading.Thread(target=lambda out: [None for _ in out], args=(self.proc.stdout,), daemon=True).start()

    def kill(self) -> None:
        """SIGKILL the server and its workers, as a power cut would."""
        assert self.proc is not None
        import os
        try:
            for child in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split():
                os.kill(int(child), signal.SIGKILL)
        except OSError:
            pass
        self.proc.kill()
        self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)


@dataclass
class LoadResult:
    homes: int
    seconds: float
    latencies: list[float] = field(default_factory=list)     #: per upload request that got its answer
    failed_syncs: int = 0                                    #: syncs cut by the kill, done again
    expected_events: int = 0
    stored_events: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)          #: what the failed syncs said

    @property
    def uploads_per_s(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def p99_s(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def run(homes: list[Home], server: ServedClinic, *, batch: int = 20,
        kill_after_uploads: int | None = None) -> LoadResult:
    """Every home syncs at once (a thread each). With ``kill_after_uploads``, the
    server is killed once that many uploads were answered, started again, and
    the homes whose sync failed sync again."""
    from openpuck.clinic import sync
    from openpuck.clinic.history import History
    lock = threading.Lock()
    result = LoadResult(len(homes), 0.0, expected_events=sum(h.events for h in homes))
    killed = threading.Event()
    real_call: Callable = sync._call

    def timed(cfg, method, where, body=None, timeout_s=60.0):      # noqa: ANN001 - as sync._call
        t0 = time.perf_counter()
        answer = real_call(cfg, method, where, body, timeout_s)
        if where == "/api/v1/upload":
            with lock:
                result.latencies.append(time.perf_counter() - t0)
                if kill_after_uploads is not None and len(result.latencies) == kill_after_uploads:
                    killed.set()
                    server.kill()
        return answer

    def one(home: Home) -> bool:
        try:
            with History(home.history) as h:
                sync.sync(h, sync.ClinicConfig(server.address, home.token), batch=batch)
            return True
        except sync.SyncError as e:
            with lock:
                result.errors.append(str(e))
            return False

    _enough_files(4 * len(homes) + 256)     # per home: its history, WAL, shared memory and a socket
    sync._call = timed  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(homes)) as pool:
            done = list(pool.map(one, homes))
        if killed.is_set():
            server.start()
            again = [h for h, ok in zip(homes, done) if not ok]
            result.failed_syncs = len(again)
            with ThreadPoolExecutor(max_workers=max(1, len(again))) as pool:
                assert all(pool.map(one, again)), "a home could not sync after the server came back"
        else:
            assert all(done), f"{done.count(False)} homes' syncs failed with the server up: {result.errors[:3]}"
        result.seconds = time.perf_counter() - t0
    finally:
        sync._call = real_call  # type: ignore[assignment]
    result.stored_events, result.duplicates = _stored(server.url)
    return result


def _enough_files(n: int) -> None:
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n if hard == resource.RLIM_INFINITY else min(n, hard), hard))


def _stored(url: str) -> tuple[int, int]:
    from sqlalchemy import func, select

    from openpuck.server import db as dbmod
    from openpuck.server.models import Event
    eng = dbmod.engine(url)
    with dbmod.sessions(eng)() as db:
        total = db.scalar(select(func.count()).select_from(Event)) or 0
        keys = db.scalar(select(func.count()).select_from(
            select(Event.installation_id, Event.session_local_id, Event.local_id).distinct().subquery())) or 0
    eng.dispose()
    return total, total - keys
