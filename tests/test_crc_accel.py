"""The C core's CRC-32 equals binascii.crc32 on every length and alignment,
whichever implementation the host runs (on x86-64 with PCLMULQDQ the folding
CRC of c_core/host/op_crc32_x86.c for 64 bytes and more; the portable table
otherwise), and the stream decoder checks it on frames of every length."""
import binascii
import platform

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openpuck import StreamDecoder, _core, protocol


def test_the_host_runs_the_folding_crc_where_the_cpu_has_it():
    impl = _core.crc32_impl()
    assert impl in ("pclmul", "table")
    if platform.machine().lower() in ("x86_64", "amd64"):
        flags = open("/proc/cpuinfo").read() if platform.system() == "Linux" else ""
        if " pclmulqdq" in flags and " sse4_1" in flags:
            assert impl == "pclmul"


def test_every_length_to_a_few_folds_at_every_alignment():
    data = bytes((i * 131 + 7) % 256 for i in range(1200))
    for n in range(0, 700):
        for a in (0, 1, 3, 8, 15):
            chunk = data[a:a + n]
            assert _core.crc32(chunk) == binascii.crc32(chunk), (n, a)
            assert _core.crc32(chunk, 0x12345678) == binascii.crc32(chunk, 0x12345678), (n, a)


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=0, max_size=4096), st.integers(0, 15), st.integers(0, 2**32 - 1),
       st.integers(0, 4096))
def test_random_data_offset_seed_and_split(data, offset, seed, split):
    buf = bytearray(offset) + data           # data at an arbitrary alignment
    view = memoryview(buf)[offset:]
    assert _core.crc32(view, seed) == binascii.crc32(data, seed)
    k = min(split, len(data))
    assert _core.crc32(view[k:], _core.crc32(view[:k], seed)) == binascii.crc32(data, seed)


@pytest.mark.parametrize("value", [0x00, 0xFF])
def test_flat_inputs(value):
    for n in (63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 4096):
        assert _core.crc32(bytes([value]) * n) == binascii.crc32(bytes([value]) * n)


def test_one_flipped_bit_in_any_frame_length_is_a_crc_error():
    # samples frames of 1..35 records (bodies 26..505 bytes): each decodes
    # intact, and each with one payload bit flipped is counted as a CRC error
    for n in range(1, 36):
        recs = [tuple((i * 7 + c * 1001) % 30000 - 15000 for c in range(6)) + (i * 3,)
                for i in range(n)]
        frame = protocol.encode("samples", seq=n, t0_us=1000 * n, period_us=5000, n=n,
                                samples=recs)
        dec = StreamDecoder()
        dec.feed(frame)
        assert dec.counters.frames == 1 and dec.counters.crc_errors == 0, n
        body = bytearray(protocol.framing._py_cobs_decode(frame[:-1]))
        body[5 + (n * 5) % (len(body) - 9)] ^= 0x10
        bad = _core.cobs_encode(bytes(body)) + b"\0"
        dec = StreamDecoder()
        dec.feed(bad)
        assert dec.counters.crc_errors == 1 and dec.counters.frames == 0, n
