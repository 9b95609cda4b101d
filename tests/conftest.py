import sys
from pathlib import Path

# tests import helpers as `from tests.toolchain import ...`
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
