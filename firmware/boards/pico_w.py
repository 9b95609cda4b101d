# Raspberry Pi Pico W (RP2040 + CYW43439): the reference puck.
# Wiring table: docs/hardware.md. Pin numbers are GPIO numbers (GPn).
import sys

from micropython import const

NAME = "pico_w"
ARCH = "armv6m"              # RP2040 (Cortex-M0+): the .mpy and opdetect.mpy it loads
PLATFORM = "rp2"             # sys.platform of its MicroPython port
PARTS = ("lsm6dsox", "fsr", "rgb_led", "buzzer", "usb", "ble")

I2C_ID = const(0)
I2C_SDA = const(4)           # GP4, pin 6
I2C_SCL = const(5)           # GP5, pin 7
I2C_FREQ_HZ = const(400000)
IMU_ADDR = const(0x6A)       # LSM6DSOX SA0/SDO tied to GND
IMU_INT1 = const(6)          # GP6, pin 9 (wired; the sampler is timer driven)
# puck axis i = sign * chip axis: the breakout sits flat, its x to the marked front
IMU_AXES = ((0, 1), (1, 1), (2, 1))

FSR_ADC_PIN = const(26)      # GP26 / ADC0, pin 31
FSR_VREF_MV = const(3300)
FSR_R_FIXED_OHM = const(10000)   # divider resistor from GP26 to GND; FSR from 3V3 to GP26
# Calibration of the pad, divider millivolts -> millinewtons, piecewise linear.
# Nominal table of an FSR 402 class sensor (R = 300 kOhm*N / F) with the
# 10 kOhm divider; replace it with the pad's measured table (docs/hardware.md).
FSR_TABLE = (
    (0, 0), (54, 500), (106, 1000), (206, 2000), (300, 3000), (471, 5000),
    (660, 7500), (825, 10000), (1100, 15000), (1320, 20000), (1500, 25000),
    (1650, 30000), (1886, 40000), (2062, 50000), (2200, 60000), (2357, 75000),
    (2538, 100000), (2661, 125000), (2750, 150000), (2870, 200000),
    (2946, 250000), (3000, 300000), (3070, 400000), (3113, 500000),
)
FORCE_MAX_N = const(500)

LED_R = const(13)            # GP13, pin 17 (through 220 Ohm; common cathode to GND)
LED_G = const(14)            # GP14, pin 19
LED_B = const(15)            # GP15, pin 20
BUZZER = const(16)           # GP16, pin 21: piezo through an NPN low-side switch

TIMER_ID = const(-1)         # rp2 timers are alarm-pool timers, id -1
WDT_TIMEOUT_MS = const(4000)  # the RP2040 allows at most 8388 ms
CONFIG_PATH = "/openpuck.cfg"


def make(hw=None, name=NAME, config_path=CONFIG_PATH, ble=True):
    """The board's parts wired on hw (default openpuck_fw.hw: the real pins)."""
    from openpuck_fw.board import wire
    return wire(sys.modules[__name__], hw, name, config_path, ble)
