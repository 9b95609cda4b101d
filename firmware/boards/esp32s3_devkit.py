# Espressif ESP32-S3-DevKitC-1: the load-cell puck (HX711 instead of an FSR).
# Wiring table: docs/hardware.md. Pin numbers are GPIO numbers.
from micropython import const

NAME = "esp32s3_devkit"

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
    if hw is None:
        from openpuck_fw import hw as hw_real
        hw = hw_real
    from boards.pico_w import add_ble
    from openpuck_fw.board import Board, serial_of
    from openpuck_fw.drivers.buzzer import Buzzer
    from openpuck_fw.drivers.hx711 import HX711
    from openpuck_fw.drivers.led import RGBLed
    from openpuck_fw.drivers.lsm6dsox import LSM6DSOX
    from openpuck_fw.links import UsbLink

    b = Board(name, hw)
    b.serial = serial_of(hw)
    i2c = hw.I2C(I2C_ID, sda=hw.Pin(I2C_SDA), scl=hw.Pin(I2C_SCL), freq=I2C_FREQ_HZ)
    b.imu = LSM6DSOX(i2c, IMU_ADDR)
    b.imu_axes = IMU_AXES
    b.force = HX711(hw.Pin(HX711_DOUT, hw.Pin.IN), hw.Pin(HX711_SCK, hw.Pin.OUT),
                    HX711_GAIN, HX711_MN_PER_KCOUNT)
    b.force_max_n = FORCE_MAX_N
    b.led = RGBLed(hw.PWM(hw.Pin(LED_R)), hw.PWM(hw.Pin(LED_G)), hw.PWM(hw.Pin(LED_B)))
    b.buzzer = Buzzer(hw.PWM(hw.Pin(BUZZER)))
    b.timer_id = TIMER_ID
    b.wdt_timeout_ms = WDT_TIMEOUT_MS
    b.config_path = config_path
    b.ble_name = "OpenPuck-" + b.serial[-4:]
    b.links = [UsbLink()]
    if ble:
        add_ble(b)
    return b
