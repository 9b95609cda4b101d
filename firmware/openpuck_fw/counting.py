# The detector's life: which detector counts (the C one, else the
# MicroPython twin), building it afresh when what it counts changes, and
# what it finds (reps, partial reps, grips) sent, logged on the puck
# (eventlog.py: kept while no host listens) and fed back.
import gc

from micropython import const

from openpuck_fw import eventlog
from openpuck_fw import msgtable as mt

FORCE_MN_PER_LSB = const(50)   # samples.force: 0.05 N per count (the detector takes force in these)


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


def rebuild(app, rate_hz):
    """(Re)build app.detector when its parameters changed; counts restart.
    Raises ValueError for thresholds no detector takes."""
    if app.make_detector is None:
        app.detector = None
        return
    imu = app.imu
    accel_lsb_per_g = (1000000000 + imu.accel_ng_per_lsb() // 2) // imu.accel_ng_per_lsb() if imu else 8192
    gyro_lsb_x1000 = (1000000000 + imu.gyro_udps_per_lsb() // 2) // imu.gyro_udps_per_lsb() if imu else 65536
    key = (app.exercise, app.target_milli, app.on_pct, app.off_pct, rate_hz, accel_lsb_per_g, gyro_lsb_x1000)
    if key == app.det_key and app.detector is not None:
        return
    app.det_key = key
    args = (app.exercise, app.target_milli, app.on_pct, app.off_pct, rate_hz, accel_lsb_per_g,
            gyro_lsb_x1000, FORCE_MN_PER_LSB)
    try:
        app.detector = app.make_detector(*args)
    except ValueError as e:
        # only an exercise the C detector does not know is the twin's: loading
        # the twin to refuse a bad setting too would hold ~32 KB of heap for good
        if not app.c_detector or _c_knows(app.make_detector, app.exercise):
            raise
        # an opdetect.mpy older than this firmware's catalogue: count with the
        # twin (which refuses, in turn, what no detector takes)
        from openpuck_fw import detect  # type: ignore[attr-defined]
        app.detector = detect.make_twin(*args)
        app.log(mt.LOG_LEVEL_WARNING, "exercise %d: the C detector refused it (%r); the twin "
                "counts it (rebuild opdetect.mpy: make natmod)" % (app.exercise, e))
    app.reps = 0
    app.partials = 0
    app.target_calibrated = False


def _c_knows(make, exercise):
    """Whether the C detector builds the exercise with its own defaults."""
    try:
        make(exercise)
    except ValueError:
        return False
    return True


def target(app):
    """The rep target in milli-units: the set one, else what the detector
    learnt (0: none yet, or the detector is to be rebuilt for new settings)."""
    if app.target_milli:
        return app.target_milli
    if app.det_key is None:
        return 0
    t = getattr(app.detector, "target_milli", 0)
    if callable(t):
        t = t()
    return t if isinstance(t, int) else 0


def source(app):
    """Where the target came from: enums.target_source."""
    if app.target_milli:
        return mt.TARGET_SOURCE_SET
    return mt.TARGET_SOURCE_CALIBRATED if app.target_calibrated else mt.TARGET_SOURCE_LEARNED


def announce(app, force=False):
    """Send a target message when the target in use changed since the last
    one (force: whatever it is; each stream starts with one). Only while
    streaming: a host that is not reading events asks get_config."""
    if not app.streaming:
        return
    t = target(app)
    src = source(app)
    if not force and t == app.target_sent and src == app.source_sent:
        return
    app.target_sent = t
    app.source_sent = src
    tell(app, mt.T_TARGET, app.exercise, t & 0xFFFFFFFF, src, app._up_us & 0xFFFFFFFF)


def tell(app, type_id, *values):
    """Send an event to the host and log it on the puck (kept when no host listens)."""
    app.send(type_id, *values)
    eventlog.event(app, type_id, *values)


def begin(app):
    """A stream starts: a set_start record, and the target message each stream starts with."""
    app.set_base = (app.sampler.dropped, app.link_dropped_samples)
    eventlog.event(app, mt.T_SET_START, app.exercise, app.target_milli & 0xFFFFFFFF, app.rate_hz,
                   app._up_us & 0xFFFFFFFF)
    announce(app, True)


def events(app, det):
    """Send what the detector found (reps, partial reps, grips) and give its feedback."""
    app.flush_batch()  # samples up to the event go out first: wire order = time order
    fed = False  # a rep or partial rep's feedback given: a grip ending with it keeps quiet
    app.evlog.hold = True   # one flash commit for this pass's records
    while True:
        ev = det.pop()
        if ev is None:
            # a rep's end is when an auto target settles or moves: after its events
            announce(app)
            app.evlog.commit()
            return
        kind, count, t0, tp, t1, amp, hold = ev
        if kind == mt.EVENT_KIND_REP:
            app.reps = count
            tell(app, mt.T_REP, app.exercise, count & 0xFFFF, t0 & 0xFFFFFFFF, tp & 0xFFFFFFFF,
                 t1 & 0xFFFFFFFF, amp // mt.SCALE_MILLI_REP_AMPLITUDE, hold)
            app.feedback.rep()
            fed = True
        elif kind == mt.EVENT_KIND_PARTIAL_REP:
            app.partials = count
            tell(app, mt.T_PARTIAL_REP, app.exercise, count & 0xFFFF, t0 & 0xFFFFFFFF,
                 tp & 0xFFFFFFFF, t1 & 0xFFFFFFFF, amp // mt.SCALE_MILLI_PARTIAL_REP_AMPLITUDE)
            app.feedback.partial()
            fed = True
        elif kind == mt.EVENT_KIND_GRIP:
            peak = amp // mt.SCALE_MILLI_GRIP_PEAK_FORCE  # the detector's mN -> the wire's unit
            tell(app, mt.T_GRIP, t0 & 0xFFFFFFFF, t1 & 0xFFFFFFFF,
                 0 if peak < 0 else (65535 if peak > 65535 else peak), hold)
            if not fed:
                app.feedback.grip()


def finish(app):
    """End of a stream: the detector's last rep and a pending auto target go
    out, then the samples, then the stream's live heap is logged."""
    fin = getattr(app.detector, "finish", None)
    if fin is not None and fin():
        events(app, app.detector)
    app.flush_batch()
    d0, l0 = getattr(app, "set_base", (0, 0))
    eventlog.event(app, mt.T_SET_END, app.exercise, app.reps & 0xFFFF, app.partials & 0xFFFF,
                   (app.sampler.dropped - d0) & 0xFFFFFFFF, (app.link_dropped_samples - l0) & 0xFFFFFFFF,
                   app._up_us & 0xFFFFFFFF)
    gc.collect()   # with the stream's state still held: its live heap (tools/pico_bench.py)
    app.log(mt.LOG_LEVEL_DEBUG, "heap after gc: %d used, %d free" % (gc.mem_alloc(), gc.mem_free()))
