"""`openpuck clinic`: the extra it needs, its database commands and `serve`."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from openpuck.cli import main
from tests import clinic_setup
from tests.conftest import need_clinic_extra


def test_without_the_clinic_extra_the_error_names_the_extra(monkeypatch, capsys):
    from openpuck.server import ServerUnavailable, require
    monkeypatch.setitem(sys.modules, "fastapi", None)     # as if it were not installed
    with pytest.raises(ServerUnavailable, match=r"needs the Python package fastapi .*pip install openpuck\[clinic\]"):
        require()
    assert main(["clinic", "--db", "sqlite://", "migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("openpuck clinic: error: the clinic server needs") and "pip install openpuck[clinic]" in err


def test_no_database_given_is_a_one_line_error(monkeypatch, capsys):
    need_clinic_extra()
    monkeypatch.delenv("OPENPUCK_CLINIC_DB", raising=False)
    assert main(["clinic", "add-clinic", "North"]) == 2
    assert "no clinic database: give --db URL or set OPENPUCK_CLINIC_DB" in capsys.readouterr().err


def test_the_records_are_kept_from_the_command_line(tmp_path, monkeypatch, capsys):
    need_clinic_extra()
    db = ["--db", f"sqlite:///{tmp_path / 'c.sqlite3'}"]
    assert main(["clinic", *db, "add-clinic", "North"]) == 2
    assert "at schema none (empty), this server needs 0001: run `openpuck clinic migrate`" in capsys.readouterr().err
    assert main(["clinic", *db, "migrate"]) == 0
    assert main(["clinic", *db, "add-clinic", "North"]) == 0
    assert main(["clinic", *db, "add-clinic", "North"]) == 2
    assert "add-clinic: that one exists already" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO(clinic_setup.PASSWORD + "\n"))
    assert main(["clinic", *db, "add-therapist", "North", "kim@north.example"]) == 0
    assert main(["clinic", *db, "add-patient", "South", "anna"]) == 2
    assert "there is no clinic 'South'" in capsys.readouterr().err
    assert main(["clinic", *db, "add-patient", "North", "anna"]) == 0
    assert main(["clinic", *db, "issue-token", "North", "anna"]) == 0
    out = capsys.readouterr().out
    token = out.strip().splitlines()[-1]
    assert token.startswith("opk_") and "installation 1 of anna" in out
    programme = tmp_path / "p.toml"
    programme.write_text(clinic_setup.PROGRAMME)
    assert main(["clinic", *db, "assign", "North", "anna", str(programme)]) == 0
    assert "programme 'Hand and arm, week 2' is version 1 for anna" in capsys.readouterr().out
    assert main(["clinic", *db, "revoke", "1"]) == 0
    assert main(["clinic", *db, "revoke", "9"]) == 2
    assert "there is no installation 9" in capsys.readouterr().err


def test_serve_answers_http_on_the_port_it_is_given(tmp_path):
    need_clinic_extra()
    from openpuck.server import db as dbmod
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    dbmod.migrate(dbmod.engine(url))
    clinics = clinic_setup.make(url)
    import socket
    with socket.socket() as s:          # a free port (the server binds it again just after)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "openpuck", "clinic", "--db", url, "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:        # uvicorn says when it listens
            seen.append(line)
            if "Uvicorn running on" in line:
                break
        else:
            pytest.fail("the server stopped before it listened:\n" + "".join(seen))
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/installation",
                                     headers={"Authorization": f"Bearer {clinics.anna_token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert json.load(r)["patient"] == "anna"
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/installation", timeout=30)
        assert e.value.code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=60)
