"""The puck's parts at the pins of an emulated RP2040 (rp2040py), in CPython.

The register models are the virtual puck's own (boards/sim_lsm6dsox.py,
boards/sim_fsr.py, boards/sim_feed.py, boards/sim_motion.py): one model per
part, run here by the emulator process instead of inside MicroPython. What
this module adds is only the wiring a real board has: the IMU answering on
the I2C0 bus with a byte taking nine bit-times of the bus clock, the force
divider on an ADC input, the flash chip written through to a file (so a
killed emulator is a power cut), and the PWM outputs read back for tests.
"""
from __future__ import annotations

import os
import sys
import types
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parent.parent


def import_firmware_models() -> None:
    """Make the firmware's model modules importable in CPython: they use
    micropython.const (an identity here) and import from boards/ and openpuck_fw/."""
    if "micropython" not in sys.modules:
        shim = types.ModuleType("micropython")
        shim.const = lambda v: v  # type: ignore[attr-defined]
        sys.modules["micropython"] = shim
    if str(FIRMWARE) not in sys.path:
        sys.path.insert(0, str(FIRMWARE))


class EmulatedClock:
    """now_us() of the emulated chip, for the motion feed (boards/sim_feed.py)."""

    def __init__(self, clock) -> None:
        self._clock = clock

    def now_us(self) -> int:
        return int(self._clock.nanos // 1000)


class I2CTarget:
    """A register-model chip on one I2C controller of the RP2040: the first
    byte written after the address is the register pointer, later ones are
    written through it; a read serves the model's bytes, a data block taken
    at once so that the 12 output bytes come from one sample (as BDU makes the
    chip do). Every byte (address included) takes nine SCL periods."""

    def __init__(self, mcu, bus: int, address: int, model) -> None:
        self.i2c = mcu.i2c[bus]
        self.address = address
        self.model = model
        self._clk_hz = 125e6
        self._alarm = mcu.clock.create_alarm(self._fire)
        self._then = None
        self._ptr = 0
        self._first_write = True
        self._block = b""
        self._block_at = 0
        self.transactions = 0
        i2c = self.i2c
        i2c.on_start = self._on_start
        i2c.on_connect = self._on_connect
        i2c.on_write_byte = self._on_write
        i2c.on_read_byte = self._on_read
        i2c.on_stop = self._on_stop

    def _byte_ns(self) -> float:
        period = self.i2c.scl_high_period + self.i2c.scl_low_period
        return 9 * max(period, 1) * 1e9 / self._clk_hz

    def _later(self, fn) -> None:
        self._then = fn
        self._alarm.schedule(self._byte_ns())

    def _fire(self) -> None:
        fn, self._then = self._then, None
        if fn is not None:
            fn()

    def _on_start(self, repeated: bool) -> None:
        self.i2c.complete_start()

    def _on_connect(self, address: int, mode) -> None:
        ack = address == self.address
        if ack:
            self.transactions += 1
            self._first_write = True
            self._block = b""
        self._later(lambda: self.i2c.complete_connect(ack))

    def _on_write(self, value: int) -> None:
        if self._first_write:
            self._first_write = False
            self._ptr = value & 0x7F
        else:
            self.model.write(self._ptr, bytes((value,)))
            if self._auto_increment():
                self._ptr = (self._ptr + 1) & 0x7F
        self._later(lambda: self.i2c.complete_write(True))

    def _auto_increment(self) -> bool:
        return bool(self.model.regs[0x12] & 0x04)   # CTRL3_C.IF_INC

    def _on_read(self, ack: bool) -> None:
        lo, hi = 0x22, 0x2D        # OUTX_L_G .. OUTZ_H_A
        p = self._ptr
        if lo <= p <= hi:
            if not self._block or not (self._block_at <= p < self._block_at + len(self._block)):
                self._block = bytes(self.model.read(p, hi - p + 1))
                self._block_at = p
            value = self._block[p - self._block_at]
        else:
            value = self.model.read(p, 1)[0]
        if self._auto_increment():
            self._ptr = (p + 1) & 0x7F
        self._later(lambda: self.i2c.complete_read(value))

    def _on_stop(self) -> None:
        self._block = b""
        self.i2c.complete_stop()


class ForcePad:
    """The FSR divider on one ADC input: each conversion reads the force the
    motion feed holds now, through the model's divider and 12-bit converter."""

    def __init__(self, mcu, channel: int, fsr_model, force_n) -> None:
        self.adc = mcu.adc
        self.channel = channel
        self.fsr = fsr_model
        self.force_n = force_n
        self.conversions = 0
        self._default = self.adc.on_adc_read
        self.adc.on_adc_read = self._on_read

    def _on_read(self, channel: int) -> None:
        if channel == self.channel:
            self.conversions += 1
            self.adc.channel_values[channel] = self.fsr.read_u16(self.force_n()) >> 4
        self._default(channel)


class FlashFile:
    """The filesystem region of the flash chip, written through to a file on
    every erase and page program as the chip applies it: the file is what
    the flash holds at any instant, so killing the emulator is a power cut
    (the OS keeps what was written; nothing is buffered here)."""

    def __init__(self, mcu, path: Path, start: int, size: int) -> None:
        self.mcu = mcu
        self.path = path
        self.start = start
        self.size = size
        self.writes = 0
        self.cut_after: int | None = None   # power cut right after that many more flash operations
        if path.exists() and path.stat().st_size == size:
            mcu.flash[start:start + size] = path.read_bytes()
        else:
            path.write_bytes(bytes(mcu.flash[start:start + size]))
        self._fd = os.open(path, os.O_RDWR)
        ssi = mcu.ssi if hasattr(mcu, "ssi") else _find_ssi(mcu)
        self._apply = ssi._apply_command
        self._ssi = ssi
        ssi._apply_command = self._apply_command

    def _apply_command(self) -> None:
        buf = bytes(self._ssi._tx_buffer)
        self._apply()
        if len(buf) < 4 or buf[0] not in (0x20, 0xD8, 0x02):   # sector erase, block erase, page program
            return
        addr = (buf[1] << 16) | (buf[2] << 8) | buf[3]
        if buf[0] == 0x02:
            lo, hi = addr, addr + min(len(buf) - 4, 256)
        else:
            span = 4096 if buf[0] == 0x20 else 65536
            lo = addr & ~(span - 1)
            hi = lo + span
        lo, hi = max(lo, self.start), min(hi, self.start + self.size)
        if lo < hi:
            os.pwrite(self._fd, bytes(self.mcu.flash[lo:hi]), lo - self.start)
            self.writes += 1
            if self.cut_after is not None:
                self.cut_after -= 1
                if self.cut_after <= 0:
                    os._exit(137)    # the power goes: nothing after this operation reaches the flash

    def close(self) -> None:
        os.close(self._fd)


def _find_ssi(mcu):
    from rp2040py.peripherals.ssi import RPSSI
    for p in getattr(mcu, "peripherals", {}).values():
        if isinstance(p, RPSSI):
            return p
    raise RuntimeError("rp2040py: no SSI peripheral found (the flash chip's controller)")


def pwm_output(mcu, gpio: int) -> dict:
    """What a PWM-driven pin outputs now: enabled, frequency and duty (0..1)."""
    ch = mcu.pwm.channels[(gpio >> 1) & 7]
    b = gpio & 1
    top = ch.top + 1
    level = (ch.cc >> 16) & 0xFFFF if b else ch.cc & 0xFFFF
    enabled = bool(ch.csr & 1)
    div = ch.timer.prescaler if ch.timer.prescaler else 1
    freq = 125e6 / div / top if enabled else 0.0
    return {"on": enabled and level > 0, "freq_hz": round(freq, 1), "duty": round(min(level / top, 1.0), 4)}


class UsbHost:
    """The host end of the USB serial as a real host drives it: it sends on
    the bulk OUT endpoint only when it has bytes for the device.

    rp2040py's host answers every OUT buffer the device arms at once, with
    an empty packet when it has nothing to send; TinyUSB re-arms the endpoint
    on each, so an idle link costs the chip a USB interrupt and a TinyUSB
    task pass every few microseconds, a load no real host puts on it (a
    bulk OUT endpoint without data from the host stays quiet). Here an armed
    OUT buffer waits for the host's bytes. (Measured on a streaming puck:
    about 28,000 empty packets a device-second, which kept the core from ever
    sleeping and raised the firmware's cpu_load from 0.29 to 0.45:
    docs/hardware.md.)"""

    #: from the host's first byte to its packet: the bytes it writes at once go in one packet
    SEND_DELAY_NS = 10_000

    def __init__(self, mcu, cdc) -> None:
        self.cdc = cdc
        self._parked: tuple[int, int] | None = None
        self._due = False
        usb = cdc.usb
        self._serve = usb.on_endpoint_read
        self._reset = usb.on_reset
        self._send_byte = cdc.send_serial_byte
        self._alarm = mcu.clock.create_alarm(self._send)
        usb.on_endpoint_read = self._on_endpoint_read
        usb.on_reset = self._on_reset
        cdc.send_serial_byte = self._on_host_byte

    def _on_endpoint_read(self, endpoint: int, size: int) -> None:
        if endpoint and endpoint == self.cdc._out_endpoint and not self.cdc.tx_fifo.item_count:
            self._parked = (endpoint, size)
            return
        self._serve(endpoint, size)

    def _on_host_byte(self, value: int) -> None:
        self._send_byte(value)
        if self._parked is not None and not self._due:
            self._due = True
            self._alarm.schedule(self.SEND_DELAY_NS)

    def _send(self) -> None:
        self._due = False
        parked, self._parked = self._parked, None
        if parked is not None:
            self._serve(*parked)

    def _on_reset(self) -> None:
        self._parked = None
        self._due = False
        self._alarm.cancel()
        if self._reset is not None:
            self._reset()
