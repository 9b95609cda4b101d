"""Clock sync: device time to host time with an error bound (min-RTT filter)."""
from __future__ import annotations

import pytest

from openpuck.device.clock import ClockSync


def test_the_smallest_round_trip_wins_and_bounds_the_error():
    c = ClockSync()
    offset = 100.0                      # host = device + 100 s
    # (send, rtt, where in the round trip the puck handled it)
    for send, rtt, frac in [(1.0, 0.020, 0.9), (2.0, 0.002, 0.5), (3.0, 0.050, 0.1)]:
        dev = send + rtt * frac - offset
        c.add(send, send + rtt, dev)
    assert c.rtt == pytest.approx(0.002)
    host, err = c.to_host(2.001 - offset)
    assert host == pytest.approx(2.001, abs=1e-9)
    assert err == pytest.approx(0.001, abs=1e-6)


def test_the_error_bound_always_holds_whatever_the_asymmetry():
    c = ClockSync()
    offset = -5.0
    for i, frac in enumerate([0.0, 1.0, 0.3, 0.7]):
        send, rtt = 10.0 + i, 0.004 + 0.001 * i
        c.add(send, send + rtt, send + rtt * frac - offset)
    for dev_t in (15.0, 20.0, 60.0):
        host, err = c.to_host(dev_t)
        assert abs(host - (dev_t + offset)) <= err


def test_drift_is_estimated_and_the_bound_grows_with_age():
    c = ClockSync()
    skew = 50e-6                         # the puck's crystal runs 50 ppm slow
    for i in range(40):
        host = 1.0 * i
        c.add(host, host + 0.001, host * (1 - skew) + 0.0005)
    assert c.skew == pytest.approx(skew, rel=0.1)
    host, err = c.to_host(39 * (1 - skew) + 0.0005 + 30.0)
    assert abs(host - (39.0 + 0.001 / 2 + 30.0 / (1 - skew))) < err


def test_not_synced_before_the_first_pong():
    c = ClockSync()
    assert not c.synced
    with pytest.raises(LookupError):
        c.to_host(1.0)
