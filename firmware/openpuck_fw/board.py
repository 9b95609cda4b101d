# What a board file hands to the app: its parts, already wired.
#
# A board file (firmware/boards/<name>.py) is data: NAME, ARCH (the
# MicroPython architecture its .mpy files are built for: tools/flash.py and
# tools/natmod.py read it), PLATFORM (sys.platform of its port: main.py's
# choice when no board_config.py says), PARTS (the parts wire() builds), their
# pins and calibration; its make() calls wire() here, which every board shares.
from openpuck_fw import msgtable as mt

# part names a board's PARTS may hold; each needs the board constants wire() reads for it
KNOWN_PARTS = ("lsm6dsox", "fsr", "hx711", "rgb_led", "buzzer", "usb", "ble")


class Board:
    def __init__(self, name, hw):
        self.name = name
        self.hw = hw
        self.serial = ""
        self.imu = None
        self.imu_axes = ((0, 1), (1, 1), (2, 1))  # puck axis i = sign * chip axis
        # (accel_range_g, gyro_range_dps) -> (ng per LSB, micro-dps per LSB): the IMU's units
        self.imu_scales = _no_scales
        self.imu_odr = _no_odr                    # sampling rate in Hz -> the IMU's ODR setting
        self.force = None
        self.force_max_n = 500
        self.led = None
        self.buzzer = None
        self.links = []
        self.config_path = "/openpuck.cfg"
        self.timer_id = -1
        self.wdt_timeout_ms = 4000
        self.battery = None                       # callable -> (mV, %), or None on USB power
        self.ble_name = "OpenPuck"
        self.on_exercise = None                   # the virtual puck's patient: told each set_exercise

    def capabilities_parts(self):
        caps = 0
        if self.imu is not None:
            caps |= mt.CAPABILITY_IMU
        if self.force is not None:
            caps |= mt.CAPABILITY_FORCE
        if self.led is not None:
            caps |= mt.CAPABILITY_LED
        if self.buzzer is not None:
            caps |= mt.CAPABILITY_BUZZER
        for link in self.links:
            caps |= mt.CAPABILITY_BLE if link.name == "ble" else mt.CAPABILITY_USB
        return caps


def _no_scales(accel_range_g, gyro_range_dps):
    return 0, 0


def _no_odr(rate_hz):
    return 0


def serial_of(hw):
    try:
        return "".join("%02x" % b for b in hw.unique_id())
    except (AttributeError, OSError):
        return ""


def wire(spec, hw, name, config_path, ble):
    """A Board from a board file's module `spec` (its PARTS and their pins) on
    the hardware layer `hw` (None: openpuck_fw.hw), called `name`, its config
    saved at config_path (None: nowhere); ble=False leaves BLE off."""
    if hw is None:
        from openpuck_fw import hw as hw_real
        hw = hw_real
    parts = spec.PARTS
    for p in parts:
        if p not in KNOWN_PARTS:
            raise ValueError("board %s: part %r is not one of %s" % (spec.NAME, p, ", ".join(KNOWN_PARTS)))
    b = Board(name, hw)
    b.serial = serial_of(hw)
    if "lsm6dsox" in parts:
        from openpuck_fw.drivers import lsm6dsox
        i2c = hw.I2C(spec.I2C_ID, sda=hw.Pin(spec.I2C_SDA), scl=hw.Pin(spec.I2C_SCL), freq=spec.I2C_FREQ_HZ)
        b.imu = lsm6dsox.LSM6DSOX(i2c, spec.IMU_ADDR)
        b.imu_axes = spec.IMU_AXES
        b.imu_scales = lsm6dsox.scales
        b.imu_odr = lsm6dsox.odr_for_rate
    if "fsr" in parts:
        from openpuck_fw.drivers.fsr import FSR
        b.force = FSR(hw.ADC(hw.Pin(spec.FSR_ADC_PIN)), spec.FSR_TABLE, spec.FSR_VREF_MV)
    if "hx711" in parts:
        from openpuck_fw.drivers.hx711 import HX711
        b.force = HX711(hw.Pin(spec.HX711_DOUT, hw.Pin.IN), hw.Pin(spec.HX711_SCK, hw.Pin.OUT),
                        spec.HX711_GAIN, spec.HX711_MN_PER_KCOUNT)
    if b.force is not None:
        b.force_max_n = spec.FORCE_MAX_N
    if "rgb_led" in parts:
        from openpuck_fw.drivers.led import RGBLed
        b.led = RGBLed(hw.PWM(hw.Pin(spec.LED_R)), hw.PWM(hw.Pin(spec.LED_G)), hw.PWM(hw.Pin(spec.LED_B)))
    if "buzzer" in parts:
        from openpuck_fw.drivers.buzzer import Buzzer
        b.buzzer = Buzzer(hw.PWM(hw.Pin(spec.BUZZER)))
    b.timer_id = spec.TIMER_ID
    b.wdt_timeout_ms = spec.WDT_TIMEOUT_MS
    b.config_path = config_path
    b.ble_name = "OpenPuck-" + b.serial[-4:]
    if "usb" in parts:
        from openpuck_fw.links import UsbLink
        b.links.append(UsbLink())
    if ble and "ble" in parts:
        add_ble(b)
    return b


def add_ble(b):
    """Add the BLE link if the firmware has bluetooth and the config allows it."""
    try:
        import bluetooth  # noqa: F401
    except ImportError:
        return
    from openpuck_fw.config import Config
    if not Config(b.config_path).get(mt.CONFIG_KEY_BLE_ENABLED):
        return
    from openpuck_fw.ble import BleLink
    try:
        b.links.append(BleLink(b.ble_name))
    except OSError:
        pass
