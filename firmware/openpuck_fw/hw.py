# The hardware layer of a real board: MicroPython's machine and time modules
# under the names the board files use. The virtual puck (boards/sim.py)
# provides the same names with models in their place; nothing above this
# layer knows which one it runs on.
import time

import machine

from openpuck_fw import msgtable as mt

I2C = machine.I2C
ADC = machine.ADC
Pin = machine.Pin
PWM = machine.PWM
Timer = machine.Timer
WDT = machine.WDT
unique_id = machine.unique_id

flash_open = open   # files on the board's flash (littlefs on rp2): the persistent config

ticks_us = time.ticks_us
ticks_ms = time.ticks_ms
ticks_diff = time.ticks_diff
sleep_ms = time.sleep_ms

IS_SIM = False
BOOT_WINDOW_MS = 1000  # Ctrl-C in this window after reset reaches the REPL (make flash uses it)


def reset_cause():
    """machine.reset_cause() as an enums.reset_cause value (status.reset_cause)."""
    c = machine.reset_cause()
    if c == getattr(machine, "WDT_RESET", -1):
        return mt.RESET_CAUSE_WATCHDOG
    if c == getattr(machine, "SOFT_RESET", -1):
        return mt.RESET_CAUSE_SOFT
    if c == getattr(machine, "BROWNOUT_RESET", -1):
        return mt.RESET_CAUSE_BROWN_OUT
    return mt.RESET_CAUSE_POWER_ON


def reset():
    machine.reset()


# the RP2040 can restart into its USB bootloader; a port without one refuses reboot(bootloader)
bootloader = getattr(machine, "bootloader", None)


def wait(poller, timeout_ms):
    """Sleep until input arrives on the USB link or timeout_ms passes; timer callbacks run meanwhile."""
    poller.poll(timeout_ms)
