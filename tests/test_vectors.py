"""The golden vectors of protocol/vectors/ replayed through every decoder.

The vectors are built by tools/gen_vectors.py from hand-written layouts with
struct, binascii and the `cobs` package, so they check our codec from
outside. Each is replayed through the Python codec, the C encoder, the C
stream decoder and the pure-Python reference decoder, whole and in random
chunkings.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from openpuck import StreamDecoder, _core, protocol
from openpuck.device.decoder import PyStreamDecoder, SampleBlock

ROOT = Path(__file__).resolve().parent.parent
VALID = [json.loads(line) for line in (ROOT / "protocol/vectors/valid.jsonl").read_text("utf-8").splitlines()]
ERRORS = [json.loads(line) for line in (ROOT / "protocol/vectors/errors.jsonl").read_text("utf-8").splitlines()]
DECODERS = [StreamDecoder, PyStreamDecoder]


def expected_fields(v: dict) -> dict:
    """The vector's fields as the codec gives them: records as tuples, bytes
    fields (hex in the file, spec.md section 8) as bytes."""
    f = dict(v["fields"])
    if "samples" in f:
        f["samples"] = [tuple(s) for s in f["samples"]]
    for fd in protocol.SPECS[v["type"]].fields:
        if fd["type"] == "bytes":
            f[fd["name"]] = bytes.fromhex(f[fd["name"]])
    return f


def test_vectors_are_fresh():
    r = subprocess.run([sys.executable, str(ROOT / "tools/gen_vectors.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_every_message_type_has_a_vector():
    assert {v["type"] for v in VALID} == set(protocol.NAMES)


@pytest.mark.parametrize("v", VALID, ids=[v["name"] for v in VALID])
def test_python_codec_decodes_the_vector(v):
    msg = protocol.decode(bytes.fromhex(v["wire"]))
    assert (msg.type, msg.seq, msg.fields) == (v["type"], v["seq"], expected_fields(v))


# a vector with a field appended within v1 holds bytes a v1 encoder never writes
ENCODABLE = [v for v in VALID if not v["name"].endswith("_with_appended_field")]


def test_a_vector_exercises_fields_appended_within_v1():
    assert len(ENCODABLE) < len(VALID)


@pytest.mark.parametrize("v", ENCODABLE, ids=[v["name"] for v in ENCODABLE])
def test_python_and_c_encoders_give_the_vector_bytes(v):
    wire = bytes.fromhex(v["wire"])
    assert protocol.encode(v["type"], v["seq"], **expected_fields(v)) == wire
    payload = protocol.encode_payload(v["type"], **expected_fields(v))
    assert _core.frame_encode(protocol.SPECS[v["type"]].id, v["seq"], payload) == wire


def _replay(decoder_cls, wire: bytes, chunks: list[int] | None = None):
    d = decoder_cls(keep_raw=True)
    items = []
    if chunks is None:
        items += d.feed(wire)
    else:
        pos = 0
        for c in chunks:
            items += d.feed(wire[pos:pos + c])
            pos += c
        items += d.feed(wire[pos:])
    return d, items


def _check_valid_items(items, vectors):
    """Messages in order; samples of sample frames, in order."""
    msgs = [i for i in items if not isinstance(i, SampleBlock)]
    want = [v for v in vectors if v["type"] != "samples"]
    assert [(m.type, m.seq, m.fields) for m in msgs] == [(v["type"], v["seq"], expected_fields(v)) for v in want]
    blocks = [i for i in items if isinstance(i, SampleBlock)]
    raw = np.concatenate([b.raw for b in blocks]) if blocks else np.empty(0)
    want_raw = [tuple(s) for v in vectors if v["type"] == "samples" for s in v["fields"]["samples"]]
    assert [tuple(int(x) for x in r) for r in raw] == want_raw


@pytest.mark.parametrize("cls", DECODERS)
@pytest.mark.parametrize("v", VALID, ids=[v["name"] for v in VALID])
def test_stream_decoders_take_each_vector_whole_and_byte_by_byte(cls, v):
    wire = bytes.fromhex(v["wire"])
    for chunks in (None, [1] * len(wire)):
        d, items = _replay(cls, wire, chunks)
        _check_valid_items(items, [v])
        c = d.counters
        assert c.frames == 1 and c.errors == 0 and c.lost_frames == 0
        assert c.samples == len(v["fields"].get("samples", []))


@pytest.mark.parametrize("cls", DECODERS)
@pytest.mark.parametrize("v", ERRORS, ids=[v["name"] for v in ERRORS])
def test_each_error_vector_lands_in_its_counter(cls, v):
    wire = bytes.fromhex(v["wire"])
    for chunks in (None, [1] * len(wire)):
        d, items = _replay(cls, wire, chunks)
        assert items == []
        counts = d.counters.as_dict()
        assert counts[v["error"]] == 1
        others = {k: n for k, n in counts.items()
                  if k not in (v["error"], "bytes", "frames") and n}
        assert others == {}
        # unknown types and malformed frames are intact frames; the rest are not
        assert counts["frames"] == (1 if v["error"] in ("unknown_types", "malformed") else 0)


@pytest.mark.parametrize("cls", DECODERS)
@pytest.mark.parametrize("seed", range(8))
def test_all_vectors_in_one_stream_in_random_chunkings(cls, seed):
    rng = random.Random(seed)
    stream = [("v", v) for v in VALID] + [("e", e) for e in ERRORS]
    rng.shuffle(stream)
    wire = b"".join(bytes.fromhex(x["wire"]) for _, x in stream)
    chunks = []
    total = 0
    while total < len(wire):
        chunks.append(rng.choice([1, 2, 3, 7, 64, 200, 600, 2000]))
        total += chunks[-1]
    d, items = _replay(cls, wire, chunks)
    _check_valid_items(items, [x for k, x in stream if k == "v"])
    c = d.counters.as_dict()
    for e in {x["error"] for x in ERRORS}:
        assert c[e] == sum(1 for x in ERRORS if x["error"] == e), e
    assert c["frames"] == len(VALID) + sum(1 for x in ERRORS if x["error"] in ("unknown_types", "malformed"))
    assert c["bytes"] == len(wire)


def test_c_frame_check_agrees_with_the_error_vectors():
    from cobs import cobs
    want = {"crc_errors": "ERR_CRC", "truncated": "ERR_TRUNCATED", "oversize": "ERR_OVERSIZE",
            "version_errors": "ERR_VERSION"}
    for v in ERRORS:
        if v["error"] not in want:
            continue
        body = cobs.decode(bytes.fromhex(v["wire"])[:-1])
        assert protocol.codec.__name__ and _core.frame_check(body) == getattr(
            __import__("openpuck.errors", fromlist=["Status"]).Status, want[v["error"]]), v["name"]
