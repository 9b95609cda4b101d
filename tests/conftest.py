import sys
from pathlib import Path

# tests import helpers as `from tests.toolchain import ...`
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# tests/firmware/ holds scripts that run under MicroPython (and CPython as an
# oracle); tests/test_firmware_*.py runs them. pytest must not import them.
collect_ignore_glob = ["firmware/*"]


import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _own_config_dir(tmp_path_factory):
    """Owner keys and the signing clock (openpuck.device.keys) go to a folder of the
    test run, never the user's config folder: a developer's own keys change
    nothing here, and the tests leave none behind."""
    import os
    old = os.environ.get("OPENPUCK_CONFIG_DIR")
    os.environ["OPENPUCK_CONFIG_DIR"] = str(tmp_path_factory.mktemp("openpuck-config"))
    yield
    if old is None:
        os.environ.pop("OPENPUCK_CONFIG_DIR", None)
    else:
        os.environ["OPENPUCK_CONFIG_DIR"] = old


import pytest  # noqa: E402


@pytest.fixture(scope="module")
def need_micropython() -> None:
    """Skip a module's tests where the MicroPython unix port (the virtual puck) is absent."""
    from openpuck.device import sim
    try:
        sim.micropython_command()
    except sim.SimUnavailable as e:
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def postgres_cluster():
    """One throwaway PostgreSQL cluster for the run (tests/postgres.py); skips without PostgreSQL."""
    need_clinic_extra()
    from tests.postgres import Cluster
    cluster = Cluster()
    yield cluster
    cluster.stop()


def need_clinic_extra() -> None:
    """Skip (fail under OPENPUCK_REQUIRE_TOOLCHAIN=1) without the clinic extra."""
    from openpuck.server import ServerUnavailable, require
    try:
        require()
    except ServerUnavailable as e:
        from tests.toolchain import required
        if required():
            pytest.fail(f"{e}; OPENPUCK_REQUIRE_TOOLCHAIN=1 forbids skipping")
        pytest.skip(str(e))


@pytest.fixture(params=["sqlite", "postgresql"])
def clinic_url(request, tmp_path) -> str:
    """The URL of a new, migrated clinic database: a SQLite file, then a PostgreSQL database."""
    need_clinic_extra()
    from openpuck.server import db
    url = (f"sqlite:///{tmp_path / 'clinic.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_cluster").new_database())
    eng = db.engine(url)
    db.migrate(eng)
    eng.dispose()
    return url


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashes():
    """argon2id with its smallest cost in the tests (the clinic server's default
    takes ~0.2 s a hash, by design): the same algorithm and format, checked the same way."""
    try:
        from argon2 import PasswordHasher

        from openpuck.server import auth
    except ImportError:          # no clinic extra: its tests skip
        yield
        return
    saved = auth._hasher, auth.DUMMY_HASH
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    auth.DUMMY_HASH = auth._hasher.hash("not a password")
    yield
    auth._hasher, auth.DUMMY_HASH = saved
