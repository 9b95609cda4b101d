# MicroPython, frozen into the qemu port as `m3fw` by tools/m3_firmware.py:
# the firmware's App on the sim board, commands fed in, frames out on the UART.
#
# Under `qemu-system-arm -icount shift=0` one emulated microsecond is 1000
# instructions, so time.ticks_us() counts thousands of instructions. Costs
# are split by difference between whole runs with one part taken out, not by
# wrapping calls: a wrapper costs several times what a detector push does
# here, and the port's microsecond is a thousand instructions wide.
import gc
import sys
import time

from boards import pico_w, sim_hw, sim_motion
from openpuck_fw import app as app_mod

_ticks = time.ticks_us
_diff = time.ticks_diff
_IMU_DATA = 0x22      # OUTX_L_G: the sampler's 12-byte read


class Stop(Exception):
    pass


class Link:
    """The USB link of the app, fed from a byte string; frames out on the UART."""
    name = "usb"

    def __init__(self, commands, stop, end_us, heap_probe):
        self.poller = self
        self.pending = commands
        self.stop = stop
        self.end_us = end_us
        self.heap_probe = heap_probe
        self.out = sys.stdout.buffer
        self.connected = True
        self.state = 0          # 0 commands pending, 1 streaming, 2 stop sent
        self.t_mark = self.t_end = 0
        self.v_mark = self.v_end = 0
        self.next_probe_us = 0
        self.peak_heap = 0

    def poll(self, timeout_ms=0):
        return len(self.pending) > 0

    def read(self, max_bytes=64):
        now = sim_hw.clock().virt_us
        if self.heap_probe and now >= self.next_probe_us:
            gc.collect()
            a = gc.mem_alloc()
            if a > self.peak_heap:
                self.peak_heap = a
            self.next_probe_us = now + 1000000
        if self.state == 0 and not self.pending:
            self.state = 1
            self.t_mark = _ticks()
            self.v_mark = now
        elif self.state == 1 and now >= self.end_us:
            self.state = 2
            self.pending = self.stop
            self.t_end = _ticks()
            self.v_end = now
        elif self.state == 2 and not self.pending:
            raise Stop()
        out = self.pending[:max_bytes]
        self.pending = self.pending[max_bytes:]
        return out

    def write(self, frame, urgent=True):
        self.out.write(frame)

    def flush(self):
        pass


def record_registers(n_samples):
    """Keep what the sampler read (IMU data registers, ADC) for a replay run:
    (imu, adc, [imu bytes, adc bytes] used). The buffers are allocated once,
    up front: grown as they fill, they would not fit the heap."""
    imu = bytearray(12 * n_samples)
    adc = bytearray(2 * n_samples)
    imu_mv = memoryview(imu)
    at = [0, 0]
    read = sim_hw.I2C.readfrom_mem_into
    read_adc = sim_hw.ADC.read_u16

    def rd(self, addr, memaddr, buf, addrsize=8):
        read(self, addr, memaddr, buf, addrsize)
        if memaddr == _IMU_DATA and len(buf) == 12:
            i = at[0]
            imu_mv[i:i + 12] = buf
            at[0] = i + 12

    def ra(self):
        v = read_adc(self)
        i = at[1]
        adc[i] = v & 0xFF
        adc[i + 1] = v >> 8
        at[1] = i + 2
        return v
    sim_hw.I2C.readfrom_mem_into = rd
    sim_hw.ADC.read_u16 = ra
    return imu, adc, at


def replay_registers(imu, adc):
    """The sampler's reads served from a recording of them: a cheap stand-in
    for machine.I2C and machine.ADC, so that the models' soft floating point
    drops out of the count."""
    read = sim_hw.I2C.readfrom_mem_into
    mv = memoryview(imu)
    at = [0, 0]

    def rd(self, addr, memaddr, buf, addrsize=8):
        if memaddr == _IMU_DATA and len(buf) == 12:
            i = at[0]
            buf[:] = mv[i:i + 12]
            at[0] = i + 12
        else:
            read(self, addr, memaddr, buf, addrsize)

    def ra(self):
        i = at[1]
        at[1] = i + 2
        return adc[i] | (adc[i + 1] << 8)
    sim_hw.I2C.readfrom_mem_into = rd
    sim_hw.ADC.read_u16 = ra


class _Null:
    """A detector that never counts: the firmware without detection."""

    def push(self, t, ax, ay, az, gx, gy, gz, f):
        return 0

    def pop(self):
        return None

    def finish(self):
        return 0


def _knock_out(app, part):
    """Take one part of the firmware out (part: "", "detector", "framing", "drain", "firmware")."""
    if part in ("detector", "framing"):
        app.make_detector = lambda *a: None
    if part == "framing":
        app.enc.samples_frame = lambda t0, period, n, buf, nbytes: b""
    if part == "drain":
        s = app.sampler

        def discard():
            s.tail = s.head
        app._drain = discard
    if part == "firmware":
        # the stand-ins alone: the timer fires, the reads happen, the main loop waits
        hw = app.hw
        s = app.sampler
        imu_read = app.imu.i2c.readfrom_mem_into
        addr = app.imu.addr
        buf = bytearray(12)
        adc = app.force.adc

        def tick(_t):
            hw.ticks_us()
            imu_read(addr, _IMU_DATA, buf)
            adc.read_u16()
        s._cb = tick
        link = app.links[0]
        wdt = app.wdt

        def step(wait_ms=20):
            if wdt is not None:
                wdt.feed()
            link.read()
            hw.wait(link, 0)
            return True
        app.step = step
        app._drain = lambda: None


def run(scenario, commands, stop, seconds, rate, impl, regs=None, part="", heap_probe=False, record=False):
    """Boot the app, feed it `commands`, stream `seconds` of device time, send `stop`.

    impl: "c", "twin" or "twin_native". regs: a module with IMU and ADC bytes to replay
    instead of the register models; record: keep the models' reads and send
    them after the stream. part: what to take out (_knock_out)."""
    sim_hw.IS_SIM = False       # no log file on this board: log lines go only to the wire
    sim_hw.setup(float("inf"), sim_motion.scenario(scenario), ())
    sim_hw.clock().ready = True
    if impl == "twin":
        from openpuck_fw import detect
        app_mod.detector_factory = lambda: (detect.make_twin, False, "twin asked for")
    elif impl == "twin_native":
        import m3twin_native  # detect.py through mpy-cross -X emit=native
        app_mod.detector_factory = lambda: (m3twin_native.make_twin, False, "native twin asked for")
    recorded = None
    if regs is None:
        if record:
            recorded = record_registers(int(seconds * rate) + 2 * rate)
    else:
        replay_registers(regs.IMU, regs.ADC)
    board = pico_w.make(sim_hw, name="m3", config_path=None, ble=False)
    link = Link(commands, stop, int(seconds * 1000000), heap_probe)
    board.links = [link]
    app = app_mod.App(board, 0)
    if part:
        app.setup()
        app.setup = lambda: None
        if part == "firmware":
            app.start_stream(rate, 7)
        _knock_out(app, part)
    gc.collect()
    out = sys.stdout.buffer
    out.write(b"<<M3FW-BEGIN>>")
    try:
        app.run()
    except Stop:
        pass
    out.write(b"<<M3FW-END>>")
    if recorded is not None:
        imu, adc, at = recorded
        out.write(b"<<M3FW-REGS %d %d>>" % (at[0], at[1]))
        out.write(memoryview(imu)[:at[0]])
        out.write(memoryview(adc)[:at[1]])
    print("STATS", _diff(link.t_end, link.t_mark), link.v_end - link.v_mark, app.c_detector,
          link.peak_heap, app.sampler.dropped)
    out.write(b"<<M3FW-STATS-END>>")
