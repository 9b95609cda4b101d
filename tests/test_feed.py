"""The bounded queue between a Puck's reader thread and its consumers."""
from __future__ import annotations

import threading

import pytest

from openpuck.device.feed import EMPTY, END, Feed
from openpuck.device.transports import ConnectionLost


def test_items_come_out_in_order_and_empty_on_timeout():
    f = Feed(10)
    f.put(1)
    f.put(2)
    assert [f.get(0), f.get(0), f.get(0.01)] == [1, 2, EMPTY]


def test_when_full_the_oldest_item_is_dropped_and_counted():
    f = Feed(2)
    for i in range(5):
        f.put(i)
    assert [f.get(0), f.get(0)] == [3, 4] and f.dropped == 3


def test_a_closed_feed_gives_what_is_left_then_end():
    f = Feed(10)
    f.put("a")
    f.close()
    assert [f.get(None), f.get(None), f.get(None)] == ["a", END, END]


def test_a_feed_closed_with_an_error_raises_it_once_drained():
    f = Feed(10)
    f.put("a")
    f.close(ConnectionLost("gone"))
    assert f.get(0) == "a"
    with pytest.raises(ConnectionLost, match="gone"):
        f.get(0)


def test_a_waiting_consumer_wakes_for_an_item_from_another_thread():
    f = Feed(10)
    threading.Timer(0.05, f.put, args=("late",)).start()
    assert f.get(5.0) == "late"
