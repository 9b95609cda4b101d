# The virtual puck: a Pico W puck (boards/pico_w.py, unchanged) wired on the
# models of boards/sim_hw.py, run by MicroPython's unix port. The launcher
# (openpuck.device.sim on the host) hands the pseudo-terminal over as stdin/stdout
# and sets, in the environment:
#   OPENPUCK_SIM_SPEED        1.0 (default), any factor, or "inf"/"max"
#   OPENPUCK_SIM_RECORDING    a samples CSV to play, or
#   OPENPUCK_SIM_SCENARIO     a built-in scenario (boards/sim_motion.py), or
#                             "patient": does whatever exercise it is set to
#   OPENPUCK_SIM_STATE        directory of the persistent config (flash) and of
#                             the puck's unique id (its serial): one per folder
#   OPENPUCK_SIM_RESET_CAUSE  enums.reset_cause: 0 power-on, 1 soft reset, 2 watchdog
#   OPENPUCK_SIM_FAULTS       comma list: no_imu, skip_ticks, flash_full, small_log (boards/sim_hw.py FAULTS)
#   OPENPUCK_SIM_NATMOD       a directory holding opdetect.mpy (x64): the C
#                             detector, as a puck with it on its filesystem
#   OPENPUCK_SIM_HEAP_MS      report the heap every that many ms (sim_hw.wait)
import os
import sys

from boards import pico_w, sim_hw, sim_motion

NAME = "sim"
ARCH = "x64"         # the unix port on the host: OPENPUCK_SIM_NATMOD's opdetect.mpy
PLATFORM = "linux"   # main.py runs it where no board_config.py names a board
PARTS = pico_w.PARTS


def _env(name, default=""):
    v = os.getenv(name)
    return v if v is not None else default


def unique_id(state):
    """The 8-byte unique id (the serial device_info reports) of the puck whose
    flash is the folder ``state``: made at random on its first start and kept
    there, so it outlives reboots and each virtual puck is a puck of its own
    (a pairing owns one, not all). Without a folder: a new one each start."""
    path = state + "/unique_id" if state else None
    if path:
        try:
            with open(path, "rb") as f:
                u = f.read()
            if len(u) == 8:
                return u
        except OSError:
            pass
    u = os.urandom(8)
    if path:
        try:   # written whole then renamed, as the config is: never a torn id
            with open(path + ".tmp", "wb") as f:
                f.write(u)
            os.rename(path + ".tmp", path)
        except OSError:
            pass   # a read-only folder: this start's id only
    return u


def make():
    speed_s = _env("OPENPUCK_SIM_SPEED", "1.0")
    speed = float("inf") if speed_s in ("inf", "max") else float(speed_s)
    recording = _env("OPENPUCK_SIM_RECORDING")
    scenario = _env("OPENPUCK_SIM_SCENARIO")
    if recording:
        motion = sim_motion.Recording(recording)
    elif scenario:
        motion = sim_motion.scenario(scenario)
    else:
        motion = None   # lying still, flat
    faults = tuple(f for f in _env("OPENPUCK_SIM_FAULTS").split(",") if f)
    natmod = _env("OPENPUCK_SIM_NATMOD")
    if natmod and natmod not in sys.path:
        sys.path.append(natmod)
    state = _env("OPENPUCK_SIM_STATE")
    sim_hw.setup(speed, motion, faults, unique=unique_id(state),
                 reset_cause=int(_env("OPENPUCK_SIM_RESET_CAUSE", "0")),
                 heap_ms=int(_env("OPENPUCK_SIM_HEAP_MS", "0")))
    path = state + "/openpuck.cfg" if state else None
    board = pico_w.make(sim_hw, name=NAME, config_path=path, ble=False)
    # at speed max the clock stands still while the puck waits for the host:
    # it runs at the host's pace, and a full link means wait, not drop
    board.links[0].wait_for_host = speed == float("inf")
    if "small_log" in faults:
        board.log_bytes = sim_hw.SMALL_LOG
    if isinstance(motion, sim_motion.Patient):
        board.on_exercise = motion.on_exercise   # the patient does what the host asks
    return board
