"""A throwaway PostgreSQL cluster for the clinic server's tests (one per test run).

Debian's server binaries (``/usr/lib/postgresql/<n>/bin``, or ``initdb`` on
PATH; $OPENPUCK_PG_BIN names another folder). initdb refuses to run as
root, and the tests and CI run as root: the cluster is then made and run
as the ``postgres`` user (through runuser). It listens only on a Unix socket
in its own temporary folder, with fsync off: nothing in it outlives the run.
Absent binaries skip the tests (fail under OPENPUCK_REQUIRE_TOOLCHAIN=1).
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.toolchain import required


def _bin_dir() -> Path | None:
    env = os.environ.get("OPENPUCK_PG_BIN")
    if env:
        return Path(env)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    return Path(dirs[-1]) if dirs else None


def _unavailable(msg: str) -> None:
    if required():
        pytest.fail(msg + "; OPENPUCK_REQUIRE_TOOLCHAIN=1 forbids skipping")
    pytest.skip(msg)


class Cluster:
    """A running cluster; :meth:`new_database` gives each test its own database."""

    def __init__(self) -> None:
        bindir = _bin_dir()
        if bindir is None or not (bindir / "initdb").is_file():
            _unavailable("no PostgreSQL server found (Debian: apt-get install postgresql)")
        assert bindir is not None
        self.bin = bindir
        self.prefix: list[str] = []
        self.folder = Path(tempfile.mkdtemp(prefix="openpuck-pg-"))
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.folder)
                _unavailable("running as root and there is no postgres user to run PostgreSQL as "
                             "(Debian's postgresql package makes one)")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self.data = self.folder / "data"
        self._names = itertools.count()
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "-o",
                  f"-k {self.folder} -c listen_addresses= -F -p 5432", "start")

    def _run(self, tool: str, *args: str) -> None:
        r = subprocess.run([*self.prefix, str(self.bin / tool), *args], capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            log = self.folder / "log"
            raise RuntimeError(f"{tool} failed ({r.returncode}): {r.stderr.strip()}"
                               + (f"\n{log.read_text()}" if log.exists() else ""))

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://postgres@/{dbname}?host={self.folder}&port=5432"

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        import sqlalchemy as sa
        name = f"t{next(self._names)}"
        eng = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        eng.dispose()
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
