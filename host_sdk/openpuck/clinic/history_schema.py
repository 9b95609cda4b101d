"""The history database's schema: an ordered list of migrations.

Migration N takes a database from schema version N-1 to N; the version is
SQLite's ``PRAGMA user_version`` (0 in a new file). Each migration runs in
one transaction together with the version bump, so a database is always at
a whole version. Never edit a migration that has shipped: add the next one.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

#: SQL statements run in order, or a function given the connection (for data changes SQL cannot say)
Migration = Sequence[str] | Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = [
    # 1: the initial schema. Times are Unix seconds (REAL); device times of
    # events are the puck's seconds, as in openpuck.device.events.
    (
        """CREATE TABLE session (
            id          INTEGER PRIMARY KEY,
            patient     TEXT NOT NULL,
            programme   TEXT NOT NULL,
            started_at  REAL NOT NULL,
            ended_at    REAL              -- NULL: still running, or the process died
        )""",
        "CREATE INDEX session_by_patient ON session (patient, started_at)",
        """CREATE TABLE exercise_set (
            id              INTEGER PRIMARY KEY,
            session_id      INTEGER NOT NULL REFERENCES session (id),
            exercise        TEXT NOT NULL,
            set_index       INTEGER NOT NULL,
            target          REAL,         -- NULL: an auto target not learned (yet)
            unit            TEXT NOT NULL,
            pucks           TEXT NOT NULL,  -- JSON list of puck roles
            mode            TEXT,         -- two pucks: bilateral or alternate
            recording_path  TEXT,         -- relative to the database's folder when inside it
            started_at      REAL NOT NULL,
            ended_at        REAL,         -- NULL: still running, or the process died
            summary         TEXT          -- JSON (openpuck.offline.summary.summarise), at end_set
        )""",
        "CREATE INDEX set_by_session ON exercise_set (session_id)",
        "CREATE INDEX set_by_exercise ON exercise_set (exercise, started_at)",
        """CREATE TABLE event (
            id          INTEGER PRIMARY KEY,
            set_id      INTEGER NOT NULL REFERENCES exercise_set (id),
            kind        TEXT NOT NULL CHECK (kind IN ('rep', 'partial_rep', 'grip')),
            puck        TEXT NOT NULL,    -- the role of the puck it came from
            count       INTEGER,          -- grip: NULL
            t           REAL NOT NULL,
            t_start     REAL,
            t_peak      REAL,             -- grip: NULL
            t_end       REAL,
            amplitude   REAL,             -- rep, partial_rep: peak excursion; grip: peak force
            unit        TEXT,
            hold_s      REAL,
            uncertain   INTEGER NOT NULL,
            host_time   REAL
        )""",
        "CREATE INDEX event_by_set ON event (set_id)",
    ),
    # 2: a set's figures (openpuck.offline.summary.SetSummary's stored fields) in typed
    # columns, written at end_set from the set's stored events; NULL in a set never
    # ended (readers sum its events up). Rates are not stored: they follow from these
    # by the one definition (success = reps / (reps + partial_reps), reps per minute =
    # 60 x reps / active_s). Ended sets are back-filled from their events, as the
    # readers before this version counted them.
    (
        "ALTER TABLE exercise_set ADD COLUMN reps INTEGER",
        "ALTER TABLE exercise_set ADD COLUMN partial_reps INTEGER",
        "ALTER TABLE exercise_set ADD COLUMN grips INTEGER",
        "ALTER TABLE exercise_set ADD COLUMN mean_amplitude REAL",        # NULL: no rep
        "ALTER TABLE exercise_set ADD COLUMN best_amplitude REAL",
        "ALTER TABLE exercise_set ADD COLUMN time_under_tension_s REAL",  # the reps' durations summed
        "ALTER TABLE exercise_set ADD COLUMN active_s REAL",              # first rep's start to last rep's end
        """UPDATE exercise_set SET
            reps = (SELECT COUNT(*) FROM event e WHERE e.set_id = exercise_set.id AND e.kind = 'rep'),
            partial_reps = (SELECT COUNT(*) FROM event e
                            WHERE e.set_id = exercise_set.id AND e.kind = 'partial_rep'),
            grips = (SELECT COUNT(*) FROM event e WHERE e.set_id = exercise_set.id AND e.kind = 'grip'),
            mean_amplitude = (SELECT AVG(e.amplitude) FROM event e
                              WHERE e.set_id = exercise_set.id AND e.kind = 'rep'),
            best_amplitude = (SELECT MAX(e.amplitude) FROM event e
                              WHERE e.set_id = exercise_set.id AND e.kind = 'rep'),
            time_under_tension_s = (SELECT COALESCE(SUM(e.t_end - e.t_start), 0.0) FROM event e
                                    WHERE e.set_id = exercise_set.id AND e.kind = 'rep'),
            active_s = (SELECT COALESCE(MAX(e.t_end) - MIN(e.t_start), 0.0) FROM event e
                        WHERE e.set_id = exercise_set.id AND e.kind = 'rep')
        WHERE ended_at IS NOT NULL""",
    ),
    # 3: the outbox of `openpuck sync` (openpuck.clinic.sync): each session, set or event
    # written or changed since the clinic server last acknowledged it, in the order it
    # happened (a set after its session, an event after its set). Triggers fill it, so
    # every writer of the file does; sync deletes the rows the server took. What a
    # file held before this version is not on any server yet: it is queued whole.
    (
        """CREATE TABLE outbox (
            id      INTEGER PRIMARY KEY,
            kind    TEXT NOT NULL CHECK (kind IN ('session', 'set', 'event')),
            row_id  INTEGER NOT NULL
        )""",
        *(f"""CREATE TRIGGER outbox_{table}_{op.lower()} AFTER {op} ON {table}
              BEGIN INSERT INTO outbox (kind, row_id) VALUES ('{kind}', NEW.id); END"""
          for table, kind, ops in (("session", "session", ("INSERT", "UPDATE")),
                                   ("exercise_set", "set", ("INSERT", "UPDATE")),
                                   ("event", "event", ("INSERT",)))
          for op in ops),
        "INSERT INTO outbox (kind, row_id) SELECT 'session', id FROM session ORDER BY id",
        "INSERT INTO outbox (kind, row_id) SELECT 'set', id FROM exercise_set ORDER BY id",
        "INSERT INTO outbox (kind, row_id) SELECT 'event', id FROM event ORDER BY id",
    ),
    # 4: sets and reps pulled from the puck's own log (openpuck.clinic.history_log). source:
    # NULL = counted live, 'puck_log' = from the log (a set: some or all of its reps were);
    # (puck_serial, puck_boot, log_seq) names the log record a row is (an event) or starts
    # with (a set's set_start), unique, so a record imported twice is stored once and a live
    # rep matched to its record is not stored again.
    (
        *(f"ALTER TABLE {table} ADD COLUMN {column}"
          for table in ("exercise_set", "event")
          for column in ("source TEXT", "puck_serial TEXT", "puck_boot INTEGER", "log_seq INTEGER")),
        "CREATE UNIQUE INDEX set_by_log_record ON exercise_set (puck_serial, puck_boot, log_seq) "
        "WHERE log_seq IS NOT NULL",
        "CREATE UNIQUE INDEX event_by_log_record ON event (puck_serial, puck_boot, log_seq) "
        "WHERE log_seq IS NOT NULL",
    ),
]


class SchemaError(Exception):
    """A database this code cannot bring to its schema (History wraps it with the file's name)."""


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] | None = None) -> int:
    """Bring ``conn`` (autocommit mode) to the last migration's version; returns it.

    Each step re-reads the version inside its write transaction, so two
    processes opening a new file at once do not both run a migration."""
    steps = MIGRATIONS if migrations is None else migrations
    latest = len(steps)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            have = version(conn)
            if have > latest:
                raise SchemaError(f"it has schema version {have}, written by a newer OpenPuck; this one "
                                  f"knows up to {latest}: upgrade openpuck to read it")
            if have == latest:
                conn.execute("COMMIT")
                return latest
            step = steps[have]
            try:
                if callable(step):
                    step(conn)
                else:
                    for statement in step:
                        conn.execute(statement)
            except sqlite3.Error as e:
                raise SchemaError(f"migration {have + 1} (schema {have} to {have + 1}) failed: {e}; "
                                  f"the file is left at schema {have}") from e
            conn.execute(f"PRAGMA user_version = {have + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
