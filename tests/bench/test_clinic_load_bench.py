"""500 homes syncing at once with the clinic server (issue 24), in make bench.

Each home is a session of the virtual puck's patient scenario
(tests/clinic_load.py); the server is `openpuck clinic serve` with two API
processes on a throwaway PostgreSQL. Printed: uploads per second and the
p99 latency of an upload; asserted: nothing lost, nothing doubled, also when
the server is killed in the middle of the syncs and started again.
OPENPUCK_LOAD_HOMES changes the number of homes.
"""
from __future__ import annotations

import os

import pytest

from tests import clinic_load

HOMES = int(os.environ.get("OPENPUCK_LOAD_HOMES", "500"))


@pytest.fixture(scope="module")
def template(tmp_path_factory, need_micropython):
    return clinic_load.record_template(tmp_path_factory.mktemp("template"))


@pytest.mark.parametrize("kill", [False, True], ids=["steady", "server-killed-mid-sync"])
def test_500_homes_sync_at_once(benchmark, tmp_path, template, postgres_cluster, kill):
    from openpuck.server import db as dbmod
    url = postgres_cluster.new_database()
    dbmod.migrate(dbmod.engine(url))
    homes = clinic_load.make_homes(tmp_path, template, url, HOMES)
    server = clinic_load.ServedClinic(url, workers=2)
    try:
        result = benchmark.pedantic(clinic_load.run, args=(homes, server),
                                    kwargs={"kill_after_uploads": HOMES if kill else None}, rounds=1, iterations=1)
    finally:
        server.stop()
    print(f"\n{HOMES} homes{' (server killed and restarted)' if kill else ''}: {len(result.latencies)} uploads in "
          f"{result.seconds:.1f} s, {result.uploads_per_s:.0f} uploads/s, p99 {1000 * result.p99_s:.0f} ms, "
          f"{result.stored_events} events stored of {result.expected_events}, {result.failed_syncs} syncs redone")
    assert result.stored_events == result.expected_events and result.duplicates == 0
