# The puck application: main loop, streaming, events, commands, status.
#
#   timer -> Sampler ring -> _drain(): scale, batch (20 at 200 Hz), detector
#         -> Encoder frames -> link;   link bytes -> FrameDecoder (one per
#         link) -> _command(): signature (once owned), fields, _handle()
import struct

from micropython import const

from openpuck_fw import VERSION, commands, msgtable as mt, signing
from openpuck_fw.commands import Nack
from openpuck_fw.config import Config
from openpuck_fw.feedback import Feedback
from openpuck_fw.protocol import ERROR, FRAME, Encoder, FrameDecoder
from openpuck_fw.sampler import Sampler
from openpuck_fw.signing import Owner

FORCE_MN_PER_LSB = const(50)       # samples.force: 0.05 N per count
STATUS_PERIOD_US = const(1000000)
IDLE_WAIT_MS = const(20)
CAL_SAMPLES = const(100)
CAL_STILL_UDPS = const(3000000)    # gyro spread above 3 dps: the puck moved during calibrate
MAX_BATCH = const(35)
# device_info.rates_hz: the start command's rates, as bits of enums.rate_hz
RATES_BITS = mt.RATE_HZ_25 | mt.RATE_HZ_50 | mt.RATE_HZ_100 | mt.RATE_HZ_200


def detector_factory():
    """(make_detector, is_c, why) from the C detector (a user C module or
    opdetect.mpy), else the MicroPython twin, else (None, False, why).

    Any failure to load the C detector (absent, an .mpy for another
    architecture or ABI, out of memory) falls back to the twin; why says what
    happened, for the boot log."""
    why = ""
    try:
        import opdetect  # type: ignore[import-not-found]
        return opdetect.make_detector, True, ""
    except ImportError:
        why = "no opdetect module"
    except Exception as e:  # noqa: BLE001 - e.g. ValueError: incompatible .mpy arch
        why = "opdetect failed to load: %r" % (e,)
    try:
        from openpuck_fw import detect  # type: ignore[attr-defined]
        return detect.make_twin, False, why
    except ImportError as e:
        return None, False, "%s; no twin: %r" % (why, e)


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
        self.config = Config(board.config_path)
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
        self._det_key = None
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
        self.reps = 0
        self.partials = 0
        self.gyro_bias = [0, 0, 0]
        self._batch = bytearray(MAX_BATCH * mt.SAMPLE_SIZE)
        self._batch_n = 0
        self._batch_max = 20
        self._batch_t0 = 0
        self._period_us = 5000
        self._next_status_us = 0
        self._cal = None
        self._reboot = None
        self._imu_ok = False
        self._row = [0, 0, 0, 0, 0, 0, 0]
        # what the links had no room for (the host did not read): status fields
        self.link_dropped_samples = 0
        self.link_dropped_frames = 0
        self._pumps = [link.pump for link in board.links if hasattr(link, "pump")]

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
        imu = self.imu
        ar = self.config.get(mt.CONFIG_KEY_ACCEL_RANGE_G)
        gr = self.config.get(mt.CONFIG_KEY_GYRO_RANGE_DPS)
        from openpuck_fw.drivers.lsm6dsox import ACCEL_FS, GYRO_FS
        caps = self.board.capabilities_parts()
        if imu is not None and not self._imu_ok:
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
                  ACCEL_FS[ar][1] / 1e9, GYRO_FS[gr][1] / 1e6, FORCE_MN_PER_LSB / 1000,
                  max(mt.START_RATE_HZ_VALUES), RATES_BITS, self.board.name, self.board.serial)

    def status(self):
        mv, pct = self.board.battery() if self.board.battery else (0, 0)
        self.send(mt.T_STATUS, mv, pct, self.sampler.dropped & 0xFFFFFFFF,
                  (self.now_us() // 1000) & 0xFFFFFFFF, 1 if self.streaming else 0,
                  self.exercise, self.reps & 0xFFFF, self.partials & 0xFFFF,
                  self.rx_errors() & 0xFFFF, self.reset_cause, self._cpu_load(),
                  self.link_dropped_samples & 0xFFFFFFFF, min(self.link_dropped_frames, 0xFFFF))

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
            self._imu_ok = self.imu.identify()
            if self._imu_ok:
                self.imu.reset(self.hw.sleep_ms)
                self._configure_imu(0)
        if self.board.wdt_timeout_ms:
            try:
                self.wdt = self.hw.WDT(timeout=self.board.wdt_timeout_ms)
            except (AttributeError, ValueError, OSError):
                self.wdt = None
        self.device_info()
        self.log(mt.LOG_LEVEL_INFO, "boot %s reset_cause=%d config=%s owner=%s imu=%s detector=%s%s" % (
            self.board.name, self.reset_cause, self.config.loaded_from,
            "yes" if self.owner.owned() else ("no" if signing.AVAILABLE else "unsupported"),
            "ok" if self._imu_ok else "missing",
            "c" if self.c_detector else ("twin" if self.make_detector else "none"),
            " (%s)" % self.detector_why if self.detector_why else ""))

    def _configure_imu(self, rate_hz):
        from openpuck_fw.drivers.lsm6dsox import odr_for_rate
        self.imu.configure(self.config.get(mt.CONFIG_KEY_ACCEL_RANGE_G),
                           self.config.get(mt.CONFIG_KEY_GYRO_RANGE_DPS),
                           odr_for_rate(rate_hz) if rate_hz else 0)

    def _new_detector(self, rate_hz):
        """(Re)build the detector when its parameters changed; counts restart."""
        if self.make_detector is None:
            self.detector = None
            return
        imu = self.imu
        accel_lsb_per_g = (1000000000 + imu.accel_ng_per_lsb() // 2) // imu.accel_ng_per_lsb() if imu else 8192
        gyro_lsb_x1000 = (1000000000 + imu.gyro_udps_per_lsb() // 2) // imu.gyro_udps_per_lsb() if imu else 65536
        key = (self.exercise, self.target_milli, self.on_pct, self.off_pct, rate_hz,
               accel_lsb_per_g, gyro_lsb_x1000)
        if key == self._det_key and self.detector is not None:
            return
        self._det_key = key
        args = (self.exercise, self.target_milli, self.on_pct, self.off_pct, rate_hz, accel_lsb_per_g,
                gyro_lsb_x1000, FORCE_MN_PER_LSB)
        try:
            self.detector = self.make_detector(*args)
        except ValueError as e:
            if not self.c_detector:
                raise
            # an opdetect.mpy older than this firmware's catalogue: count with the
            # twin (which refuses, in turn, what no detector takes)
            from openpuck_fw import detect  # type: ignore[attr-defined]
            self.detector = detect.make_twin(*args)
            self.log(mt.LOG_LEVEL_WARNING, "exercise %d: the C detector refused it (%r); the twin "
                     "counts it (rebuild opdetect.mpy: make natmod)" % (self.exercise, e))
        self.reps = 0
        self.partials = 0

    # ------------------------------------------------------------ streaming
    def start_stream(self, rate_hz, channels):
        self.stop_stream()
        self.rate_hz = rate_hz
        self.channels = channels
        self._period_us = 1000000 // rate_hz
        self._batch_max = max(1, rate_hz // 10)
        if self.imu is not None and self._imu_ok:
            self._configure_imu(rate_hz)
        self._new_detector(rate_hz)
        self.device_info()
        self.streaming = True
        self._batch_n = 0
        self._next_status_us = self.now_us() + STATUS_PERIOD_US
        self.sampler.start(rate_hz)

    def stop_stream(self):
        was = self.streaming
        self._cal_cancel()
        self.sampler.stop()
        if was:
            self._drain()
            fin = getattr(self.detector, "finish", None)
            if fin is not None and fin():
                self._events(self.detector)
            self._flush_batch()
        self.streaming = False
        if self.imu is not None and self._imu_ok:
            self._configure_imu(0)

    def _flush_batch(self):
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
                fc = to_mn(force_raw[i]) // FORCE_MN_PER_LSB
                if fc > 65535:
                    fc = 65535
            gap = gaps[i]
            s.tail = i + 1 if i + 1 < size else 0
            if self._cal is not None:
                row = self._row
                row[0], row[1], row[2], row[3], row[4], row[5], row[6] = ax, ay, az, gx, gy, gz, fc
                self._cal_sample(row, force_raw[i])
            if not self.streaming:
                continue
            n = self._batch_n
            if n and (gap or n >= batch_max):
                self._flush_batch()
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
                self._flush_batch()
            if det is not None:
                if det.push(t_us, ax, ay, az, gx, gy, gz, fc):
                    self._events(det)

    def _events(self, det):
        self._flush_batch()  # samples up to the event go out first: wire order = time order
        while True:
            ev = det.pop()
            if ev is None:
                return
            kind, count, t0, tp, t1, amp, hold = ev
            if kind == mt.EVENT_KIND_REP:
                self.reps = count
                self.send(mt.T_REP, self.exercise, count & 0xFFFF, t0 & 0xFFFFFFFF, tp & 0xFFFFFFFF,
                          t1 & 0xFFFFFFFF, amp // mt.SCALE_MILLI_REP_AMPLITUDE, hold)
                target = self._det_target()
                self.feedback.rep(target > 0 and amp >= target)
            elif kind == mt.EVENT_KIND_PARTIAL_REP:
                self.partials = count
                self.send(mt.T_PARTIAL_REP, self.exercise, count & 0xFFFF, t0 & 0xFFFFFFFF,
                          tp & 0xFFFFFFFF, t1 & 0xFFFFFFFF, amp // mt.SCALE_MILLI_PARTIAL_REP_AMPLITUDE)
                self.feedback.partial()
            elif kind == mt.EVENT_KIND_GRIP:
                peak = amp // mt.SCALE_MILLI_GRIP_PEAK_FORCE  # the detector's mN -> the wire's unit
                self.send(mt.T_GRIP, t0 & 0xFFFFFFFF, t1 & 0xFFFFFFFF,
                          0 if peak < 0 else (65535 if peak > 65535 else peak), hold)
                self.feedback.grip()

    def _det_target(self):
        if self.target_milli:
            return self.target_milli
        t = getattr(self.detector, "target_milli", 0)
        if callable(t):
            t = t()
        return t if isinstance(t, int) else 0

    # ------------------------------------------------------------ calibration
    def _cal_begin(self, what, t, seq):
        self._cal = [what, t, seq, 0, [0, 0, 0], [32767] * 3, [-32768] * 3, 0]
        if not self.sampler.running():
            if self.imu is not None and self._imu_ok:
                self._configure_imu(200)
            self.sampler.start(200)

    def _cal_cancel(self):
        """End a calibration in progress, unfinished: its command is nacked
        busy (try again). A calibration needs the sampler, which a stop
        stops: it must not stay pending, or every later start, calibrate and
        set_config would be refused busy."""
        c = self._cal
        if c is None:
            return
        self._cal = None
        self.nack(c[1], c[2], mt.NACK_ERROR_BUSY)

    def _cal_sample(self, row, force_raw):
        c = self._cal
        if c is None:
            return
        c[3] += 1
        for k in range(3):
            g = row[3 + k] + self.gyro_bias[k]
            c[4][k] += g
            if g < c[5][k]:
                c[5][k] = g
            if g > c[6][k]:
                c[6][k] = g
        c[7] += force_raw
        if c[3] < CAL_SAMPLES:
            return
        self._cal = None
        what, t, seq, n = c[0], c[1], c[2], c[3]
        if not self.streaming:
            self.sampler.stop()
            if self.imu is not None and self._imu_ok:
                self._configure_imu(0)
        if what == mt.CALIBRATE_WHAT_REST:
            udps = self.imu.gyro_udps_per_lsb() if self.imu else 1
            if max(c[6][k] - c[5][k] for k in range(3)) * udps > CAL_STILL_UDPS:
                self.nack(t, seq, mt.NACK_ERROR_BUSY)
                self.log(mt.LOG_LEVEL_WARNING, "calibrate rest: the puck moved; hold it still")
                return
            self.gyro_bias = [c[4][k] // n for k in range(3)]
        if self.force is not None:
            self.force.tare(c[7] // n)
        self.ack(t, seq)

    # ------------------------------------------------------------ commands
    def _command(self, t, seq, payload, link, stream_link):
        """Check and carry out one command from `link` (answers go there).
        Returns True when the stream may follow `link`: always while the
        puck is open (the stream goes where the host spoke), only after an
        accepted start once it is owned (no one else takes the owner's stream)."""
        was_open = not self.owner.owned()
        try:
            payload, signed = self._authenticate(t, seq, payload, link)
            v = commands.parse(t, payload)
            if not signed and not was_open:
                self._reader_rule(t, v, link, stream_link)
            self._handle(t, seq, v)
            return was_open or t == mt.T_START
        except Nack as e:
            self.nack(t, seq, e.error, e.detail)
        except (OSError, ValueError) as e:
            self.nack(t, seq, mt.NACK_ERROR_INTERNAL)
            self.log(mt.LOG_LEVEL_ERROR, "command 0x%02x failed: %r" % (t, e))
        return was_open

    def _authenticate(self, t, seq, payload, link):
        """(payload without its trailer, True) for a command the owner signed;
        (payload, False) for one that may go unsigned; else raise Nack.

        Open puck: every command goes, trailers are ignored (pair too, over
        USB). Owned puck: a command of mt.SIGNED needs a trailer whose tag
        verifies with the owner key and whose timestamp the replay rule
        accepts; start and stop (SIGN_READER) may go unsigned as the reader
        rule says; unpair (SIGN_OFF_USB) goes unsigned over USB."""
        usb = getattr(link, "name", "usb") == "usb"
        if t in mt.USB_ONLY and not usb:
            raise Nack(mt.NACK_ERROR_USB_ONLY)
        need = mt.SIGNED.get(t)
        if need is None or not self.owner.owned() or (need == mt.SIGN_OFF_USB and usb):
            return payload, False
        verdict, fields = self.owner.check(t, seq, payload, commands.min_size(t))
        if verdict == signing.OK:
            return fields, True
        if verdict == signing.REPLAYED:
            raise Nack(mt.NACK_ERROR_REPLAYED)
        if need == mt.SIGN_READER:
            return payload, False
        raise Nack(mt.NACK_ERROR_UNAUTHENTICATED)

    def _reader_rule(self, t, v, link, stream_link):
        """An owned puck's unsigned start and stop: reading stays open. A
        start at the puck's own rate (config rate_hz) changes no setting; a
        stop ends the sender's own stream. Neither may take or end a stream
        that goes to another link, and a stop may not end the owner's
        calibration."""
        if t == mt.T_START and v[0] != self.config.get(mt.CONFIG_KEY_RATE_HZ):
            raise Nack(mt.NACK_ERROR_UNAUTHENTICATED, 1)
        if t in (mt.T_START, mt.T_STOP) and self.streaming and stream_link is not link:
            raise Nack(mt.NACK_ERROR_UNAUTHENTICATED)
        if t == mt.T_STOP and self._cal is not None:
            # the sampler runs for the owner's calibration, not for a reader
            raise Nack(mt.NACK_ERROR_UNAUTHENTICATED)

    def _handle(self, t, seq, v):
        cfg = self.config
        if self._cal is not None and t in (mt.T_START, mt.T_CALIBRATE, mt.T_SET_CONFIG):
            raise Nack(mt.NACK_ERROR_BUSY)
        if t == mt.T_START:
            if self.imu is None and self.force is None:
                raise Nack(mt.NACK_ERROR_UNSUPPORTED)
            self.ack(t, seq)
            self.start_stream(v[0], v[1])
        elif t == mt.T_STOP:
            self.stop_stream()
            self.ack(t, seq)
        elif t == mt.T_SET_EXERCISE:
            ex, target, on_pct, off_pct = v
            d_on, d_off = commands.thresholds(ex)
            old = (self.exercise, self.target_milli, self.on_pct, self.off_pct, self._det_key)
            self.exercise = ex
            self.target_milli = target
            self.on_pct = on_pct or d_on
            self.off_pct = off_pct or d_off
            self._det_key = None
            try:
                self._new_detector(self.rate_hz or cfg.get(mt.CONFIG_KEY_RATE_HZ))
            except ValueError:
                # thresholds the detector refuses (ON below the default OFF, OFF
                # within the hysteresis): nothing changes, the old detector runs on
                self.exercise, self.target_milli, self.on_pct, self.off_pct, self._det_key = old
                raise Nack(mt.NACK_ERROR_OUT_OF_RANGE) from None
            if self.board.on_exercise is not None:
                self.board.on_exercise(ex, target)
            self.ack(t, seq)
        elif t == mt.T_CALIBRATE:
            what = v[0]
            if what == mt.CALIBRATE_WHAT_TARGET_REP:
                # the detector learns the target from the next full movement
                self.target_milli = 0
                arm = getattr(self.detector, "calibrate_target", None)
                if arm is not None:
                    arm()
                else:
                    self._det_key = None
                    self._new_detector(self.rate_hz or cfg.get(mt.CONFIG_KEY_RATE_HZ))
                self.ack(t, seq)
                return
            if self.streaming:
                raise Nack(mt.NACK_ERROR_BAD_STATE)
            if what == mt.CALIBRATE_WHAT_REST and (self.imu is None or not self._imu_ok):
                raise Nack(mt.NACK_ERROR_UNSUPPORTED)
            if what == mt.CALIBRATE_WHAT_FORCE_ZERO and self.force is None:
                raise Nack(mt.NACK_ERROR_UNSUPPORTED)
            self._cal_begin(what, t, seq)   # answered when done
        elif t == mt.T_LED:
            if self.board.led is None:
                raise Nack(mt.NACK_ERROR_UNSUPPORTED)
            self.feedback.set_led(v[0], v[1], v[2], v[3])
            self.ack(t, seq)
        elif t == mt.T_BUZZER:
            if self.board.buzzer is None:
                raise Nack(mt.NACK_ERROR_UNSUPPORTED)
            self.feedback.beep(v[0], v[1])
            self.ack(t, seq)
        elif t == mt.T_PING:
            dev = self.now_us() & 0xFFFFFFFF
            self.ack(t, seq)
            self.send(mt.T_PONG, v[0], dev)
        elif t == mt.T_GET_CONFIG:
            self.ack(t, seq)
            self.send(mt.T_CONFIG, v[0], self._config_value(v[0]))
        elif t == mt.T_SET_CONFIG:
            key, value = v
            if self.streaming and key in (mt.CONFIG_KEY_RATE_HZ, mt.CONFIG_KEY_ACCEL_RANGE_G,
                                          mt.CONFIG_KEY_GYRO_RANGE_DPS):
                raise Nack(mt.NACK_ERROR_BAD_STATE, 1)
            cfg.set(key, value)
            if key == mt.CONFIG_KEY_EXERCISE:
                self.exercise = value
                self.on_pct, self.off_pct = commands.thresholds(value)
                self._det_key = None
            elif key == mt.CONFIG_KEY_TARGET:
                self.target_milli = value
                self._det_key = None
            elif key == mt.CONFIG_KEY_FEEDBACK:
                self.feedback.enabled = value
            elif key in (mt.CONFIG_KEY_ACCEL_RANGE_G, mt.CONFIG_KEY_GYRO_RANGE_DPS):
                if self.imu is not None and self._imu_ok:
                    self._configure_imu(0)
            self.ack(t, seq)
            self.send(mt.T_CONFIG, key, self._config_value(key))
        elif t == mt.T_REBOOT:
            if v[0] == mt.REBOOT_MODE_BOOTLOADER and getattr(self.hw, "bootloader", None) is None:
                raise Nack(mt.NACK_ERROR_UNSUPPORTED, 1)
            self.ack(t, seq)
            self._reboot = v[0]
        elif t == mt.T_GET_INFO:
            self.ack(t, seq)
            self.device_info()
        elif t == mt.T_GET_STATUS:
            self.ack(t, seq)
            self.status()
        elif t == mt.T_PAIR:
            if not signing.AVAILABLE:
                raise Nack(mt.NACK_ERROR_UNSUPPORTED)
            self.owner.pair(v[0], v[1])
            self.ack(t, seq)
            self.log(mt.LOG_LEVEL_INFO, "paired: commands that change state now need the owner's signature")
        elif t == mt.T_CHALLENGE:
            if not self.owner.owned():
                raise Nack(mt.NACK_ERROR_BAD_STATE)
            newest, tag = self.owner.proof(v[0])
            self.ack(t, seq)
            self.send(mt.T_PROOF, v[0], newest, tag)
        elif t == mt.T_UNPAIR:
            self.owner.unpair()
            self.ack(t, seq)
            self.log(mt.LOG_LEVEL_INFO, "unpaired: the puck is open to every host")

    def _config_value(self, key):
        if key == mt.CONFIG_KEY_EXERCISE:
            return self.exercise
        if key == mt.CONFIG_KEY_TARGET:
            return self.target_milli
        return self.config.get(key)

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
                    if not self._command(dec.type, dec.seq, dec.payload, link, stream_link):
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
                self.status()
        self.feedback.tick()
        for pump in self._pumps:
            pump()   # what waited for the host goes out as soon as it reads again
        if self._reboot is not None:
            return False
        usb = self.links[0] if self.links else None
        poller = getattr(usb, "poller", None)
        if poller is not None:
            hw = self.hw
            sampler = self.sampler
            cb0 = sampler.busy_us
            t0 = hw.ticks_us()
            hw.wait(poller, 0 if sampler.available() else wait_ms)
            waited = hw.ticks_diff(hw.ticks_us(), t0) - ((sampler.busy_us - cb0) & 0x3FFFFFFF)
            if waited > 0:
                self._idle_us += waited
        return True

    def run(self):
        self.setup()
        while self.step():
            pass
        mode = self._reboot
        self.stop_stream()
        self.feedback.off()
        for link in self.links:
            link.flush()
        if mode == mt.REBOOT_MODE_BOOTLOADER:
            self.hw.bootloader()
        self.hw.reset()
