"""``openpuck sync``: send the home history to the clinic server, fetch the programme.

The history's outbox (schema 3, :mod:`openpuck.clinic.history_schema`) lists
every session, set and event written or changed since the server last took
it, in the order it happened. :func:`sync` sends it in batches, oldest first,
each record as it is now, and deletes a batch's outbox rows only once the
server has answered that it stored them. The server keys each record by
installation, home session and home id, so a batch sent twice (the answer
lost on the way) stores nothing twice. Offline, nothing leaves the outbox:
the next sync catches up. Only plain HTTP(S) from the standard library: a
home needs no extra package.

The clinic's address and this installation's token are kept in the config
folder (``clinic.json``, mode 0600, like the pucks' owner keys:
:mod:`openpuck.device.keys`).
"""
from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..device import keys
from ..errors import OpenPuckError
from .history import History
from .history_rows import FIGURES

CONFIG_FILE = "clinic.json"
PROGRAMME_FILE = "clinic_programme.toml"
BATCH = 1000


class SyncError(OpenPuckError):
    """The clinic server cannot be reached, or refused what was sent; the outbox keeps it."""


@dataclass(frozen=True)
class ClinicConfig:
    server: str
    token: str


@dataclass(frozen=True)
class SyncResult:
    patient: str
    sent: int                       #: outbox records sent (sessions, sets, events)
    new_events: int                 #: reps, partial reps and grips the server did not have
    others_left: int                #: records of other patients, left in the outbox
    programme: Path | None          #: where the assigned programme was written (None: none assigned)
    programme_version: int | None


def config_path(folder: Path | None = None) -> Path:
    return (folder or keys.config_dir()) / CONFIG_FILE


def save_config(server: str, token: str, folder: Path | None = None) -> Path:
    """Keep the clinic's address and this installation's token (readable by the user only)."""
    if not server.startswith(("http://", "https://")):
        raise SyncError(f"the clinic server's address must start with https:// (or http:// on a local "
                        f"network), got {server!r}")
    if not token.strip():
        raise SyncError("the installation token is empty: paste the one the clinic issued")
    path = config_path(folder)
    keys._write_private(path, json.dumps({"server": server.rstrip("/"), "token": token.strip()}))
    return path


def load_config(folder: Path | None = None) -> ClinicConfig:
    path = config_path(folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ClinicConfig(str(data["server"]), str(data["token"]))
    except FileNotFoundError:
        raise SyncError("no clinic configured: openpuck sync --server URL --token-file FILE "
                        "(the token the clinic issued for this computer)") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SyncError(f"{path}: cannot read the clinic's settings ({e}); set them again with "
                        "openpuck sync --server URL --token-file FILE") from None


def _call(cfg: ClinicConfig, method: str, path: str, body: Any = None, timeout_s: float = 60.0) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(cfg.server + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {cfg.token}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        if e.code == 404 and path == "/api/v1/programme":
            return None
        try:
            detail = json.load(e).get("detail", "")
        except (ValueError, AttributeError):
            detail = ""
        if e.code == 401:
            raise SyncError(f"the clinic server {cfg.server} refused this computer's token ({detail or e.reason}); "
                            "ask the clinic for a new one") from None
        raise SyncError(f"the clinic server {cfg.server} answered {e.code} to {method} {path}: "
                        f"{detail or e.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
        # a server that dies mid-answer cuts the body (IncompleteRead) or its JSON
        reason = getattr(e, "reason", None) or type(e).__name__
        raise SyncError(f"cannot reach the clinic server {cfg.server} ({reason}); nothing is lost: "
                        "the history keeps what is not sent, and the next sync sends it") from None


_QUEUED = """SELECT o.id, o.kind, o.row_id FROM outbox o
    LEFT JOIN session s1 ON o.kind = 'session' AND s1.id = o.row_id
    LEFT JOIN exercise_set x2 ON o.kind = 'set' AND x2.id = o.row_id
    LEFT JOIN event e3 ON o.kind = 'event' AND e3.id = o.row_id
    LEFT JOIN exercise_set x3 ON x3.id = e3.set_id
    JOIN session s ON s.id = COALESCE(s1.id, x2.session_id, x3.session_id)
    WHERE s.patient {} ? ORDER BY o.id LIMIT ?"""


def pending(history: History, patient: str, *, others: bool = False, limit: int = -1) -> list[tuple[int, str, int]]:
    """The outbox rows (id, kind, row id) of ``patient``'s records (``others``: of everyone else's)."""
    return [tuple(r) for r in history._read(_QUEUED.format("!=" if others else "="), (patient, limit))]  # type: ignore[misc]


def _batch(history: History, rows: list[tuple[int, str, int]]) -> dict[str, list[dict[str, Any]]]:
    """The records the outbox rows name, as they are now, in the upload's form."""
    ids: dict[str, list[int]] = {"session": [], "set": [], "event": []}
    for _, kind, row_id in rows:
        if row_id not in ids[kind]:
            ids[kind].append(row_id)

    def each(sql: str, wanted: list[int]) -> list[dict[str, Any]]:
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        return [dict(r) for r in history._read(sql.format(marks), wanted)]
    sessions = each("SELECT id, patient, programme, started_at, ended_at FROM session WHERE id IN ({}) "
                    "ORDER BY id", ids["session"])
    sets = each("SELECT id, session_id, exercise, set_index, target, unit, pucks, mode, started_at, ended_at, "
                + ", ".join(FIGURES) + " FROM exercise_set WHERE id IN ({}) ORDER BY id", ids["set"])
    for s in sets:
        s["pucks"] = json.loads(s["pucks"])
    events = each("SELECT e.id, x.session_id, e.set_id, e.kind, e.puck, e.count, e.t, e.t_start, e.t_peak, "
                  "e.t_end, e.amplitude, e.unit, e.hold_s, e.uncertain, e.host_time FROM event e "
                  "JOIN exercise_set x ON x.id = e.set_id WHERE e.id IN ({}) ORDER BY e.id", ids["event"])
    for e in events:
        e["uncertain"] = bool(e["uncertain"])
    return {"sessions": sessions, "sets": sets, "events": events}


def queue_everything(history: History) -> int:
    """Queue every session, set and event again (after the clinic restored its
    database from a backup older than the last sync): the server keeps what it
    has and stores what it lost. Returns how many records were queued."""
    with history._write("queue the whole history for the clinic again") as db:
        before = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        for kind, table in (("session", "session"), ("set", "exercise_set"), ("event", "event")):
            db.execute(f"INSERT INTO outbox (kind, row_id) SELECT '{kind}', id FROM {table} ORDER BY id")
        return int(db.execute("SELECT count(*) FROM outbox").fetchone()[0] - before)


def sync(history: History, cfg: ClinicConfig, *, batch: int = BATCH, programme_dir: Path | None = None) -> SyncResult:
    """Send the outbox of this installation's patient, then fetch the assigned programme
    (written, once it loads, to ``programme_dir/clinic_programme.toml``; default the
    history's folder). Raises :class:`SyncError`; what was sent before stays sent."""
    me = _call(cfg, "GET", "/api/v1/installation")
    patient = str(me["patient"])
    sent = new = 0
    while True:
        rows = pending(history, patient, limit=batch)
        if not rows:
            break
        answer = _call(cfg, "POST", "/api/v1/upload", _batch(history, rows))
        with history._write("mark what the clinic server stored") as db:
            db.executemany("DELETE FROM outbox WHERE id = ?", [(r[0],) for r in rows])
        sent += len(rows)
        new += int(answer.get("new_events", 0))
    others = len(pending(history, patient, others=True))
    programme = _fetch_programme(cfg, programme_dir or history.data_dir)
    return SyncResult(patient, sent, new, others, programme[0], programme[1])


def _fetch_programme(cfg: ClinicConfig, folder: Path) -> tuple[Path | None, int | None]:
    got = _call(cfg, "GET", "/api/v1/programme")
    if got is None:
        return None, None
    from . import programme_file
    try:
        programme_file.loads(got["toml"], source=f"the clinic's programme version {got['version']}")
    except programme_file.ProgrammeError as e:
        raise SyncError(f"the programme the clinic assigned cannot be used here ({e}); "
                        "upgrade openpuck, or ask the clinic") from None
    path = folder / PROGRAMME_FILE
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(got["toml"], encoding="utf-8")
    os.replace(tmp, path)
    return path, int(got["version"])
