"""openpuck decode: a puck's byte stream to counters, messages and a CSV."""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from ..device.decoder import SampleBlock, StreamDecoder
from ..offline.csvio import write_csv
from ..offline.recording import IN

HELP = "decode a puck byte stream: print its counters, write its samples as CSV"
DESCRIPTION = """\
Decode a file of wire bytes (what a puck sent, e.g. from `openpuck encode` or a
capture of the serial port), or the puck's bytes in an .opr recording. Prints what was found: intact frames, samples,
and every frame lost or damaged. With --csv, writes the samples in physical
units (docs/csv-format.md).
"""
EPILOG = """\
examples:
  openpuck decode rec.bin                       counters, one per line
  openpuck decode rec.bin --csv rec.csv         and the samples as CSV
  openpuck decode rec.bin --json                one JSON object (for scripts)
  openpuck decode session.opr                   the puck's bytes in a recording

counters: frames (intact), samples, lost_frames (missing from seq gaps),
crc_errors, cobs_errors, oversize, truncated, version_errors, unknown_types,
malformed, seq_resets (the puck restarted its seq), duplicates (frames
repeated whole, dropped), bytes.
"""
CHUNK = 1 << 20


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("bin", metavar="FILE", help="wire bytes (.bin) or a recording (.opr: the puck's bytes in it)")
    p.add_argument("--csv", metavar="OUT.csv", help="write the samples to this CSV")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args: argparse.Namespace) -> int:
    from ..offline.recording import open_source
    source = open_source(args.bin, want=("recording", "wire"))
    for w in source.warnings():
        print(f"openpuck decode: warning: {w}", file=sys.stderr)
    dec = StreamDecoder()
    blocks: list[SampleBlock] = []
    types: Counter[str] = Counter()
    for chunk in source.chunks:
        if chunk.direction != IN:
            continue
        for item in dec.feed(chunk.data):
            if isinstance(item, SampleBlock):
                blocks.append(item)
            else:
                types[item.type] += 1
    dec.finish()
    c = dec.counters
    if args.csv:
        s = SampleBlock.concat(blocks)
        write_csv(args.csv, s.t, s.accel, s.gyro, s.force)
    if args.json:
        out: dict[str, Any] = dict(c.as_dict())
        out["messages"] = dict(sorted(types.items()))
        print(json.dumps(out))
    else:
        for k, v in c.as_dict().items():
            print(f"{k:15} {v}")
        if types:
            print("messages       " + ", ".join(f"{k} {v}" for k, v in sorted(types.items())))
        if args.csv:
            print(f"wrote {args.csv}")
    return 0
