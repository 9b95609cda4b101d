import sys
from pathlib import Path

# tests import helpers as `from tests.toolchain import ...`
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# tests/firmware/ holds scripts that run under MicroPython (and CPython as an
# oracle); tests/test_firmware_*.py runs them. pytest must not import them.
collect_ignore_glob = ["firmware/*"]
