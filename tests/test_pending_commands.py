"""The table of commands waiting for the puck's answer, on its own: which
message answers which command, nacks, replies, timeouts and a lost link."""
from __future__ import annotations

import pytest

from openpuck import protocol
from openpuck.device.pending import CommandError, CommandTimeout, PendingCommands
from openpuck.device.transports import ConnectionLost
from openpuck.errors import OpenPuckError

TYPE = {name: spec.id for name, spec in protocol.SPECS.items()}


def ack(name: str, seq: int) -> protocol.Message:
    return protocol.Message("ack", 0, {"cmd_type": TYPE[name], "cmd_seq": seq})


def nack(name: str, seq: int, error: str, detail: int = 0) -> protocol.Message:
    return protocol.Message("nack", 0, {"cmd_type": TYPE[name], "cmd_seq": seq,
                                        "error": protocol.ENUMS["nack_error"][error],
                                        "detail": detail})


def pong(host_time_us: int) -> protocol.Message:
    return protocol.Message("pong", 0, {"host_time_us": host_time_us, "device_time_us": 7})


def config(key: int, value: int) -> protocol.Message:
    return protocol.Message("config", 0, {"key": key, "value": value})


def test_a_command_without_a_reply_is_answered_by_its_ack():
    table = PendingCommands()
    p = table.register("led", seq=4)
    assert not p.done
    assert table.resolve(ack("led", 4)) is p
    assert p.done and p.acked and p.wait(0) is None


def test_an_ack_answers_only_the_command_of_its_type_and_seq():
    table = PendingCommands()
    p = table.register("led", seq=4)
    assert table.resolve(ack("led", 5)) is None
    assert table.resolve(ack("buzzer", 4)) is None
    assert not p.done


def test_a_nack_fails_the_command_naming_it_and_the_error():
    table = PendingCommands()
    p = table.register("buzzer", seq=9)
    assert table.resolve(nack("buzzer", 9, "out_of_range", detail=1)) is p
    with pytest.raises(CommandError, match=r"^buzzer: refused by the puck: out_of_range "
                                           r"\(code 3, field 1\)$") as e:
        p.wait(0)
    assert (e.value.command, e.value.error, e.value.code, e.value.detail) == (
        "buzzer", "out_of_range", 3, 1)


def test_a_command_that_expects_a_reply_waits_for_it_after_the_ack():
    table = PendingCommands()
    p = table.register("get_config", seq=2, expect="config", match=lambda m: m["key"] == 1)
    table.resolve(ack("get_config", 2))
    assert p.acked and not p.done
    table.resolve(config(1, 200))
    assert p.wait(0)["value"] == 200


def test_a_reply_before_the_ack_answers_the_command_too():
    table = PendingCommands()
    p = table.register("get_info", seq=3, expect="device_info")
    info = protocol.Message("device_info", 0, {"serial": "X"})
    assert table.resolve(info) is p
    assert p.wait(0) is info
    assert table.resolve(ack("get_info", 3)) is None   # nothing left for it to answer


def test_a_reply_goes_to_the_oldest_waiting_command_it_matches():
    table = PendingCommands()
    first = table.register("ping", seq=1, expect="pong", match=lambda m: m["host_time_us"] == 100)
    second = table.register("ping", seq=2, expect="pong", match=lambda m: m["host_time_us"] == 200)
    assert table.resolve(pong(200)) is second
    assert not first.done
    a = table.register("get_status", seq=3, expect="status")
    b = table.register("get_status", seq=4, expect="status")
    status = protocol.Message("status", 0, {})
    assert table.resolve(status) is a and not b.done


def test_a_message_no_command_waits_for_answers_nothing():
    table = PendingCommands()
    table.register("ping", seq=1, expect="pong", match=lambda m: m["host_time_us"] == 100)
    assert table.resolve(pong(999)) is None          # a periodic ping's pong
    assert table.resolve(config(1, 5)) is None
    assert table.resolve(protocol.Message("log", 0, {"level": 1, "text": "hi"})) is None


def test_silence_times_out_naming_the_command():
    p = PendingCommands().register("calibrate", seq=1)
    with pytest.raises(CommandTimeout, match=r"^calibrate: no answer from the puck within 0.01 s$"):
        p.wait(0.01)


def test_an_ack_without_the_expected_reply_times_out_saying_so():
    table = PendingCommands()
    p = table.register("set_config", seq=1, expect="config")
    table.resolve(ack("set_config", 1))
    with pytest.raises(CommandTimeout, match=r"^set_config: the puck acked but sent no config"):
        p.wait(0.01)


def test_a_lost_link_fails_every_command_still_waiting():
    table = PendingCommands()
    answered = table.register("led", seq=1)
    table.resolve(ack("led", 1))
    waiting = [table.register("ping", seq=2, expect="pong"), table.register("stop", seq=3)]
    lost = ConnectionLost("loop:x: link lost")
    table.fail_all(lost)
    for p in waiting:
        with pytest.raises(ConnectionLost, match="link lost"):
            p.wait(0)
    assert answered.wait(0) is None


def test_discarded_commands_leave_the_table():
    table = PendingCommands()
    p = table.register("led", seq=1)
    q = table.register("stop", seq=2)
    assert len(table) == 2
    table.discard(p)
    table.discard(p)
    assert len(table) == 1
    assert table.resolve(ack("led", 1)) is None and not p.done
    assert table.resolve(ack("stop", 2)) is q


def test_unknown_command_and_reply_names_are_refused():
    with pytest.raises(OpenPuckError, match="unknown command 'juggle'"):
        PendingCommands().register("juggle", seq=1)
    with pytest.raises(OpenPuckError, match="get_info: unknown reply message 'who'"):
        PendingCommands().register("get_info", seq=1, expect="who")
