# The hardware layer of a real board: MicroPython's machine and time modules
# under the names the board files use. The virtual puck (boards/sim.py)
# provides the same names with models in their place; nothing above this
# layer knows which one it runs on.
import sys
import time

import machine
from micropython import const

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


# rp2: machine.reset() reboots through the watchdog (pico-sdk watchdog_reboot),
# so reset_cause() says WDT_RESET after a reboot asked for too. The SDK's
# watchdog_enable() (machine.WDT) leaves this mark in watchdog scratch 4, which
# a watchdog reboot keeps and watchdog_reboot() clears: only a timeout keeps it.
_RP2_WATCHDOG_SCRATCH4 = const(0x4005801C)
_RP2_NON_REBOOT_MAGIC = const(0x6AB73121)


def reset_cause():
    """machine.reset_cause() as an enums.reset_cause value (status.reset_cause).
    Read it before the watchdog starts (on rp2 starting it writes the mark)."""
    c = machine.reset_cause()
    if c == getattr(machine, "WDT_RESET", -1):
        if sys.platform == "rp2" and machine.mem32[_RP2_WATCHDOG_SCRATCH4] & 0xFFFFFFFF != _RP2_NON_REBOOT_MAGIC:
            return mt.RESET_CAUSE_SOFT   # machine.reset(): a reboot asked for
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
