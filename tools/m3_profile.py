#!/usr/bin/env python3
"""Instructions per function and per source line, from QEMU's exec log
(m3-profile and m0-profile).

    m3_profile.py --elf profile.elf --log profile.log --samples N [--top 20]

QEMU runs the program with -singlestep (one guest instruction per
translation block) and -d exec,nochain, so the log has one "Trace" line per
executed instruction, with its address. Addresses are mapped to functions
with arm-none-eabi-nm and to source lines with arm-none-eabi-addr2line
(the objects carry -g). Counts are divided by --samples. Used by
`make -C c_core m3-profile`.
"""
from __future__ import annotations

import argparse
import bisect
import collections
import re
import subprocess
import sys
from pathlib import Path

TRACE = re.compile(rb"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")


def functions(nm: str, elf: Path) -> tuple[list[int], list[str]]:
    out = subprocess.run([nm, "-n", "--defined-only", str(elf)], check=True,
                         capture_output=True, text=True).stdout
    addrs, names = [], []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            addrs.append(int(parts[0], 16) & ~1)
            names.append(parts[2])
    return addrs, names


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--elf", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--tools-prefix", default="arm-none-eabi-")
    opts = parser.parse_args(argv)

    per_pc: collections.Counter[int] = collections.Counter()
    with opts.log.open("rb") as f:
        for line in f:
            m = TRACE.match(line)
            if m:
                per_pc[int(m.group(1), 16)] += 1
    addrs, names = functions(opts.tools_prefix + "nm", opts.elf)
    per_fn: collections.Counter[str] = collections.Counter()
    for pc, n in per_pc.items():
        i = bisect.bisect_right(addrs, pc) - 1
        per_fn[names[i] if i >= 0 else "?"] += n
    pcs = sorted(per_pc)
    out = subprocess.run([opts.tools_prefix + "addr2line", "-e", str(opts.elf)],
                         input="\n".join(hex(pc) for pc in pcs), check=True,
                         capture_output=True, text=True).stdout.splitlines()
    per_line: collections.Counter[str] = collections.Counter()
    for pc, where in zip(pcs, out):
        where = re.sub(r" \(discriminator \d+\)", "", where)
        per_line[Path(where.split(":")[0]).name + ":" + where.rsplit(":", 1)[-1]] += per_pc[pc]

    total = sum(per_pc.values())
    s = opts.samples
    print(f"{total} instructions executed, {s} samples: {total / s:.1f} per sample (startup included)")
    print("\nper function (instructions per sample)")
    for name, n in per_fn.most_common(opts.top):
        print(f"  {n / s:9.1f}  {100 * n / total:5.1f}%  {name}")
    print("\nper source line (instructions per sample)")
    for where, n in per_line.most_common(opts.top):
        print(f"  {n / s:9.1f}  {100 * n / total:5.1f}%  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
