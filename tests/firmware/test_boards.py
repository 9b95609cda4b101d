# runs on: micropython
# A board file is data (NAME, ARCH, PLATFORM, PARTS, pins); openpuck_fw.board
# wires the parts it lists, and gives the app the IMU's units, so the app
# knows no IMU driver. main.py picks the board file by name or platform.
import sys

from boards import esp32s3_devkit, pico_w, sim_hw
from fwtest import check, done, eq, raises
from openpuck_fw import board as fwboard
from openpuck_fw.drivers.fsr import FSR
from openpuck_fw.drivers.hx711 import HX711
from openpuck_fw.drivers.lsm6dsox import LSM6DSOX

sim_hw.setup()
b = pico_w.make(sim_hw, config_path=None, ble=False)
eq("pico_w: its name", b.name, "pico_w")
check("pico_w: an LSM6DSOX and an FSR pad", isinstance(b.imu, LSM6DSOX) and isinstance(b.force, FSR))
check("pico_w: LED, buzzer, one USB link", b.led is not None and b.buzzer is not None
      and [link.name for link in b.links] == ["usb"])
eq("the board gives the IMU's units: 4 g, 500 dps -> ng and micro-dps per LSB", b.imu_scales(4, 500), (122000, 17500))
eq("... at 16 g, 2000 dps", b.imu_scales(16, 2000), (488000, 70000))
eq("the board gives the IMU's ODR for a sampling rate", b.imu_odr(200), 416)

e = esp32s3_devkit.make(sim_hw, config_path=None, ble=False)
check("esp32s3_devkit: a load cell (HX711), no FSR", isinstance(e.force, HX711))
eq("esp32s3_devkit: its own IMU axes", e.imu_axes, esp32s3_devkit.IMU_AXES)


class Bare:
    NAME = "bare"
    PARTS = ("usb",)
    TIMER_ID = -1
    WDT_TIMEOUT_MS = 4000


n = fwboard.wire(Bare, sim_hw, "bare", None, False)
check("a board without an IMU: none, and no units", n.imu is None and n.imu_scales(4, 500) == (0, 0))
eq("... its capabilities: USB only", n.capabilities_parts(), fwboard.mt.CAPABILITY_USB)
Bare.PARTS = ("usb", "lsm6dsx")
err = raises("an unknown part is refused", ValueError, fwboard.wire, Bare, sim_hw, "bare", None, False)
check("... naming the board and the part", err is not None and "bare" in str(err) and "lsm6dsx" in str(err), err)

for mod in (pico_w, esp32s3_devkit):
    check("%s declares ARCH, PLATFORM and known PARTS" % mod.NAME,
          mod.ARCH and mod.PLATFORM and all(p in fwboard.KNOWN_PARTS for p in mod.PARTS))

# main.py without its last line (main()): its board choice
src = open("firmware/main.py").read()
g = {"__name__": "main_under_test"}
exec(src[:src.rindex("main()")], g)
eq("main.py: no board_config.py on the unix port -> the board file of platform linux",
   g["board_module"]().NAME, "sim")
eq("main.py: a board by name", g["load_board"]("esp32s3_devkit").ARCH, "xtensawin")
raises("main.py: an unknown board name", ImportError, g["load_board"], "pico_x")
check("unix port", sys.platform == "linux")
done()
