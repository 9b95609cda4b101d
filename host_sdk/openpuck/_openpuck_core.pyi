# The C core as cffi builds it (host_sdk/openpuck/_ffi_build.py): a compiled
# module, typed here for mypy. Only openpuck._core imports it.
from typing import Any

ffi: Any
lib: Any
