"""The firmware on the puck's own chip: the emulated Pico W (openpuck.device.pico).

The stock MicroPython v1.28.0 image for the Pico W boots in an RP2040
emulator; the firmware goes on it with tools/flash.py over the emulated USB
serial, as `make flash` puts it on a board; the sensors answer at the pins.
The emulator runs tens of times slower than real time, so each test here
costs a minute or more of wall time: they are few and each proves a part of
the board that no other test reaches (the rp2 port's I2C, ADC, PWM, WDT, USB
serial and littlefs, the armv6m C detector on a Cortex-M0+).
"""
from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

import openpuck

from .toolchain import need_pico_image, required

# one emulated Pico at a time: xdist keeps the group on one worker (make test: --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.toolchain, pytest.mark.xdist_group("pico")]

@pytest.fixture(scope="module")
def image():
    return need_pico_image()


@pytest.fixture(scope="module")
def flashed(image):
    """The puck's filesystem after tools/flash.py ran against a blank emulated
    Pico W: flashed anew for this module, whatever the cache held."""
    import openpuck.device.pico
    # OPENPUCK_PICO_REFLASH=0 (while iterating on these tests) keeps a cached install
    return openpuck.device.pico.install(image, force=os.environ.get("OPENPUCK_PICO_REFLASH", "1") != "0")


@pytest.fixture(scope="module")
def pico(image, flashed, tmp_path_factory):
    import openpuck.device.pico
    p = openpuck.device.pico.EmulatedPico(image, scenario="grip3", state_dir=tmp_path_factory.mktemp("pico"),
                                   flash=flashed)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def puck(pico):
    pk = pico.connect()
    yield pk
    pk.close()


def test_the_flash_tool_installs_the_firmware_on_a_stock_pico_w(flashed, puck):
    done = json.loads((flashed.parent / "install.json").read_text())
    assert done["board"] == "pico_w" and done["firmware"] == puck.info.firmware
    assert puck.info.board == "pico_w"
    # the armv6m opdetect.mpy went along (make test builds it where arm-none-eabi-gcc exists)
    if required() or done["detector"] == "c":
        assert "c_detector" in puck.info.capabilities, "the C detector did not load on the Cortex-M0+"


def test_the_puck_samples_its_imu_over_i2c_and_its_pad_through_the_adc(pico, puck):
    st0 = pico.stats()
    blocks, gaps = [], []
    dropped0 = puck.get_status().dropped_samples
    puck.on("samples", blocks.append)
    puck.on("gap", gaps.append)
    try:
        puck.start(exercise="grip_squeeze", target=20.0, rate_hz=200)
        end = time.monotonic() + 600
        while sum(len(b) for b in blocks) < 200 and time.monotonic() < end:
            time.sleep(0.5)
        puck.stop()
        dropped = puck.get_status().dropped_samples - dropped0
    finally:
        puck.off("samples", blocks.append)
        puck.off("gap", gaps.append)
    st1 = pico.stats()
    n = sum(len(b) for b in blocks)
    assert n >= 200, f"only {n} samples from the emulated Pico"
    t = np.concatenate([b.t for b in blocks])
    # each sample has its tick's time on the puck's sample clock, however late the soft timer's
    # callback ran (0.1 ms typically, more behind a garbage collection). A tick the soft timer
    # never ran (seen once, on a machine kept busy) is a hole: the loss may not be hidden, so
    # every hole is a Gap the SDK reported. None doubled.
    dt = np.diff(t)
    assert np.all(dt > 0), "a sample came twice, or out of order"
    holes = [(float(t[i]), float(t[i + 1])) for i in np.flatnonzero(dt > 1.5 / 200)]
    for a, b in holes:
        assert any(g.t_start is not None and g.t_end is not None and g.t_start <= b and g.t_end >= a
                   for g in gaps), f"{(b - a) * 1e3:.3f} ms without a sample at {a:.3f} s and no Gap for it"
    assert len(holes) <= n // 20, f"{len(holes)} holes in {n} samples: {holes}"
    # every tick of the sample clock gave a sample or is counted in dropped_samples (a tick the
    # soft timer lost included)
    ticks = round((float(t[-1]) - float(t[0])) * 200) + 1
    assert n + dropped == ticks, f"{ticks} ticks, {n} samples, {dropped} counted dropped; holes {holes}"
    on_time = dt[dt <= 1.5 / 200]
    assert abs(float(np.mean(on_time)) - 1 / 200) < 2e-5
    az = np.concatenate([b.accel[:, 2] for b in blocks])
    assert 0.9 < float(np.median(az)) < 1.1, "the IMU's z axis should read about 1 g in the hand"
    # every sample was one I2C read of the LSM6DSOX and one ADC conversion of the pad
    assert st1["i2c_transactions"] - st0["i2c_transactions"] >= n
    assert st1["adc_conversions"] - st0["adc_conversions"] >= n


def test_a_scenario_is_counted_on_the_pico_where_its_samples_show_it(pico, puck):
    pico.play("grip3")
    blocks, events = [], []
    puck.on("samples", blocks.append)
    puck.on("*", events.append)
    try:
        puck.start(exercise="grip_squeeze", target=20.0, rate_hz=200)
        end = time.monotonic() + 1800
        while sum(1 for e in events if e.kind == "grip") < 3 and time.monotonic() < end:
            time.sleep(1.0)
        time.sleep(2.0)
        status = puck.get_status()
        puck.stop()
    finally:
        puck.off("samples", blocks.append)
        puck.off("*", events.append)
    reps = [e for e in events if e.kind == "rep"]
    grips = [e for e in events if e.kind == "grip"]
    assert (len(reps), len(grips)) == (3, 3), f"the puck counted {len(reps)} reps, {len(grips)} grips of 3"
    assert status.reps == 3 and status.dropped_samples == 0
    assert [r.count for r in reps] == [1, 2, 3]
    # the squeezes the puck counted are where its own force samples show them
    t = np.concatenate([b.t for b in blocks])
    force = np.concatenate([b.force for b in blocks])
    for r in reps:
        during = force[(t >= r.t_start) & (t <= r.t_end)]
        assert during.size and float(during.max()) > 20.0, f"no 25 N squeeze in the samples of rep {r.count}"


def test_feedback_drives_the_led_and_buzzer_pins(pico, puck):
    puck.led(0, 255, 0)
    puck.buzzer(2000, 5.0)      # device seconds: still sounding when the emulator is asked
    st = pico.stats()
    assert st["led"]["g"]["on"] and not st["led"]["r"]["on"], st["led"]
    assert st["buzzer"]["on"] and abs(st["buzzer"]["freq_hz"] - 2000) < 20, st["buzzer"]
    puck.led(0, 0, 0)
    assert not pico.stats()["led"]["g"]["on"]


def test_a_puck_waiting_for_the_host_lets_the_core_sleep(pico, puck):
    # the emulated USB host sends only what it has, as a real one does (not an
    # empty packet on every OUT buffer the puck arms, which kept the core awake
    # and cost the firmware a third of its time: docs/hardware.md)
    puck.get_status()
    st0 = pico.stats()
    end = time.monotonic() + 300
    st1 = st0
    while st1["ns"] - st0["ns"] < 0.5e9 and time.monotonic() < end:
        time.sleep(0.5)
        st1 = pico.stats()
    busy = (st1["busy_cycles"] - st0["busy_cycles"]) / max(st1["total_cycles"] - st0["total_cycles"], 1)
    assert st1["ns"] - st0["ns"] >= 0.5e9, "the emulated Pico's clock did not run"
    assert busy < 0.5, f"the core was busy {busy:.0%} of half a device-second with nothing to do"


def test_a_hung_firmware_is_reset_by_the_watchdog_and_the_host_hears_why(pico, puck):
    pico.hang()
    end = time.monotonic() + 900
    st = None
    while time.monotonic() < end:
        try:
            st = puck.get_status()
            if st.reset_cause == "watchdog":
                break
        except openpuck.errors.OpenPuckError:
            time.sleep(2.0)
    stats = pico.stats()
    why = (f"emulator: resets {stats['resets']} at {stats['ns'] / 1e9:.1f} device-s; "
           f"link: {puck.counters}\n{pico.log_tail()}")
    assert "watchdog" in stats["resets"], why
    assert st is not None and st.reset_cause == "watchdog", why


def test_a_host_that_talks_while_the_puck_boots_does_not_stop_it(image, flashed, tmp_path):
    """Frames may hold 0x03 (Ctrl-C) anywhere: one that reaches the puck while
    its firmware still imports must not stop it at the REPL. The host here
    sends from power-on until the puck's first device-seconds are past, as a
    host asking for status while the puck reboots does."""
    import tty

    import openpuck.device.pico
    frame = openpuck.protocol.encode("get_info", seq=3)
    assert 0x03 in frame
    with openpuck.device.pico.EmulatedPico(image, state_dir=tmp_path, flash=flashed) as p:
        fd = os.open(p.port, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            sent_at = -1
            while (ns := p.stats()["ns"]) < 2_500_000_000:
                if ns - sent_at >= 50_000_000:      # every 50 ms of the puck's time, as a host would
                    os.write(fd, frame)
                    sent_at = ns
                time.sleep(0.05)
        finally:
            os.close(fd)
        pk = p.connect()
        try:
            st = pk.get_status()
        finally:
            pk.close()
    assert st is not None and st.reset_cause == "power_on"


@pytest.mark.pico_long
@pytest.mark.parametrize("cut_after", [1, 2, 3])
def test_a_power_cut_while_the_config_is_written_loses_nothing(image, flashed, tmp_path, cut_after):
    """set_config writes the config file (littlefs: new blocks, then the
    metadata commit). The power goes right after the Nth flash operation of
    that write; the puck boots with the old value or the new one, never a torn
    or default config."""
    import openpuck.device.pico
    with openpuck.device.pico.EmulatedPico(image, state_dir=tmp_path, flash=flashed) as p:
        pk = p.connect()
        old = pk.get_config("rate_hz")
        new = 100 if old != 100 else 50
        pk.set_config("rate_hz", 25 if old != 25 else 50)     # a first change, so a file exists
        before = pk.get_config("rate_hz")
        p.cut_after_flash_writes(cut_after)
        try:
            pk.set_config("rate_hz", new)
        except openpuck.errors.OpenPuckError:
            pass       # the answer may never come: the power went first
        assert p.wait_dead(600), "the flash operations never came"
        pk.close()
        p.power_on()
        pk = p.connect()
        after = pk.get_config("rate_hz")
        st = pk.get_status()
        pk.close()
    assert after in (before, new), f"config after the cut: {after} (was {before}, writing {new})"
    assert st.reset_cause == "power_on"


def test_an_rp2040_url_names_what_it_starts():
    from openpuck.device.transports import open_transport
    t = open_transport("rp2040:?scenario=grip3&detector=twin", _open=False)
    assert (t.scenario, t.detector, t.recording) == ("grip3", "twin", None)
    with pytest.raises(openpuck.errors.OpenPuckError, match="detector must be auto, c or twin"):
        open_transport("rp2040:?detector=fast", _open=False)


def test_a_missing_image_is_one_line_naming_what_to_do(monkeypatch):
    monkeypatch.delenv("OPENPUCK_PICO_IMAGE", raising=False)
    with pytest.raises(openpuck.errors.OpenPuckError, match="OPENPUCK_PICO_IMAGE"):
        openpuck.connect("rp2040:")
