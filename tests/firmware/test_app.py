# runs on: micropython
# The whole firmware app on the virtual board with an in-memory link:
# every command answered, nacks keep the stream going, sample batches,
# dropped samples, status, calibration, feedback, reboot and watchdog.
# argv[1]: an empty scratch directory (the puck's flash).
import struct
import sys
import time

import micropython
from boards import pico_w, sim_hw, sim_motion
from fwtest import check, done, eq
from openpuck_fw import msgtable as mt
from openpuck_fw.app import App
from openpuck_fw.protocol import FRAME, Encoder, FrameDecoder
from openpuck_fw.sampler import Sampler


class Poller:
    def __init__(self, link):
        self.link = link

    def poll(self, timeout_ms=-1):
        if self.link.rx:
            return [1]
        if timeout_ms > 0:
            time.sleep_ms(timeout_ms)   # a real wait: idle time passes
        return []


class MemLink:
    name = "usb"

    def __init__(self):
        self.rx = bytearray()
        self.tx = bytearray()
        self.poller = Poller(self)

    def read(self, max_bytes=64):
        out = bytes(self.rx[:max_bytes])
        self.rx = self.rx[max_bytes:]
        return out

    def write(self, frame, urgent=True):
        self.tx += frame

    def flush(self):
        pass


host = Encoder()


def cmd(link, t, payload=b""):
    link.rx += host.frame(t, payload)
    return host.seq - 1


def frames(link):
    d = FrameDecoder()
    out = []
    for b in bytes(link.tx):
        if d.feed_byte(b) == FRAME:
            out.append((d.type, d.seq, d.payload))
    link.tx = bytearray()
    return out


def of(fs, t):
    return [f for f in fs if f[0] == t]


def run(app, steps):
    for _ in range(steps):
        if not app.step():
            return False
    return True


def make_app(scenario=None, state=None):
    """A fresh virtual board (sim_hw.setup: nothing left of the last one) running the app."""
    sim = sim_hw.setup(float("inf"), sim_motion.scenario(scenario) if scenario else None)
    board = pico_w.make(sim_hw, name="sim", config_path=state, ble=False)
    link = MemLink()
    board.links = [link]
    app = App(board, 0)
    app.setup()
    return app, link, sim


state = sys.argv[1] + "/openpuck.cfg"
app, link, sim = make_app("still", state=state)
fs = frames(link)
eq("boot: device_info first", fs[0][0], mt.T_DEVICE_INFO)
eq("boot: a log line", fs[1][0], mt.T_LOG)
check("boot log names the board", b"boot sim" in fs[1][2])
caps = struct.unpack_from("<I", fs[0][2], 4)[0]
check("caps: imu force led buzzer usb config watchdog",
      caps & 0x1AF == 0x1AF and not caps & mt.CAPABILITY_BLE, hex(caps))
# the sample scales device_info reports are the board's (the IMU's units at the config's full scales)
scales = struct.unpack_from("<ff", fs[0][2], 13)
check("device_info: accel and gyro scales of 4 g and 500 dps", abs(scales[0] - 0.000122) < 1e-9
      and abs(scales[1] - 0.0175) < 1e-7, scales)
lsm_scales = app.board.imu_scales
app.board.imu_scales = lambda accel_range_g, gyro_range_dps: (accel_range_g * 1000, gyro_range_dps * 1000)
app.device_info()
app.board.imu_scales = lsm_scales
scales = struct.unpack_from("<ff", frames(link)[0][2], 13)
check("device_info: whatever units the board gives", abs(scales[0] - 4e-6) < 1e-12 and abs(scales[1] - 0.5) < 1e-7,
      scales)

# ping -> ack then pong with the host time
s = cmd(link, mt.T_PING, struct.pack("<Q", 123456789012))
run(app, 2)
fs = frames(link)
eq("ping answered by ack, pong", [f[0] for f in fs], [mt.T_ACK, mt.T_PONG])
eq("ack names the command", struct.unpack("<BH", fs[0][2]), (mt.T_PING, s))
eq("pong echoes", struct.unpack_from("<Q", fs[1][2])[0], 123456789012)

# every refused command gets a nack with its error, and the puck carries on
cmd(link, 0x7E)
cmd(link, mt.T_START, b"\xc8")
cmd(link, mt.T_START, struct.pack("<HB", 123, 7))
cmd(link, mt.T_SET_CONFIG, struct.pack("<Bi", 6, 1))
cmd(link, mt.T_REBOOT, struct.pack("<B", 1))        # the sim has no bootloader
link.rx += b"\x05\x01\x02\x03\x04\x00"                # a damaged frame: counted, not answered
run(app, 3)
fs = frames(link)
eq("nacks", [(f[0], f[2][3], f[2][4]) for f in fs],
   [(mt.T_NACK, mt.NACK_ERROR_UNKNOWN_TYPE, 0), (mt.T_NACK, mt.NACK_ERROR_BAD_LENGTH, 0),
    (mt.T_NACK, mt.NACK_ERROR_OUT_OF_RANGE, 1), (mt.T_NACK, mt.NACK_ERROR_UNSUPPORTED, 1),
    (mt.T_NACK, mt.NACK_ERROR_UNSUPPORTED, 1)])
eq("rx_errors", app.rx_errors(), 1)

# config: set persists, get answers ack + config
cmd(link, mt.T_SET_CONFIG, struct.pack("<Bi", mt.CONFIG_KEY_FEEDBACK, 1))
cmd(link, mt.T_GET_CONFIG, struct.pack("<B", mt.CONFIG_KEY_FEEDBACK))
run(app, 2)
fs = frames(link)
eq("set/get config", [f[0] for f in fs], [mt.T_ACK, mt.T_CONFIG, mt.T_ACK, mt.T_CONFIG])
eq("config value", struct.unpack("<Bi", fs[3][2]), (mt.CONFIG_KEY_FEEDBACK, 1))
eq("persisted", App(app.board, 0).config.get(mt.CONFIG_KEY_FEEDBACK), 1)

# stream at 200 Hz: batches of 20, contiguous, status once a second
cmd(link, mt.T_START, struct.pack("<HB", 200, 7))
run(app, 1)
fs = frames(link)
eq("start: ack then device_info", [f[0] for f in fs[:2]], [mt.T_ACK, mt.T_DEVICE_INFO])
run(app, 700)     # up to 4 timer ticks per idle step at speed inf: about 14 s
fs = frames(link)
samples = of(fs, mt.T_SAMPLES)
heads = [struct.unpack_from("<IHB", f[2]) for f in samples]
check("batches of 20", all(h[2] == 20 for h in heads[:-1]), [h[2] for h in heads][:5])
eq("period 5 ms", heads[0][1], 5000)
check("batches contiguous", all((heads[i + 1][0] - heads[i][0]) % 2 ** 32 == 100000 for i in range(len(heads) - 1)))
n_samples = sum(h[2] for h in heads)
stats = of(fs, mt.T_STATUS)
check("status once a second", abs(len(stats) - n_samples // 200) <= 1, (len(stats), n_samples))
row = struct.unpack_from(mt.SAMPLE_FMT, samples[0][2], 7)
check("flat puck: az ~ 1 g", abs(row[2] - 8197) < 100 and abs(row[0]) < 100, row)
eq("samples start with gyro in range", abs(row[3]) < 100, True)

# a command refused while streaming does not stop the stream
cmd(link, mt.T_SET_CONFIG, struct.pack("<Bi", mt.CONFIG_KEY_RATE_HZ, 100))
cmd(link, mt.T_CALIBRATE, struct.pack("<B", 0))
run(app, 30)
fs = frames(link)
eq("bad_state while streaming", [f[2][3] for f in of(fs, mt.T_NACK)],
   [mt.NACK_ERROR_BAD_STATE, mt.NACK_ERROR_BAD_STATE])
check("still streaming", len(of(fs, mt.T_SAMPLES)) >= 5)

# dropped samples: the main loop stalls for 1 s while the timer runs on
clock = sim.clock
before = app.sampler.available()
clock.fire_until(clock.virt_us + 1000000, 1000)
run(app, 40)
fs = frames(link)
eq("ring overflow counted", app.sampler.dropped, 200 - (app.sampler.size - 1 - before))
heads = [struct.unpack_from("<IHB", f[2]) for f in of(fs, mt.T_SAMPLES)]
gaps = [(heads[i + 1][0] - heads[i][0]) % 2 ** 32 for i in range(len(heads) - 1)]
check("a dropped run ends a batch: one gap", len([g for g in gaps if g > 100000]) == 1, gaps)
cmd(link, mt.T_GET_STATUS)
run(app, 1)
st = of(frames(link), mt.T_STATUS)[-1]
eq("status reports drops", struct.unpack_from("<HBI", st[2])[2], app.sampler.dropped)

cmd(link, mt.T_STOP)
run(app, 5)
logs = [f[2] for f in of(frames(link), mt.T_LOG)]
check("a stop reports the stream's live heap (after a collection)",
      any(b"heap after gc: " in p and b" used, " in p and p.endswith(b" free") for p in logs), logs)
run(app, 50)
eq("stopped: silence", frames(link), [])

# the timer callback allocates nothing
class NoAllocImu:
    def read_into(self, buf):
        pass


class NoAllocForce:
    def read_raw(self):
        return 1234


def allocates_nothing(cb, n):
    # in a function: a new module global stored under the lock could grow the globals dict
    micropython.heap_lock()
    try:
        for _ in range(n):
            cb(None)
        return True
    except MemoryError:
        return False
    finally:
        micropython.heap_unlock()


smp = Sampler(sim_hw, NoAllocImu(), NoAllocForce(), ring_size=8)
check("timer callback allocates nothing", allocates_nothing(smp._cb, 20))
eq("full ring drops", smp.dropped, 13)

# calibrate rest: answered when done
cmd(link, mt.T_CALIBRATE, struct.pack("<B", mt.CALIBRATE_WHAT_REST))
run(app, 60)
fs = frames(link)
eq("calibrate acked", [f[0] for f in fs], [mt.T_ACK])
check("gyro bias learnt", app.gyro_bias != [0, 0, 0], app.gyro_bias)

# LED and buzzer commands drive the PWM models
cmd(link, mt.T_LED, struct.pack("<BBBH", 255, 0, 10, 0))
cmd(link, mt.T_BUZZER, struct.pack("<HH", 3000, 50))
run(app, 1)
pw = sim.pwm
eq("LED red duty", pw[pico_w.LED_R].duty_u16(), 65535)
eq("LED blue duty", pw[pico_w.LED_B].duty_u16(), 2570)
eq("buzzer tone", (pw[pico_w.BUZZER].freq(), pw[pico_w.BUZZER].duty_u16()), (3000, 32768))
run(app, 30)
eq("buzzer stops after its duration", pw[pico_w.BUZZER].duty_u16(), 0)

# reboot: acked, then the board resets (exit code 75 in the sim)
cmd(link, mt.T_REBOOT, struct.pack("<B", 0))
try:
    app.run()
    code = None
except SystemExit as e:
    code = e.args[0] if e.args else 0
eq("reboot resets", code, sim_hw.EXIT_SOFT_RESET)
check("reboot acked first", of(frames(link), mt.T_ACK) != [])

# feedback: a grip scenario lights the LED and beeps on each rep and grip
app, link, sim = make_app("grip10")
cmd(link, mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 20000, 0, 0))
cmd(link, mt.T_START, struct.pack("<HB", 200, 7))
seen_led = set()
seen_tone = set()
for _ in range(1800):
    app.step()
    seen_led.add(sim.pwm[pico_w.LED_G].duty_u16() > 0)
    seen_tone.add(sim.pwm[pico_w.BUZZER].freq())
fs = frames(link)
eq("grip10: 10 reps", len(of(fs, mt.T_REP)), 10)
eq("grip10: 10 grips", len(of(fs, mt.T_GRIP)), 10)
check("feedback LED flashed green", True in seen_led)
check("feedback beeps", 2000 in seen_tone, seen_tone)


# a host that stops reading: the link refuses what is not urgent (its queue
# is full to the reserve), then everything. Sample frames are dropped whole
# and give their seq back (the host sees a hole in time, not a lost frame),
# counted in status.link_dropped_samples; reps still go out; an event the
# full queue refuses keeps its seq and is counted in link_dropped_frames.
class StalledLink(MemLink):
    def __init__(self):
        MemLink.__init__(self)
        self.full = 0            # 0 reads, 1 full to the reserve, 2 full

    def write(self, frame, urgent=True):
        if self.full == 2 or (self.full == 1 and not urgent):
            return False
        self.tx += frame
        return True


def status_link_drops(fs):
    st = of(fs, mt.T_STATUS)[-1][2]
    return struct.unpack_from("<IH", st, 22)


sim = sim_hw.setup(float("inf"), sim_motion.scenario("grip10"))
board = pico_w.make(sim_hw, name="sim", config_path=None, ble=False)
link = StalledLink()
board.links = [link]
app = App(board, 0)
app.setup()
cmd(link, mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 20000, 0, 0))
cmd(link, mt.T_START, struct.pack("<HB", 200, 7))
run(app, 400)
link.full = 1
run(app, 800)
link.full = 0
run(app, 600)
cmd(link, mt.T_GET_STATUS)
run(app, 2)
fs = frames(link)
seqs = [f[1] for f in fs]
eq("stalled host: no seq missing", [b - a for a, b in zip(seqs, seqs[1:]) if b - a != 1], [])
heads = [struct.unpack_from("<IHB", f[2]) for f in of(fs, mt.T_SAMPLES)]
span = (heads[-1][0] - heads[0][0]) // 5000 + heads[-1][2]
got = sum(h[2] for h in heads)
check("stalled host: samples were dropped", app.link_dropped_samples > 0)
eq("stalled host: the hole in time is the samples counted", span - got, app.link_dropped_samples)
eq("stalled host: status reports them", status_link_drops(fs), (app.link_dropped_samples, 0))
reps = [struct.unpack_from("<BH", f[2])[1] for f in of(fs, mt.T_REP)]
eq("stalled host: every rep went out", reps, list(range(1, len(reps) + 1)))
check("stalled host: reps during the stall too", len(reps) >= 5, reps)
statuses = of(fs, mt.T_STATUS)
check("stalled host: statuses dropped while full", len(statuses) < span // 200, (len(statuses), span))

link.full = 2
cmd(link, mt.T_PING, struct.pack("<Q", 1))
run(app, 2)
link.full = 0
cmd(link, mt.T_GET_STATUS)
run(app, 2)
fs = frames(link)
eq("a refused answer is counted", status_link_drops(fs)[1], 2)   # the ping's ack and pong
eq("and keeps its seq: the host sees two frames missing", fs[0][1] - seqs[-1], 3)

# a C detector older than the catalogue (an opdetect.mpy built before an
# exercise was added) refuses the id: the twin counts it, the log says why
app, link, sim = make_app("grip10")


def old_c_detector(exercise, *args):
    raise ValueError("unknown exercise id")


app.make_detector, app.c_detector = old_c_detector, True
cmd(link, mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 20000, 0, 0))
cmd(link, mt.T_START, struct.pack("<HB", 200, 7))
for _ in range(1800):
    app.step()
fs = frames(link)
eq("old C detector: no nack", of(fs, mt.T_NACK), [])
eq("old C detector: the twin counts the 10 reps", len(of(fs, mt.T_REP)), 10)
check("old C detector: the log says why", any(b"the twin counts it" in f[2] for f in of(fs, mt.T_LOG)))

# a setting the C detector refuses for an exercise it knows is refused at
# once: the twin is not loaded (it would hold ~32 KB of heap for good)
app, link, sim = make_app("grip10")


def strict_c_detector(exercise, *args):
    if len(args) > 2 and args[2] == 1:
        raise ValueError("bad detector config")
    return old_twin.make_twin(exercise, *args)


class NoTwin:
    loaded = 0

    def make_twin(self, *args):
        NoTwin.loaded += 1
        raise ValueError("bad detector config")


import openpuck_fw  # noqa: E402
from openpuck_fw import detect as old_twin  # noqa: E402

app.make_detector, app.c_detector = strict_c_detector, True
openpuck_fw.detect = NoTwin()
cmd(link, mt.T_SET_EXERCISE, struct.pack("<BIBB", 9, 1, 0, 1))
run(app, 2)
openpuck_fw.detect = old_twin
fs = frames(link)
eq("a bad setting: refused", [f[2][3] for f in of(fs, mt.T_NACK)], [mt.NACK_ERROR_OUT_OF_RANGE])
eq("a bad setting: the twin not consulted", NoTwin.loaded, 0)

# the target on the wire: each stream starts with a target message; an auto
# target is told when it settles, right after the events of the rep that
# settled it (and again each time it follows the patient); status and
# get_config give the one in use, never 0 once it is known
def targets(fs):
    return [struct.unpack("<BIBI", f[2]) for f in of(fs, mt.T_TARGET)]


def config_target(link, app):
    cmd(link, mt.T_GET_CONFIG, struct.pack("<B", mt.CONFIG_KEY_TARGET))
    cmd(link, mt.T_GET_STATUS)
    run(app, 2)
    fs = frames(link)
    return (struct.unpack("<Bi", of(fs, mt.T_CONFIG)[-1][2])[1],
            struct.unpack_from("<I", of(fs, mt.T_STATUS)[-1][2], 28)[0])


app, link, sim = make_app("grip10")
cmd(link, mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 0, 0, 0))
run(app, 1)
eq("auto target: none before the stream", config_target(link, app), (0, 0))
cmd(link, mt.T_START, struct.pack("<HB", 200, 7))
run(app, 1)
fs = frames(link)
eq("auto target: the stream starts with it, not known yet", [f[0] for f in fs[:3]] + [t[:3] for t in targets(fs)],
   [mt.T_ACK, mt.T_DEVICE_INFO, mt.T_TARGET, (1, 0, mt.TARGET_SOURCE_LEARNED)])
for _ in range(1800):
    app.step()
fs = frames(link)
told = targets(fs)
check("auto target: told once learned", len(told) >= 1 and all(t[1] > 0 for t in told), told)
first = [f[0] for f in fs].index(mt.T_TARGET)
before = [f for f in fs[:first] if f[0] == mt.T_REP]
last_rep = max(i for i, f in enumerate(fs[:first]) if f[0] == mt.T_REP)
eq("auto target: right after the events of the rep that settled it",
   [f[0] for f in fs[last_rep + 1:first] if f[0] not in (mt.T_GRIP, mt.T_PARTIAL_REP)], [])
check("auto target: at the time that rep ended", told[0][3] >= struct.unpack_from("<I", before[-1][2], 11)[0],
      (told[0], before[-1]))
eq("auto target: each message a change", [a[1] != b[1] for a, b in zip(told, told[1:])], [True] * (len(told) - 1))
eq("auto target: get_config and status answer the learned one", config_target(link, app), (told[-1][1],) * 2)

# a target set by the host is told as set; a calibration rep's as calibrated
cmd(link, mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 15000, 0, 0))
run(app, 1)
eq("set target: told at once while streaming", targets(frames(link))[-1][:3], (1, 15000, mt.TARGET_SOURCE_SET))
eq("set target: get_config and status", config_target(link, app), (15000, 15000))
cmd(link, mt.T_CALIBRATE, struct.pack("<B", mt.CALIBRATE_WHAT_TARGET_REP))
run(app, 1)
eq("calibration rep: the target is not known until it comes", targets(frames(link))[-1][:3],
   (1, 0, mt.TARGET_SOURCE_CALIBRATED))
cmd(link, mt.T_STOP)
run(app, 2)
frames(link)
app, link, sim = make_app("grip10")
cmd(link, mt.T_SET_EXERCISE, struct.pack("<BIBB", 1, 0, 0, 0))
cmd(link, mt.T_START, struct.pack("<HB", 200, 7))
cmd(link, mt.T_CALIBRATE, struct.pack("<B", mt.CALIBRATE_WHAT_TARGET_REP))
for _ in range(400):
    app.step()
told = targets(frames(link))
check("calibration rep: its target told as calibrated", told[-1][1] > 0 and told[-1][2] == mt.TARGET_SOURCE_CALIBRATED,
      told)
# the watchdog resets a main loop that stops feeding it
app, link, sim = make_app()
try:
    for _ in range(100):
        sim.clock.virt_us += 1000000
        sim.clock.check_wdt()
    code = None
except SystemExit as e:
    code = e.args[0] if e.args else 0
eq("watchdog resets", code, sim_hw.EXIT_WATCHDOG)
# ---------------------------------------------------------------- signing
# the golden signed vectors, in file order, to a puck just paired with their
# owner key over USB: each answered as protocol/vectors/signed.jsonl says
import json

from fwtest import unhex

NACKS = {"unauthenticated": mt.NACK_ERROR_UNAUTHENTICATED, "replayed": mt.NACK_ERROR_REPLAYED,
         "usb_only": mt.NACK_ERROR_USB_ONLY, "bad_state": mt.NACK_ERROR_BAD_STATE}
VECTORS = [json.loads(line) for line in open("protocol/vectors/signed.jsonl").read().splitlines()]
OWNER = unhex(VECTORS[0]["key"])


def answers(link, seq=None):
    """(type, cmd_seq, nack error or None) of every ack and nack sent."""
    out = []
    for f in frames(link):
        if f[0] in (mt.T_ACK, mt.T_NACK):
            out.append((f[0], struct.unpack_from("<H", f[2], 1)[0], f[2][3] if f[0] == mt.T_NACK else None))
    return [a for a in out if seq is None or a[1] == seq]


def caps_of(app, link):
    app.device_info()
    return struct.unpack_from("<I", of(frames(link), mt.T_DEVICE_INFO)[-1][2], 4)[0]


state2 = sys.argv[1] + "/signed.cfg"
app, link, sim = make_app(state=state2)
frames(link)
c = caps_of(app, link)
check("open puck: signing offered, not owned", c & mt.CAPABILITY_SIGNING and not c & mt.CAPABILITY_OWNED, hex(c))
link.rx += host.frame(mt.T_PAIR, b"\x20" + OWNER + bytes(8))
run(app, 2)
eq("pair over USB on an open puck: acked", [a[0] for a in answers(link)], [mt.T_ACK])
check("paired: device_info says owned", caps_of(app, link) & mt.CAPABILITY_OWNED)
wrong = []
for v in VECTORS:
    link.rx += unhex(v["wire"])
    run(app, 3)
    got = answers(link, v["seq"])
    want = (mt.T_ACK, v["seq"], None) if v["answer"] == "ack" else (mt.T_NACK, v["seq"], NACKS[v["answer"]])
    if got != [want]:
        wrong.append("%s: got %r want %r" % (v["name"], got, want))
    run(app, 20)
    frames(link)
eq("every signed vector answered as the vectors say", wrong, [])
check("unpaired by the last vectors: open again", not app.owner.owned())

# over BLE (a fake link): pair is refused; unpair needs the owner's signature;
# an unsigned start cannot take the owner's stream; a ping does not move it
from openpuck_fw import signing


def signed_frame(t, payload, link_id, ts, key=OWNER):
    seq = host.seq
    head = struct.pack("<BBH", 1, t, seq) + payload + struct.pack("<B", link_id) + struct.pack("<Q", ts)[:6]
    return host.frame(t, payload + struct.pack("<B", link_id) + struct.pack("<Q", ts)[:6]
                      + signing.tag(key, head))


class BleMemLink(MemLink):
    name = "ble"


app, usb, sim = make_app(state=sys.argv[1] + "/ble.cfg")
ble = BleMemLink()
app.links.append(ble)
app.decs.append(type(app.decs[0])())
frames(usb)
ble.rx += host.frame(mt.T_PAIR, b"\x20" + OWNER + bytes(8))
run(app, 2)
eq("pair over BLE: nacked usb_only, even on an open puck", [a[2] for a in answers(ble)], [mt.NACK_ERROR_USB_ONLY])
check("still open", not app.owner.owned())
usb.rx += host.frame(mt.T_PAIR, b"\x20" + OWNER + bytes(8))
run(app, 2)
eq("pair over USB: acked", [a[0] for a in answers(usb)], [mt.T_ACK])
T = 31561920000000
usb.rx += signed_frame(mt.T_START, struct.pack("<HB", 100, 7), 1, T)
run(app, 5)
check("the owner's signed start at 100 Hz over USB: acked", (mt.T_ACK, host.seq - 1, None) in answers(usb))
frames(ble)
ble.rx += host.frame(mt.T_START, struct.pack("<HB", 200, 7))
ble.rx += host.frame(mt.T_STOP, b"")
ble.rx += host.frame(mt.T_LED, struct.pack("<BBBH", 255, 0, 0, 0))
run(app, 5)
eq("from BLE, unsigned: start, stop and led of the owner's stream nacked unauthenticated",
   [a[2] for a in answers(ble)], [mt.NACK_ERROR_UNAUTHENTICATED] * 3)
ble.rx += host.frame(mt.T_PING, struct.pack("<Q", 77))
run(app, 3)
fs = frames(ble)
eq("a ping from BLE is answered over BLE", [f[0] for f in fs if f[0] != mt.T_SAMPLES], [mt.T_ACK, mt.T_PONG])
eq("...and no sample goes to BLE", of(fs, mt.T_SAMPLES), [])
frames(usb)
run(app, 30)
check("the owner's stream still goes over USB", len(of(frames(usb), mt.T_SAMPLES)) > 3)
ble.rx += host.frame(mt.T_UNPAIR, b"")
run(app, 3)
eq("unsigned unpair over BLE: nacked unauthenticated", [a[2] for a in answers(ble)], [mt.NACK_ERROR_UNAUTHENTICATED])
ble.rx += signed_frame(mt.T_UNPAIR, b"", 7, T + 10)
run(app, 3)
eq("the owner's signed unpair over BLE: acked", [a[0] for a in answers(ble)], [mt.T_ACK])
check("open again", not app.owner.owned())
# a frame cannot be pieced together from two links: the start of a pair over
# BLE and a lone 0x00 over USB (as a host sends when it opens the port)
enc = host.frame(mt.T_PAIR, b"\x20" + bytes(32) + bytes(8))
ble.rx += enc[:-1]
run(app, 2)
usb.rx += b"\x00"
run(app, 2)
check("no frame from two links: nothing paired", not app.owner.owned())
eq("no answer on USB", answers(usb), [])

# an owned puck after a reboot: the owner key is still there; a captured
# signed command is refused; the owner's next one is taken after the mark
app, link, sim = make_app(state=sys.argv[1] + "/reboot.cfg")
link.rx += host.frame(mt.T_PAIR, b"\x20" + OWNER + bytes(8))
run(app, 2)
captured = signed_frame(mt.T_LED, struct.pack("<BBBH", 0, 0, 9, 0), 1, T)
link.rx += captured
run(app, 2)
eq("before the reboot: the owner's led acked", [a[0] for a in answers(link)], [mt.T_ACK, mt.T_ACK])
app, link, sim = make_app(state=sys.argv[1] + "/reboot.cfg")
check("after the reboot: still owned", app.owner.owned() and caps_of(app, link) & mt.CAPABILITY_OWNED)
link.rx += captured
link.rx += signed_frame(mt.T_LED, struct.pack("<BBBH", 0, 0, 9, 0), 1, T + 5)
link.rx += signed_frame(mt.T_LED, struct.pack("<BBBH", 0, 0, 9, 0), 1, T + mt.SIGN_BOOT_STEP + 1)
run(app, 3)
eq("after the reboot: the captured frame and one below the mark replayed, one above the mark acked",
   [a[2] if a[2] is not None else "ack" for a in answers(link)],
   [mt.NACK_ERROR_REPLAYED, mt.NACK_ERROR_REPLAYED, "ack"])
# a challenge from anyone, over any link: ack, then a proof of the owner key
nonce = bytes(range(40, 56))
s = cmd(link, mt.T_CHALLENGE, b"\x10" + nonce)
run(app, 2)
fs = frames(link)
eq("challenge: ack then proof", [f[0] for f in fs], [mt.T_ACK, mt.T_PROOF])
pl = fs[-1][2]
newest = struct.unpack_from("<Q", pl, 17)[0]
eq("proof: the nonce, the newest accepted timestamp, the tag under the owner key",
   (pl[1:17], newest, pl[26:]), (nonce, T + mt.SIGN_BOOT_STEP + 1, signing.proof(OWNER, nonce, newest)))
link.rx += host.frame(mt.T_UNPAIR, b"")
run(app, 2)
eq("unsigned unpair over USB (a lost key): acked", [a[0] for a in answers(link)], [mt.T_ACK])
check("the boot log never holds the key", OWNER not in bytes(link.tx))

# a stop during a calibration: a stranger's unsigned stop is refused and the
# calibration goes on; a stop that may end it (the owner's, or anyone's on an
# open puck) ends it with a nack and leaves the puck ready for the next command
app, link, sim = make_app("still", state=sys.argv[1] + "/cal.cfg")
link.rx += host.frame(mt.T_PAIR, b"\x20" + OWNER + bytes(8))
run(app, 2)
frames(link)
cal = host.seq
link.rx += signed_frame(mt.T_CALIBRATE, struct.pack("<B", mt.CALIBRATE_WHAT_REST), 1, T)
stop = host.seq
link.rx += host.frame(mt.T_STOP, b"")
run(app, 60)
eq("owned, calibrating: an unsigned stop is nacked unauthenticated, the calibration acked when done",
   answers(link), [(mt.T_NACK, stop, mt.NACK_ERROR_UNAUTHENTICATED), (mt.T_ACK, cal, None)])
cal = host.seq
link.rx += signed_frame(mt.T_CALIBRATE, struct.pack("<B", mt.CALIBRATE_WHAT_REST), 1, T + 1)
stop = host.seq
link.rx += signed_frame(mt.T_STOP, b"", 1, T + 2)
run(app, 3)
eq("the owner's stop during a calibration: the calibration nacked busy, the stop acked",
   answers(link), [(mt.T_NACK, cal, mt.NACK_ERROR_BUSY), (mt.T_ACK, stop, None)])
check("...and the sampler stopped", not app.sampler.running())
start = host.seq
link.rx += signed_frame(mt.T_START, struct.pack("<HB", 200, 7), 1, T + 3)
run(app, 3)
eq("then a start is obeyed, not busy", answers(link, start), [(mt.T_ACK, start, None)])
app, link, sim = make_app("still")
frames(link)
cal = cmd(link, mt.T_CALIBRATE, struct.pack("<B", mt.CALIBRATE_WHAT_REST))
stop = cmd(link, mt.T_STOP)
run(app, 3)
eq("open puck: a stop during a calibration ends it (nack busy) and is acked",
   answers(link), [(mt.T_NACK, cal, mt.NACK_ERROR_BUSY), (mt.T_ACK, stop, None)])
cfg = cmd(link, mt.T_SET_CONFIG, struct.pack("<Bi", mt.CONFIG_KEY_FEEDBACK, 1))
run(app, 2)
eq("then set_config is obeyed, not busy", answers(link, cfg), [(mt.T_ACK, cfg, None)])
# the main loop sleeps up to IDLE_WAIT_MS between passes, but never past the
# end of a beep or flash: a 30 ms beep ends on time, not at the next wake
app, link, sim = make_app()
frames(link)
timeouts = []
sim_wait = sim_hw.wait


def recorded_wait(poller, timeout_ms):
    timeouts.append(timeout_ms)
    return sim_wait(poller, timeout_ms)


sim_hw.wait = recorded_wait
run(app, 1)
cmd(link, mt.T_BUZZER, struct.pack("<HH", 3000, 30))
run(app, 1)
sim_hw.wait = sim_wait
eq("idle: the main loop sleeps its whole idle wait", timeouts[0], 50)
check("a 30 ms beep playing: the sleep ends by the beep's end", 0 <= timeouts[1] <= 30, timeouts)
done()
