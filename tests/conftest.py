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
