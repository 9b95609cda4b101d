"""The only module that touches the cffi ``lib`` of the C core.

Everything else in the SDK calls the functions here; C status codes become
:class:`openpuck.errors.CoreError`. Sections: framing (CRC, COBS, stream
decoder) and detection. Keep each wrapper small: argument checks, buffers,
one call into C.
"""
from __future__ import annotations

from ._openpuck_core import ffi, lib  # noqa: F401  (the one import of lib)
from .errors import check  # noqa: F401

# ---------------------------------------------------------------- framing

# ---------------------------------------------------------------- detection
