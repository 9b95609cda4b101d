"""The C core's CRC and COBS against independent oracles: binascii.crc32 and
the `cobs` package."""
from __future__ import annotations

import binascii

import pytest
from cobs import cobs
from hypothesis import given, settings
from hypothesis import strategies as st

from openpuck import _core
from openpuck.errors import CoreError, Status
from openpuck.protocol.framing import _py_cobs_decode, _py_cobs_encode

# byte strings rich in zeros and in long non-zero runs (COBS's edge cases)
data = st.one_of(st.binary(max_size=1100),
                 st.lists(st.sampled_from([0, 1, 0xFF]), max_size=600).map(bytes),
                 st.integers(0, 800).map(lambda n: b"\x01" * n))


@settings(max_examples=300, deadline=None)
@given(data)
def test_crc32_is_binascii_crc32(d):
    assert _core.crc32(d) == binascii.crc32(d)
    h = len(d) // 3
    assert _core.crc32(d[h:], _core.crc32(d[:h])) == binascii.crc32(d)


@settings(max_examples=300, deadline=None)
@given(data)
def test_cobs_matches_the_cobs_package(d):
    enc = cobs.encode(d)
    assert _core.cobs_encode(d) == enc
    assert _py_cobs_encode(d) == enc
    assert _core.cobs_decode(enc) == d
    assert _py_cobs_decode(enc) == d


@pytest.mark.parametrize("n", [253, 254, 255, 507, 508, 509])
def test_cobs_block_boundaries(n):
    d = bytes((i % 255) + 1 for i in range(n))
    assert _core.cobs_encode(d) == cobs.encode(d)
    assert _core.cobs_decode(cobs.encode(d)) == d


@pytest.mark.parametrize("bad", [b"\x05\x01\x02", b"\x02\x00", b"\x00", b"\x03\x01\x00\x01"])
def test_invalid_cobs_is_rejected_like_the_cobs_package(bad):
    with pytest.raises(cobs.DecodeError):
        cobs.decode(bad)
    with pytest.raises(CoreError) as e:
        _core.cobs_decode(bad)
    assert e.value.status == Status.ERR_COBS
