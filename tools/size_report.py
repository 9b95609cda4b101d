#!/usr/bin/env python3
"""Flash and RAM per c_core module, from the sections of each object file.

    size_report.py [--size arm-none-eabi-size] [--json] \
        --cpu "Cortex-M0+" build/.../op_a.o build/.../op_b.o \
        --cpu "Cortex-M4F" ...

flash = text + rodata + data (initial values of .data live in flash),
RAM = data + bss. Objects are compiled with -ffunction-sections
-fdata-sections, so each function and object has its own section; they are
summed by kind. stack: the deepest call chain from any of the module's
external functions, from gcc's -fcallgraph-info=su (.ci beside the .o;
calls into libc/libgcc count 0, "?" when a call is indirect or dynamic).
Below each table: with --linked ELF (every global
symbol of the core kept, libc and libgcc linked in, --gc-sections) the
whole core's flash and RAM; and what each module needs from the C
library and the compiler's runtime (memcpy, division and soft-float helpers),
which the per-module figures do not include. Used by `make -C c_core size`.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

KINDS = ("text", "rodata", "data", "bss")


def kind_of(section: str) -> str | None:
    if section.startswith(".ARM.ex"):  # unwind tables pulled in with libgcc
        return "rodata"
    for kind in KINDS:
        if section == "." + kind or section.startswith("." + kind + "."):
            return kind
    if section == "COMMON":
        return "bss"
    return None  # debug info, comments, attributes, relocations


def sections(size_tool: str, obj: Path) -> dict[str, int]:
    out = subprocess.run([size_tool, "-A", str(obj)], check=True,
                         capture_output=True, text=True).stdout
    sums = dict.fromkeys(KINDS, 0)
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            kind = kind_of(parts[0])
            if kind is not None:
                sums[kind] += int(parts[1])
    sums["flash"] = sums["text"] + sums["rodata"] + sums["data"]
    sums["ram"] = sums["data"] + sums["bss"]
    return sums


def external_needs(nm_tool: str, obj: Path, own: set[str]) -> list[str]:
    """Undefined symbols of obj that no c_core module defines."""
    out = subprocess.run([nm_tool, "-u", str(obj)], check=True, capture_output=True, text=True).stdout
    syms = (line.split()[-1] for line in out.splitlines() if line.strip())
    return sorted(sym for sym in syms if sym not in own)


def defined(nm_tool: str, objs: list[Path]) -> set[str]:
    out = subprocess.run([nm_tool, "--defined-only", *map(str, objs)], check=True,
                         capture_output=True, text=True).stdout
    return {parts[2] for line in out.splitlines() if len(parts := line.split()) == 3}


NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"]*?\\n(\d+) bytes \(([^)]+)\)')
EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def call_graph(objs: list[Path]) -> tuple[dict[str, int | None], dict[str, set[str]]]:
    """Frame size per function (None: dynamic) and callees, over all modules."""
    frames: dict[str, int | None] = {}
    calls: dict[str, set[str]] = {}
    for obj in objs:
        ci = obj.with_suffix(".ci")
        if not ci.exists():
            continue
        text = ci.read_text()
        for name, size, kind in NODE.findall(text):
            frames[name] = int(size) if kind == "static" else None
        for src, dst in EDGE.findall(text):
            calls.setdefault(src, set()).add(dst)
    return frames, calls


def worst_stack(fn: str, frames, calls, seen=()) -> int | None:
    if fn in seen:
        return None  # recursion: unbounded
    own = frames.get(fn, 0)  # not in the graph: libc or libgcc
    if own is None:
        return None
    deepest = 0
    for callee in calls.get(fn, ()):
        if callee == "__indirect_call":
            return None
        sub = worst_stack(callee, frames, calls, (*seen, fn))
        if sub is None:
            return None
        deepest = max(deepest, sub)
    return own + deepest


def module_stack(obj: Path, frames, calls) -> int | None:
    ci = obj.with_suffix(".ci")
    if not ci.exists():
        return None
    public = [name for name, _, _ in NODE.findall(ci.read_text()) if ":" not in name and name in frames]
    depths = [worst_stack(name, frames, calls) for name in public]
    if any(d is None for d in depths):
        return None
    return max(depths, default=0)


def parse_groups(argv: list[str]) -> tuple[argparse.Namespace, list[tuple[str, list[Path]]]]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="arm-none-eabi-size")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--opt", default="-Os", help="the optimisation flag, for the heading")
    opts, rest = parser.parse_known_args(argv)
    groups: list[tuple[str, list[Path]]] = []
    opts.linked = {}
    it = iter(rest)
    for arg in it:
        if arg == "--cpu":
            groups.append((next(it), []))
        elif arg == "--linked" and groups:
            opts.linked[groups[-1][0]] = Path(next(it))
        elif groups:
            groups[-1][1].append(Path(arg))
        else:
            parser.error(f"{arg}: object before any --cpu")
    return opts, groups


def main(argv: list[str]) -> int:
    opts, groups = parse_groups(argv)
    nm_tool = opts.size[: -len("size")] + "nm" if opts.size.endswith("size") else "nm"
    report = {cpu: {obj.stem: sections(opts.size, obj) for obj in objs} for cpu, objs in groups}
    for cpu, objs in groups:
        frames, calls = call_graph(objs)
        for obj in objs:
            report[cpu][obj.stem]["stack"] = module_stack(obj, frames, calls)
    needs = {}
    for cpu, objs in groups:
        own = defined(nm_tool, objs) if objs else set()
        needs[cpu] = {obj.stem: external_needs(nm_tool, obj, own) for obj in objs}
    if opts.json:
        print(json.dumps({"sizes": report, "needs": needs}, indent=1))
        return 0
    for cpu, modules in report.items():
        print(f"{cpu} ({opts.opt}), bytes per module")
        header = ("module", *KINDS, "flash", "RAM", "stack")
        print(f"  {header[0]:<18}" + "".join(f"{h:>8}" for h in header[1:]))
        total = dict.fromkeys((*KINDS, "flash", "ram"), 0)
        for name, s in modules.items():
            row = [s[k] for k in (*KINDS, "flash", "ram")] + ["?" if s["stack"] is None else s["stack"]]
            print(f"  {name:<18}" + "".join(f"{v:>8}" for v in row))
            for k in total:
                total[k] += s[k]
        if not modules:
            print("  (no modules yet)")
        print(f"  {'total':<18}" + "".join(f"{total[k]:>8}" for k in (*KINDS, "flash", "ram")) + f"{'':>8}")
        if cpu in opts.linked:
            linked = sections(opts.size, opts.linked[cpu])
            print(f"  linked: every function of c_core with its libc/libgcc helpers: "
                  f"flash {linked['flash']}, RAM {linked['ram']}")
        for name, syms in needs[cpu].items():
            print(f"  needs {name}: {' '.join(syms) if syms else '-'}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
