"""A few homes syncing at once with a real `openpuck clinic serve` on PostgreSQL,
the server killed in the middle and started again: every rep is stored once
(the 500-home run with its figures is tests/bench/test_clinic_load_bench.py)."""
from __future__ import annotations

import pytest

from tests import clinic_load

pytestmark = pytest.mark.slow


@pytest.fixture
def pg_url(postgres_cluster) -> str:
    from openpuck.server import db as dbmod
    url = postgres_cluster.new_database()
    dbmod.migrate(dbmod.engine(url))
    return url


@pytest.mark.parametrize("kill", [False, True], ids=["steady", "server-killed-mid-sync"])
def test_homes_syncing_at_once_store_every_rep_once(tmp_path, pg_url, need_micropython, kill):
    clinic_url = pg_url
    homes = clinic_load.make_homes(tmp_path, clinic_load.record_template(tmp_path), clinic_url, 8)
    server = clinic_load.ServedClinic(clinic_url)
    try:
        result = clinic_load.run(homes, server, batch=5, kill_after_uploads=6 if kill else None)
    finally:
        server.stop()
    assert result.stored_events == result.expected_events > 0
    assert result.duplicates == 0
    if kill:
        assert result.failed_syncs > 0         # the kill did cut syncs, which caught up after
