"""The OpenPuck HIL suite's pytest plugin (hil_tests/plugin.py): --puck, --rig,
--hil-short, --hil-duration, the puck fixtures, needs markers and the reports."""
from hil_tests.plugin import *  # noqa: F401,F403
