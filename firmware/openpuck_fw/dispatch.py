# Commands: authorisation (the owner's signature, the reader rule), then one
# small handler per command, found in HANDLERS by the generated command id.
# A handler takes (app, t, seq, v): v the checked field values
# (commands.parse), in messages.toml order; it answers (ack, or raises Nack)
# and carries the command out. Adding a command: a handler here and its line
# in HANDLERS (tests/firmware/test_commands.py checks every down message has one).
from openpuck_fw import calibration, commands, counting, eventlog, signing
from openpuck_fw import msgtable as mt
from openpuck_fw.commands import Nack
from openpuck_fw.config import ENOSPC

# refused busy while a calibration runs: each would change what it measures
_BUSY_DURING_CAL = (mt.T_START, mt.T_CALIBRATE, mt.T_SET_CONFIG)
# config keys a stream's samples depend on: not changed while streaming
_STREAM_KEYS = (mt.CONFIG_KEY_RATE_HZ, mt.CONFIG_KEY_ACCEL_RANGE_G, mt.CONFIG_KEY_GYRO_RANGE_DPS)
LOG_CHUNK = 255   # log_data.data: a bytes field (u8 length)


def command(app, t, seq, payload, link, stream_link):
    """Check and carry out one command from `link` (answers go there).
    Returns True when the stream may follow `link`: always while the
    puck is open (the stream goes where the host spoke), only after an
    accepted start once it is owned (no one else takes the owner's stream)."""
    was_open = not app.owner.owned()
    try:
        payload, signed = authenticate(app, t, seq, payload, link)
        v = commands.parse(t, payload)
        if not signed and not was_open:
            reader_rule(app, t, v, link, stream_link)
        if app.cal is not None and t in _BUSY_DURING_CAL:
            raise Nack(mt.NACK_ERROR_BUSY)
        HANDLERS[t](app, t, seq, v)
        return was_open or t == mt.T_START
    except Nack as e:
        app.nack(t, seq, e.error, e.detail)
    except (OSError, ValueError) as e:
        full = isinstance(e, OSError) and e.errno == ENOSPC
        app.nack(t, seq, mt.NACK_ERROR_STORAGE_FULL if full else mt.NACK_ERROR_INTERNAL)
        app.log(mt.LOG_LEVEL_ERROR, "command 0x%02x failed: %s" % (
            t, "the flash is full, nothing stored" if full else repr(e)))
    return was_open


def authenticate(app, t, seq, payload, link):
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
    if need is None or not app.owner.owned() or (need == mt.SIGN_OFF_USB and usb):
        return payload, False
    verdict, fields = app.owner.check(t, seq, payload, commands.min_size(t))
    if verdict == signing.OK:
        return fields, True
    if verdict == signing.REPLAYED:
        raise Nack(mt.NACK_ERROR_REPLAYED)
    if need == mt.SIGN_READER:
        return payload, False
    raise Nack(mt.NACK_ERROR_UNAUTHENTICATED)


def reader_rule(app, t, v, link, stream_link):
    """An owned puck's unsigned start and stop: reading stays open. A
    start at the puck's own rate (config rate_hz) changes no setting; a
    stop ends the sender's own stream. Neither may take or end a stream
    that goes to another link, and a stop may not end the owner's
    calibration."""
    if t == mt.T_START and v[0] != app.config.get(mt.CONFIG_KEY_RATE_HZ):
        raise Nack(mt.NACK_ERROR_UNAUTHENTICATED, 1)
    if t in (mt.T_START, mt.T_STOP) and app.streaming and stream_link is not link:
        raise Nack(mt.NACK_ERROR_UNAUTHENTICATED)
    if t == mt.T_STOP and app.cal is not None:
        # the sampler runs for the owner's calibration, not for a reader
        raise Nack(mt.NACK_ERROR_UNAUTHENTICATED)


def config_value(app, key):
    """What get_config reports for key: the exercise and target in use, else the saved value."""
    if key == mt.CONFIG_KEY_EXERCISE:
        return app.exercise
    if key == mt.CONFIG_KEY_TARGET:
        return counting.target(app)   # the one in use: a learned auto target too
    return app.config.get(key)


def _rate(app):
    return app.rate_hz or app.config.get(mt.CONFIG_KEY_RATE_HZ)


# ---------------------------------------------------------------- handlers
def _start(app, t, seq, v):
    rate_hz, channels = v
    if app.imu is None and app.force is None:
        raise Nack(mt.NACK_ERROR_UNSUPPORTED)
    app.ack(t, seq)
    app.start_stream(rate_hz, channels)


def _stop(app, t, seq, v):
    app.stop_stream()
    app.ack(t, seq)


def _set_exercise(app, t, seq, v):
    ex, target, on_pct, off_pct = v
    d_on, d_off = commands.thresholds(ex)
    old = (app.exercise, app.target_milli, app.on_pct, app.off_pct, app.det_key)
    app.exercise = ex
    app.target_milli = target
    app.on_pct = on_pct or d_on
    app.off_pct = off_pct or d_off
    app.det_key = None
    try:
        counting.rebuild(app, _rate(app))
    except ValueError:
        # thresholds the detector refuses (ON below the default OFF, OFF
        # within the hysteresis): nothing changes, the old detector runs on
        app.exercise, app.target_milli, app.on_pct, app.off_pct, app.det_key = old
        raise Nack(mt.NACK_ERROR_OUT_OF_RANGE) from None
    if app.board.on_exercise is not None:
        app.board.on_exercise(ex, target)
    app.ack(t, seq)
    counting.announce(app)


def _calibrate(app, t, seq, v):
    what = v[0]
    if what == mt.CALIBRATE_WHAT_TARGET_REP:
        # the detector learns the target from the next full movement
        app.target_milli = 0
        arm = getattr(app.detector, "calibrate_target", None)
        if arm is not None:
            arm()
        else:
            app.det_key = None
            counting.rebuild(app, _rate(app))
        app.target_calibrated = True
        app.ack(t, seq)
        counting.announce(app)
        return
    if app.streaming:
        raise Nack(mt.NACK_ERROR_BAD_STATE)
    if what == mt.CALIBRATE_WHAT_REST and not app.imu_ok:
        raise Nack(mt.NACK_ERROR_UNSUPPORTED)
    if what == mt.CALIBRATE_WHAT_FORCE_ZERO and app.force is None:
        raise Nack(mt.NACK_ERROR_UNSUPPORTED)
    calibration.begin(app, what, t, seq)   # answered when done


def _led(app, t, seq, v):
    if app.board.led is None:
        raise Nack(mt.NACK_ERROR_UNSUPPORTED)
    r, g, b, duration_ms = v
    app.feedback.set_led(r, g, b, duration_ms)
    app.ack(t, seq)


def _buzzer(app, t, seq, v):
    if app.board.buzzer is None:
        raise Nack(mt.NACK_ERROR_UNSUPPORTED)
    freq_hz, duration_ms = v
    app.feedback.beep(freq_hz, duration_ms)
    app.ack(t, seq)


def _ping(app, t, seq, v):
    dev = app.now_us() & 0xFFFFFFFF
    app.ack(t, seq)
    app.send(mt.T_PONG, v[0], dev)


def _get_config(app, t, seq, v):
    key = v[0]
    app.ack(t, seq)
    app.send(mt.T_CONFIG, key, config_value(app, key))


def _set_config(app, t, seq, v):
    key, value = v
    if app.streaming and key in _STREAM_KEYS:
        raise Nack(mt.NACK_ERROR_BAD_STATE, 1)
    app.config.set(key, value)
    if key == mt.CONFIG_KEY_EXERCISE:
        app.exercise = value
        app.on_pct, app.off_pct = commands.thresholds(value)
        app.det_key = None
    elif key == mt.CONFIG_KEY_TARGET:
        app.target_milli = value
        app.target_calibrated = False
        app.det_key = None
    elif key == mt.CONFIG_KEY_FEEDBACK:
        app.feedback.enabled = value
    elif key in (mt.CONFIG_KEY_ACCEL_RANGE_G, mt.CONFIG_KEY_GYRO_RANGE_DPS):
        app.imu_rate(0)
    app.ack(t, seq)
    app.send(mt.T_CONFIG, key, config_value(app, key))


def _reboot(app, t, seq, v):
    mode = v[0]
    if mode == mt.REBOOT_MODE_BOOTLOADER and getattr(app.hw, "bootloader", None) is None:
        raise Nack(mt.NACK_ERROR_UNSUPPORTED, 1)
    app.ack(t, seq)
    app.reboot = mode


def _get_info(app, t, seq, v):
    app.ack(t, seq)
    app.device_info()


def _get_status(app, t, seq, v):
    app.ack(t, seq)
    app.status()


def _pair(app, t, seq, v):
    if not signing.AVAILABLE:
        raise Nack(mt.NACK_ERROR_UNSUPPORTED)
    key, since = v
    app.owner.pair(key, since)
    app.ack(t, seq)
    app.log(mt.LOG_LEVEL_INFO, "paired: commands that change state now need the owner's signature")


def _challenge(app, t, seq, v):
    if not app.owner.owned():
        raise Nack(mt.NACK_ERROR_BAD_STATE)
    nonce = v[0]
    newest, tag = app.owner.proof(nonce)
    app.ack(t, seq)
    app.send(mt.T_PROOF, nonce, newest, tag)


def _unpair(app, t, seq, v):
    app.owner.unpair()
    app.ack(t, seq)
    app.log(mt.LOG_LEVEL_INFO, "unpaired: the puck is open to every host")


def _log_list(app, t, seq, v):
    app.ack(t, seq)
    eventlog.info(app)


def _log_read(app, t, seq, v):
    from_seq = v[0]
    data, nxt = app.evlog.read(from_seq, LOG_CHUNK)
    app.ack(t, seq)
    app.send(mt.T_LOG_DATA, from_seq, nxt & 0xFFFFFFFF, data)


def _log_confirm(app, t, seq, v):
    app.evlog.confirm(v[0])
    app.ack(t, seq)
    eventlog.info(app)


def _mark_time(app, t, seq, v):
    # the record's t_ms (device time now) beside the host's wall clock dates this boot's records
    app.now_us()
    eventlog.event(app, mt.T_TIME_MARK, v[0])
    app.ack(t, seq)
    eventlog.info(app)


def _log_clear(app, t, seq, v):
    app.evlog.clear()
    app.ack(t, seq)
    eventlog.info(app)


# command id (msgtable T_*) -> its handler; commands.parse() refuses any other id
HANDLERS = {
    mt.T_START: _start,
    mt.T_STOP: _stop,
    mt.T_SET_EXERCISE: _set_exercise,
    mt.T_CALIBRATE: _calibrate,
    mt.T_LED: _led,
    mt.T_BUZZER: _buzzer,
    mt.T_PING: _ping,
    mt.T_GET_CONFIG: _get_config,
    mt.T_SET_CONFIG: _set_config,
    mt.T_REBOOT: _reboot,
    mt.T_GET_INFO: _get_info,
    mt.T_GET_STATUS: _get_status,
    mt.T_PAIR: _pair,
    mt.T_CHALLENGE: _challenge,
    mt.T_UNPAIR: _unpair,
    mt.T_LOG_LIST: _log_list,
    mt.T_LOG_READ: _log_read,
    mt.T_LOG_CONFIRM: _log_confirm,
    mt.T_LOG_CLEAR: _log_clear,
    mt.T_MARK_TIME: _mark_time,
}
