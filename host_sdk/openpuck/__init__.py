"""OpenPuck SDK: decode puck streams, count reps, talk to real and virtual pucks."""
from __future__ import annotations

__version__ = "0.1.0"

from . import protocol  # noqa: E402
from .decoder import SampleBlock, StreamDecoder  # noqa: E402
