# What a board file hands to the app: its parts, already wired.


class Board:
    def __init__(self, name, hw):
        self.name = name
        self.hw = hw
        self.serial = ""
        self.imu = None
        self.imu_axes = ((0, 1), (1, 1), (2, 1))  # puck axis i = sign * chip axis
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
        from openpuck_fw import msgtable as mt
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


def serial_of(hw):
    try:
        return "".join("%02x" % b for b in hw.unique_id())
    except (AttributeError, OSError):
        return ""
