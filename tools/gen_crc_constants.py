#!/usr/bin/env python3
"""The CRC-32 tables of c_core/op_crc32.c and the constants of the PCLMULQDQ CRC.

CRC-32/ISO-HDLC, P(x) = 0x104C11DB7, processed bit-reflected (binascii.crc32).
One polynomial, two uses:

- c_core/crc32_table.h, written by this script: the lookup tables of the
  portable CRC (c_core/op_crc32.c), made by the bitwise definition
  c = (c >> 1) ^ (c & 1 ? reflect32(P) : 0) on the register c. crc_nibble[n]
  is n after 4 steps (the 64-byte table of OP_CRC32_SMALL, for MCUs);
  crc_table[0][n] is n after 8 steps (one byte), and crc_table[k][n] is that
  followed by k zero bytes (the 16 KB of slicing-by-16, for hosts).
- the folding and reduction constants of c_core/host/op_crc32_x86.c, derived
  below and printed by --constants (they are few, and sit in that file by hand).

    python tools/gen_crc_constants.py              write c_core/crc32_table.h
    python tools/gen_crc_constants.py --check      exit 1 when it is stale
                                                   (tests/test_tables_fresh.py)
    python tools/gen_crc_constants.py --constants  print the PCLMULQDQ constants
    python tools/gen_crc_constants.py --model      run the model of
                                                   op_crc32_x86.c against binascii.crc32

The PCLMULQDQ CRC follows Gopal et al., "Fast CRC Computation for Generic
Polynomials Using PCLMULQDQ Instruction" (Intel, 2009), derived here from
first principles:

Conventions. A 128-bit register R holds the polynomial X of degree < 128 of
16 message bytes, reflected: bit i of R is the coefficient of x^(127-i)
(byte 0, bit 0 first on the wire = highest degree). Its low qword is
reflect64(Xh), its high qword reflect64(Xl), with X = Xh x^64 + Xl.

Carry-less product of reflected operands. For a = reflect64(A) and a
32-bit b = reflect32(B) in the low bits, clmul(a, b) has bit i equal to the
coefficient of x^(94-i) of A*B, i.e. it is reflect128(A * B * x^33). So a
constant meant to multiply by x^k is stored as reflect32(x^(k-33) mod P).

Folding by F bits (the block F bits further on absorbs X):
    X x^F = Xh x^(F+64) + Xl x^F
          = clmul(lo(R), reflect32(x^(F+31) mod P)) ^ clmul(hi(R), reflect32(x^(F-33) mod P))
(degree < 96: no overflow). F = 512 folds each of four lanes over the next 64
bytes; at the end the four lanes and the 0..3 blocks left over are each
folded by their distance to the last block (128 to 768 bits) and xored, all
at once rather than one after the other (short frames are latency-bound).

Reduction of the last register R to the CRC, X x^32 mod P. The products of
the reduction must not grow in degree, so their constants carry one more bit
(reflect32(K) << 1: for a = reflect64(A) the product clmul(a, reflect32(K) << 1)
has bit i equal to the coefficient of x^(95-i) of A K, a reflect96):
  1. X x^32 = Xh x^96 + Xl x^32. Xh x^96 = Xh (x^96 mod P) is
     clmul(lo(R), reflect32(x^96 mod P) << 1) as a reflect96; Xl x^32 as a
     reflect96 is hi(R) itself. Y = their xor: degree < 96, a reflect96.
  2. Y = Yh x^64 + Yl (Yh: bits 0..31, Yl: bits 32..95). Yh x^64 = Yh (x^64 mod P)
     is clmul(Yh bits, reflect32(x^64 mod P) << 1) as a reflect64 (for 32-bit
     operands the product has bit i = coefficient of x^(63-i)). Z = that ^ (Y >> 32),
     degree < 64, a reflect64.
  3. Barrett: Z = Zh x^32 + Zl, mu = floor(x^64 / P) (33 bits).
     Q = floor(Zh mu / x^32): the low 32 bits of clmul(reflect32(Zh), reflect33(mu)).
     Z mod P = Zl ^ (Q P mod x^32): bits 32..63 of clmul(reflect32(Q), reflect33(P)) ^ Zl.
     The result, reflect32(Z mod P), is the CRC register (before the final xor).
"""
from __future__ import annotations

import argparse
import binascii
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE_OUT = ROOT / "c_core" / "crc32_table.h"

P = 0x104C11DB7  # x^32 + ... + 1, normal (non-reflected) form


def xk_mod_p(k: int) -> int:
    """x^k mod P as an integer whose bit j is the coefficient of x^j."""
    r = 1
    for _ in range(k):
        r <<= 1
        if r >> 32 & 1:
            r ^= P
    return r


def pdiv(a: int, b: int) -> int:
    """floor(a / b) over GF(2)."""
    q = 0
    db = b.bit_length() - 1
    while a.bit_length() - 1 >= db:
        s = a.bit_length() - 1 - db
        q |= 1 << s
        a ^= b << s
    return q


def reflect(v: int, n: int) -> int:
    return int(format(v, f"0{n}b")[::-1], 2)


def clmul(a: int, b: int) -> int:
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        b >>= 1
    return r


def fold_pair(bits: int) -> tuple[int, int]:
    """(lo, hi) constants that move a register ``bits`` further along the message."""
    return reflect(xk_mod_p(bits + 31), 32), reflect(xk_mod_p(bits - 33), 32)


def constants() -> dict[str, int]:
    k = {}
    for d in range(1, 7):  # by d blocks of 128 bits: 4 = the lanes' loop, 1..6 the final combine
        k[f"fold{128 * d}_lo"], k[f"fold{128 * d}_hi"] = fold_pair(128 * d)
    k.update({
        "red96": reflect(xk_mod_p(96), 32) << 1,
        "red64": reflect(xk_mod_p(64), 32) << 1,
        "mu": reflect(pdiv(1 << 64, P), 33),
        "poly": reflect(P, 33),
    })
    return k


# ------------------------------------------------------------- tables of op_crc32.c
def crc_steps(c: int, n: int) -> int:
    """The reflected CRC register c after n steps of the bitwise definition."""
    poly = reflect(P & 0xFFFFFFFF, 32)  # 0xedb88320
    for _ in range(n):
        c = (c >> 1) ^ (poly if c & 1 else 0)
    return c


def nibble_table() -> list[int]:
    """crc_nibble[n]: n after 4 steps (OP_CRC32_SMALL takes a byte in two)."""
    return [crc_steps(n, 4) for n in range(16)]


def slicing_tables(count: int = 16) -> list[list[int]]:
    """crc_table[k][n]: byte n, then k zero bytes, from a zero register."""
    tables = [[crc_steps(n, 8) for n in range(256)]]
    while len(tables) < count:
        tables.append([(c >> 8) ^ tables[0][c & 0xFF] for c in tables[-1]])
    return tables


def c_words(values: list[int], per_line: int, indent: str, last_comma: bool) -> str:
    """values as C uint32_t literals, per_line to a line."""
    lines = [", ".join(f"0x{v:08x}u" for v in values[i:i + per_line])
             for i in range(0, len(values), per_line)]
    return indent + (",\n" + indent).join(lines) + ("," if last_comma else "") + "\n"


def table_header() -> str:
    """c_core/crc32_table.h: the tables of c_core/op_crc32.c."""
    poly = reflect(P & 0xFFFFFFFF, 32)
    out = ["// Generated by tools/gen_crc_constants.py. Do not edit.\n",
           "// The tables of op_crc32.c (CRC-32/ISO-HDLC, bit-reflected), made by the\n",
           f"// bitwise definition c = (c >> 1) ^ (c & 1 ? 0x{poly:08x} : 0) on the register:\n",
           "//   crc_nibble[n]     n after 4 steps: OP_CRC32_SMALL, 64 bytes, for MCUs\n",
           "//   crc_table[k][n]   n after 8 steps (byte n), then k zero bytes:\n",
           "//                     slicing-by-16, 16 KB, for hosts\n",
           "// Not an op_*.h: the cffi build (host_sdk/openpuck/_ffi_build.py) includes\n",
           "// every op_*.h, and only op_crc32.c may define these.\n",
           "#ifndef OP_CRC32_TABLE_H\n#define OP_CRC32_TABLE_H\n\n#include <stdint.h>\n\n",
           "#ifdef OP_CRC32_SMALL\n\n",
           "static const uint32_t crc_nibble[16] = {\n",
           c_words(nibble_table(), 4, "    ", last_comma=False),
           "};\n\n#else\n\n",
           "static const uint32_t crc_table[16][256] = {\n"]
    for table in slicing_tables():
        out += ["    {\n", c_words(table, 6, "        ", last_comma=True), "    },\n"]
    out.append("};\n\n#endif\n\n#endif // OP_CRC32_TABLE_H\n")
    return "".join(out)


# ------------------------------------------------------------- model of the C code
M64 = (1 << 64) - 1
M32 = (1 << 32) - 1


def fold(r: int, lo_k: int, hi_k: int) -> int:
    return clmul(r & M64, lo_k) ^ clmul(r >> 64, hi_k)


def crc32_model(data: bytes, crc: int = 0) -> int:
    """The algorithm of op_crc32_x86.c on Python integers (len(data) >= 64).

    The message is taken as 16 - h zero bytes and then data, h = len % 16 (16
    when 0): zero bytes leave a zero register as it is, and the starting
    register is the same as xoring it into the first 4 bytes of data."""
    k = constants()
    assert len(data) >= 64
    h = len(data) % 16 or 16
    first = bytearray(data[:4])
    for i in range(4):
        first[i] ^= ((crc ^ M32) >> (8 * i)) & 0xFF
    msg = bytes(16 - h) + bytes(first) + data[4:]
    blocks = [int.from_bytes(msg[i:i + 16], "little") for i in range(0, len(msg), 16)]
    f = {d: (k[f"fold{128 * d}_lo"], k[f"fold{128 * d}_hi"]) for d in range(1, 7)}
    lanes, i = blocks[:4], 4
    while len(blocks) - i >= 4:
        lanes = [fold(lanes[j], *f[4]) ^ blocks[i + j] for j in range(4)]
        i += 4
    rest = blocks[i:]
    r = len(rest)
    parts = lanes + rest       # each moved by its distance to the last block
    x = 0
    for j, b in enumerate(parts):
        d = len(parts) - 1 - j
        x ^= fold(b, *f[d]) if d else b
    y = clmul(x & M64, k["red96"]) ^ (x >> 64)                     # step 1
    z = clmul(y & M32, k["red64"]) ^ (y >> 32)                     # step 2
    q = clmul(z & M32, k["mu"]) & M32                               # step 3
    c = (clmul(q, k["poly"]) >> 32 ^ z >> 32) & M32
    assert r <= 3
    return c ^ M32


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help=f"exit 1 if {TABLE_OUT.name} is out of date")
    mode.add_argument("--constants", action="store_true", help="print the PCLMULQDQ constants")
    mode.add_argument("--model", action="store_true", help="run the model against binascii.crc32")
    args = ap.parse_args(argv)
    if args.constants:
        for name, v in constants().items():
            print(f"#define K_{name.upper():13s} 0x{v:09x}u")
        return 0
    if args.model:
        for n in range(64, 1200):
            data = os.urandom(n)
            seed = int.from_bytes(os.urandom(4), "little")
            assert crc32_model(data, seed) == binascii.crc32(data, seed), n
        print("model == binascii.crc32")
        return 0
    text = table_header()
    rel = TABLE_OUT.relative_to(ROOT)
    if (TABLE_OUT.read_text() if TABLE_OUT.exists() else None) == text:
        return 0
    if args.check:
        print(f"out of date (run python tools/gen_crc_constants.py): {rel}", file=sys.stderr)
        return 1
    TABLE_OUT.write_text(text)
    print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
