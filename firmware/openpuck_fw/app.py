# The puck application: main loop, streaming, events, status.
#
#   timer -> Sampler ring -> _drain(): scale, batch (20 at 200 Hz), detector
#         -> Encoder frames -> link;   link bytes -> FrameDecoder (one per
#         link) -> dispatch.command(): signature (once owned), fields, handler
# Elsewhere: the command handlers (dispatch.py), calibration (calibration.py),
# the detector's life (counting.py), the board's parts and units (board.py).
import struct

from micropython import const

from openpuck_fw import VERSION, calibration, commands, counting, dispatch, eventlog, signing
from openpuck_fw import msgtable as mt
from openpuck_fw.config import Config
from openpuck_fw.counting import FORCE_MN_PER_LSB, detector_factory
from openpuck_fw.feedback import Feedback
from openpuck_fw.protocol import ERROR, FRAME, Encoder, FrameDecoder
from openpuck_fw.sampler import Sampler
from openpuck_fw.signing import Owner

STATUS_PERIOD_US = const(1000000)
IDLE_WAIT_MS = const(50)   # each wake costs ~1.8 ms on the Pico W: docs/hardware.md
MAX_BATCH = const(35)
# device_info.rates_hz: the start command's rates, as bits of enums.rate_hz
RATES_BITS = mt.RATE_HZ_25 | mt.RATE_HZ_50 | mt.RATE_HZ_100 | mt.RATE_HZ_200


class App:
    def __init__(self, board, reset_cause=mt.RESET_CAUSE_POWER_ON):
        hw = board.hw
        self.board = board
        self.hw = hw
        self._ticks_us = hw.ticks_us
        self._ticks_diff = hw.ticks_diff
        self.reset_cause = reset_cause
        self._idle_us = 0                          # idle waits since the last status (_cpu_load)
        self._load_since = board.hw.ticks_us()
        self.config = Config(board.config_path, open_fn=hw.flash_open)
        self.enc = Encoder()
        self.links = board.links
        # a decoder per link: a frame is whole from one link, so the link it
        # came from is known (pair is accepted over USB only)
        self.decs = [FrameDecoder() for _ in board.links]
        self.link = board.links[0] if board.links else None
        self.owner = Owner(self.config)
        self.imu = board.imu
        self.force = board.force
        self.sampler = Sampler(hw, self.imu, self.force, timer_id=board.timer_id)
        self.feedback = Feedback(board.led, board.buzzer, hw.ticks_ms, hw.ticks_diff,
                                 self.config.get(mt.CONFIG_KEY_FEEDBACK))
        self.make_detector, self.c_detector, self.detector_why = detector_factory()
        self.detector = None
        self.det_key = None                        # what the detector was built for (counting.rebuild)
        self.wdt = None
        # device time: microseconds since boot, unwrapped from the 30-bit ticks
        self._last_tick = self._ticks_us()
        self._up_us = self._last_tick
        # streaming state
        self.streaming = False
        self.rate_hz = 0
        self.channels = 7
        self.exercise = self.config.get(mt.CONFIG_KEY_EXERCISE)
        self.target_milli = self.config.get(mt.CONFIG_KEY_TARGET)
        self.on_pct, self.off_pct = commands.thresholds(self.exercise)
        self.reps = self.partials = 0
        self.target_calibrated = False             # a calibration rep set the target
        self.target_sent = self.source_sent = -1   # the last target message's (counting.announce)
        self.gyro_bias = [0, 0, 0]
        self._batch = bytearray(MAX_BATCH * mt.SAMPLE_SIZE)
        self._batch_n = 0
        self._batch_max = 20
        self._batch_t0 = 0
        self._period_us = 5000
        self._next_status_us = 0
        self.cal = None                            # a calibration.Calibration in progress
        self.reboot = None                         # enums.reboot_mode once a reboot was asked for
        self.imu_ok = False                        # the IMU answered at set-up
        # what the links had no room for (the host did not read): status fields
        self.link_dropped_samples = 0
        self.link_dropped_frames = 0
        self._pumps = [link.pump for link in board.links if hasattr(link, "pump")]
        self.evlog = eventlog.start(self)          # the puck's own event log: a boot record

    # ------------------------------------------------------------ time
    def now_us(self, tick=None):
        """Device time in us since boot (unbounded int) of a ticks_us value (default: now)."""
        if tick is None:
            tick = self._ticks_us()
        self._up_us += self._ticks_diff(tick, self._last_tick)
        self._last_tick = tick
        return self._up_us

    # ------------------------------------------------------------ output
    def send(self, type_id, *values):
        """Send a message to the current link. A status the link has no room
        for is dropped (the next one supersedes it) and gives its seq back;
        any other message is lost only when the link's whole queue is full,
        and keeps its seq: the host sees a frame missing."""
        link = self.link
        if link is None:
            return
        urgent = type_id != mt.T_STATUS
        if link.write(self.enc.message(type_id, *values), urgent) is False:
            if urgent:
                self.link_dropped_frames += 1
            else:
                self.enc.take_back()

    def log(self, level, text):
        self.send(mt.T_LOG, level, text)
        if getattr(self.hw, "IS_SIM", False):  # the virtual puck's log file (messages sent before a host connects are lost)
            import sys
            sys.stderr.write("log %d: %s\n" % (level, text))

    def ack(self, t, seq):
        self.send(mt.T_ACK, t, seq)

    def nack(self, t, seq, error, detail=0):
        self.send(mt.T_NACK, t & 0xFF, seq, error, detail)

    def device_info(self):
        ar = self.config.get(mt.CONFIG_KEY_ACCEL_RANGE_G)
        gr = self.config.get(mt.CONFIG_KEY_GYRO_RANGE_DPS)
        ng_per_lsb, udps_per_lsb = self.board.imu_scales(ar, gr)
        caps = self.board.capabilities_parts()
        if self.imu is not None and not self.imu_ok:
            caps &= ~mt.CAPABILITY_IMU
        if self.c_detector:
            caps |= mt.CAPABILITY_C_DETECTOR
        if self.board.config_path:
            caps |= mt.CAPABILITY_PERSISTENT_CONFIG
        if self.wdt is not None:
            caps |= mt.CAPABILITY_WATCHDOG
        if signing.AVAILABLE:
            caps |= mt.CAPABILITY_SIGNING
        if self.owner.owned():
            caps |= mt.CAPABILITY_OWNED
        self.send(mt.T_DEVICE_INFO, VERSION[0], VERSION[1], VERSION[2], mt.PROTOCOL_VERSION,
                  caps, ar, gr, self.board.force_max_n,
                  ng_per_lsb / 1e9, udps_per_lsb / 1e6, FORCE_MN_PER_LSB / 1000,
                  max(mt.START_RATE_HZ_VALUES), RATES_BITS, self.board.name, self.board.serial)

    def status(self):
        mv, pct = self.board.battery() if self.board.battery else (0, 0)
        self.send(mt.T_STATUS, mv, pct, self.sampler.dropped & 0xFFFFFFFF,
                  (self.now_us() // 1000) & 0xFFFFFFFF, 1 if self.streaming else 0,
                  self.exercise, self.reps & 0xFFFF, self.partials & 0xFFFF,
                  self.rx_errors() & 0xFFFF, self.reset_cause, self._cpu_load(),
                  self.link_dropped_samples & 0xFFFFFFFF, min(self.link_dropped_frames, 0xFFFF),
                  counting.target(self) & 0xFFFFFFFF)

    def _cpu_load(self):
        """Thousandths of the time since the last status the firmware worked:
        all of it but the idle waits of the main loop, less the sampler's
        callbacks that ran inside those waits. On the puck that is the share
        of the core it needs (MicroPython on rp2 spins in its idle loop, so
        the chip itself never says)."""
        hw = self.hw
        now = hw.ticks_us()
        span = hw.ticks_diff(now, self._load_since)
        idle = self._idle_us
        self._load_since = now
        self._idle_us = 0
        if span <= 0:
            return 0xFFFF
        load = 1000 - idle * 1000 // span
        return 0 if load < 0 else (1000 if load > 1000 else load)

    def rx_errors(self):
        """Command frames rejected (CRC, COBS, length, version) on every link."""
        return sum(d.rx_errors for d in self.decs)

    # ------------------------------------------------------------ set-up
    def setup(self):
        import micropython
        try:
            micropython.kbd_intr(-1)   # frames may hold 0x03
        except (AttributeError, ValueError):
            pass
        if self.imu is not None:
            self.imu_ok = self.imu.identify()
            if self.imu_ok:
                self.imu.reset(self.hw.sleep_ms)
                self.imu_rate(0)
        if self.board.wdt_timeout_ms:
            try:
                self.wdt = self.hw.WDT(timeout=self.board.wdt_timeout_ms)
            except (AttributeError, ValueError, OSError):
                self.wdt = None
        self.device_info()
        self.log(mt.LOG_LEVEL_INFO, "boot %s reset_cause=%d config=%s owner=%s imu=%s detector=%s%s" % (
            self.board.name, self.reset_cause, self.config.loaded_from,
            "yes" if self.owner.owned() else ("no" if signing.AVAILABLE else "unsupported"),
            "ok" if self.imu_ok else "missing",
            "c" if self.c_detector else ("twin" if self.make_detector else "none"),
            " (%s)" % self.detector_why if self.detector_why else ""))

    def imu_rate(self, rate_hz):
        """Set the IMU (when it answered) to the config's full scales and an
        ODR for rate_hz samples a second (0: off)."""
        if self.imu is None or not self.imu_ok:
            return
        self.imu.configure(self.config.get(mt.CONFIG_KEY_ACCEL_RANGE_G),
                           self.config.get(mt.CONFIG_KEY_GYRO_RANGE_DPS),
                           self.board.imu_odr(rate_hz) if rate_hz else 0)

    # ------------------------------------------------------------ streaming
    def start_stream(self, rate_hz, channels):
        self.stop_stream()
        self.rate_hz = rate_hz
        self.channels = channels
        self._period_us = 1000000 // rate_hz
        self._batch_max = max(1, rate_hz // 10)
        self.imu_rate(rate_hz)
        counting.rebuild(self, rate_hz)
        self.device_info()
        self.streaming = True
        self._batch_n = 0
        self._next_status_us = self.now_us() + STATUS_PERIOD_US
        counting.begin(self)   # a set_start record, the stream's first target message
        self.sampler.start(rate_hz)

    def stop_stream(self):
        was = self.streaming
        calibration.cancel(self)
        self.sampler.stop()
        if was:
            self._drain()
            counting.finish(self)
        self.streaming = False
        self.imu_rate(0)

    def flush_batch(self):
        n = self._batch_n
        if n == 0:
            return
        self._batch_n = 0
        link = self.link
        if link is not None and link.write(self.enc.samples_frame(
                self._batch_t0, self._period_us, n, self._batch, n * mt.SAMPLE_SIZE), False) is False:
            # the host is not reading: the frame is dropped whole and its seq
            # given back, so the host sees the hole in device time (a Gap of
            # these samples), not a lost frame
            self.enc.take_back()
            self.link_dropped_samples += n

    def _drain(self):
        """Move every sample in the ring through scaling, batching and the detector.

        The hot loop of the firmware (200 times a second): names are local,
        the axis loop is unrolled and the time unwrap is inline, because on a
        Cortex-M each attribute lookup and Python call costs hundreds of
        instructions (tools/m3_firmware.py measures it)."""
        s = self.sampler
        if s.tail == s.head:
            return
        size = s.size
        imu_data = s.imu_data
        ticks = s.ticks
        force_raw = s.force_raw
        gaps = s.gap
        (a0, s0), (a1, s1), (a2, s2) = self.board.imu_axes
        force = self.force
        to_mn = force.raw_to_mn if force is not None else None
        b0, b1, b2 = self.gyro_bias
        mn_per_lsb = FORCE_MN_PER_LSB
        ch = self.channels
        keep_accel = ch & mt.CHANNEL_ACCEL
        keep_gyro = ch & mt.CHANNEL_GYRO
        keep_force = ch & mt.CHANNEL_FORCE
        det = self.detector
        unpack = struct.unpack_from
        pack = struct.pack_into
        fmt = mt.SAMPLE_FMT
        ssize = mt.SAMPLE_SIZE
        batch = self._batch
        batch_max = self._batch_max
        diff = self._ticks_diff
        while s.tail != s.head:
            i = s.tail
            tick = ticks[i]
            self._up_us += diff(tick, self._last_tick)
            self._last_tick = tick
            t_us = self._up_us & 0xFFFFFFFF
            chip = unpack("<hhhhhh", imu_data, i * 12)  # gx gy gz ax ay az
            ax = chip[3 + a0] * s0
            ay = chip[3 + a1] * s1
            az = chip[3 + a2] * s2
            gx = chip[a0] * s0 - b0
            gy = chip[a1] * s1 - b1
            gz = chip[a2] * s2 - b2
            # a chip axis read as -32768 and flipped is one past int16
            if ax > 32767:
                ax = 32767
            if ay > 32767:
                ay = 32767
            if az > 32767:
                az = 32767
            if gx > 32767 or gx < -32768:
                gx = 32767 if gx > 0 else -32768
            if gy > 32767 or gy < -32768:
                gy = 32767 if gy > 0 else -32768
            if gz > 32767 or gz < -32768:
                gz = 32767 if gz > 0 else -32768
            fc = 0
            if to_mn is not None:
                fc = to_mn(force_raw[i]) // mn_per_lsb
                if fc > 65535:
                    fc = 65535
            gap = gaps[i]
            s.tail = i + 1 if i + 1 < size else 0
            cal = self.cal
            if cal is not None and cal.add(gx + b0, gy + b1, gz + b2, force_raw[i]):
                calibration.finish(self, cal)
            if not self.streaming:
                continue
            n = self._batch_n
            if n and (gap or n >= batch_max):
                self.flush_batch()
                n = 0
            if n == 0:
                self._batch_t0 = t_us
            if not keep_accel:
                ax = ay = az = 0
            if not keep_gyro:
                gx = gy = gz = 0
            if not keep_force:
                fc = 0
            pack(fmt, batch, n * ssize, ax, ay, az, gx, gy, gz, fc)
            n += 1
            self._batch_n = n
            if n >= batch_max:
                self.flush_batch()
            if det is not None:
                if det.push(t_us, ax, ay, az, gx, gy, gz, fc):
                    counting.events(self, det)

    # ------------------------------------------------------------ main loop
    def _receive(self):
        for i in range(len(self.links)):
            link = self.links[i]
            dec = self.decs[i]
            data = link.read()
            for b in data:
                r = dec.feed_byte(b)
                if r == FRAME:
                    # answers go to the link the command came from; the
                    # stream follows it as _command() says
                    stream_link = self.link
                    self.link = link
                    if not dispatch.command(self, dec.type, dec.seq, dec.payload, link, stream_link):
                        self.link = stream_link
                elif r == ERROR and not self.owner.owned():
                    self.link = link

    def step(self, wait_ms=IDLE_WAIT_MS):
        """One pass of the main loop."""
        if self.wdt is not None:
            self.wdt.feed()
        self._receive()
        if self.sampler.running():
            self._drain()
        if self.streaming:
            now = self.now_us()
            if now >= self._next_status_us:
                self._next_status_us = now + STATUS_PERIOD_US
                counting.announce(self)   # a change no event carried (none known: a safety net)
                self.status()
        self.feedback.tick()
        for pump in self._pumps:
            pump()   # what waited for the host goes out as soon as it reads again
        if self.reboot is not None:
            return False
        usb = self.links[0] if self.links else None
        poller = getattr(usb, "poller", None)
        if poller is not None:
            hw = self.hw
            sampler = self.sampler
            cb0 = sampler.busy_us
            t0 = hw.ticks_us()
            hw.wait(poller, 0 if sampler.available() else self.feedback.wait_ms(wait_ms))
            waited = hw.ticks_diff(hw.ticks_us(), t0) - ((sampler.busy_us - cb0) & 0x3FFFFFFF)
            if waited > 0:
                self._idle_us += waited
        return True

    def run(self):
        self.setup()
        while self.step():
            pass
        mode = self.reboot
        self.stop_stream()
        self.feedback.off()
        for link in self.links:
            link.flush()
        if mode == mt.REBOOT_MODE_BOOTLOADER:
            self.hw.bootloader()
        self.hw.reset()
