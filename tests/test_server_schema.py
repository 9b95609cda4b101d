"""The clinic database's schema: Alembic's migrations from an empty database
make exactly the tables the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.conftest import need_clinic_extra


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> str:
    need_clinic_extra()
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    return request.getfixturevalue("postgres_cluster").new_database()


def test_migrations_from_empty_give_the_models_tables(empty_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from openpuck.server import db
    from openpuck.server.models import Base
    eng = db.engine(empty_url)
    assert db.current(eng) is None
    with pytest.raises(db.DatabaseError, match="is at schema none \\(empty\\), this server needs 0001: run "):
        db.check_current(eng)
    assert db.migrate(eng) == db.head() == "0001"
    db.check_current(eng)
    with eng.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert db.migrate(eng) == "0001"        # again: nothing to do
    eng.dispose()


def test_an_unreachable_database_is_a_one_line_error(tmp_path):
    need_clinic_extra()
    from openpuck.server import db
    eng = db.engine(f"postgresql://nobody@/x?host={tmp_path}&port=1")
    with pytest.raises(db.DatabaseError, match=r"^cannot reach the clinic database .*OperationalError") as e:
        db.current(eng)
    assert "\n" not in str(e.value)


def test_without_postgresql_its_tests_skip_with_a_reason_and_fail_in_ci(monkeypatch, tmp_path):
    from tests.postgres import Cluster
    monkeypatch.setenv("OPENPUCK_PG_BIN", str(tmp_path))         # a folder without initdb
    monkeypatch.delenv("OPENPUCK_REQUIRE_TOOLCHAIN", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no PostgreSQL server found \(Debian: apt-get install "):
        Cluster()
    monkeypatch.setenv("OPENPUCK_REQUIRE_TOOLCHAIN", "1")
    with pytest.raises(pytest.fail.Exception, match="OPENPUCK_REQUIRE_TOOLCHAIN=1 forbids skipping"):
        Cluster()
