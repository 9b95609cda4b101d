"""COBS and CRC-32 of the wire envelope (spec.md, "Envelope").

The work is done by the C core (through openpuck._core); the pure-Python
versions here are the reference the spec describes and the fallback used
while the core is not built.
"""
from __future__ import annotations

import binascii


def crc32(data: bytes, crc: int = 0) -> int:
    """CRC-32/ISO-HDLC, identical to ``binascii.crc32``."""
    return binascii.crc32(data, crc)


def _py_cobs_encode(data: bytes) -> bytes:
    out = bytearray([0])
    code_at, code = 0, 1
    last = len(data) - 1
    for i, b in enumerate(data):
        if b == 0:
            out[code_at] = code
            code_at, code = len(out), 1
            out.append(0)
        else:
            out.append(b)
            code += 1
            if code == 0xFF and i < last:  # a full block ending the input is the last
                out[code_at] = code
                code_at, code = len(out), 1
                out.append(0)
    out[code_at] = code
    return bytes(out)


def _py_cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise ValueError("COBS: zero byte inside a frame")
        end = i + code
        if end > n:
            raise ValueError("COBS: code byte runs past the frame end")
        chunk = data[i + 1:end]
        if 0 in chunk:
            raise ValueError("COBS: zero byte inside a frame")
        out += chunk
        i = end
        if code < 0xFF and i < n:
            out.append(0)
    return bytes(out)


try:
    from .._core import cobs_decode, cobs_encode  # the C core
except ImportError:  # core not built yet (or an old build): the reference code
    cobs_encode = _py_cobs_encode
    cobs_decode = _py_cobs_decode

__all__ = ["crc32", "cobs_encode", "cobs_decode"]
