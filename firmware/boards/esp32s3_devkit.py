# Espressif ESP32-S3-DevKitC-1: the load-cell puck (HX711 instead of an FSR).
# Wiring table: docs/hardware.md. Pin numbers are GPIO numbers.
import sys

from micropython import const

NAME = "esp32s3_devkit"
ARCH = "xtensawin"           # ESP32-S3 (Xtensa LX7): the .mpy and opdetect.mpy it loads
PLATFORM = "esp32"           # sys.platform of its MicroPython port
PARTS = ("lsm6dsox", "hx711", "rgb_led", "buzzer", "usb", "ble")

I2C_ID = const(0)
I2C_SDA = const(8)
I2C_SCL = const(9)
I2C_FREQ_HZ = const(400000)
IMU_ADDR = const(0x6A)
IMU_INT1 = const(7)
# the breakout is turned 90 degrees on this carrier: puck x = chip y, puck y = -chip x
IMU_AXES = ((1, 1), (0, -1), (2, 1))

HX711_DOUT = const(4)
HX711_SCK = const(5)
HX711_GAIN = const(128)
# calibration: millinewtons per 1000 counts (a 50 kg cell at 1 mV/V on 3.3 V: 490 N = 3.3 mV = 1.38 M counts at gain 128);
# measure with a known weight and put the result here (docs/hardware.md)
HX711_MN_PER_KCOUNT = const(354)
FORCE_MAX_N = const(500)

LED_R = const(10)
LED_G = const(11)
LED_B = const(12)
BUZZER = const(13)

TIMER_ID = const(0)          # hardware timer group 0, timer 0
WDT_TIMEOUT_MS = const(4000)
CONFIG_PATH = "/openpuck.cfg"


def make(hw=None, name=NAME, config_path=CONFIG_PATH, ble=True):
    """The board's parts wired on hw (default openpuck_fw.hw: the real pins)."""
    from openpuck_fw.board import wire
    return wire(sys.modules[__name__], hw, name, config_path, ble)
