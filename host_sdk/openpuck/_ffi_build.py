"""cffi API-mode build of the C core (c_core/*.c) as openpuck._openpuck_core.

The declarations cffi sees live in _cdef/*.h, one file per area of the core,
written in cffi's cdef dialect (constants as ``#define NAME ...``).
"""
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
CORE = HERE.parent.parent / "c_core"

ffibuilder = FFI()
ffibuilder.cdef("\n".join(p.read_text() for p in sorted((HERE / "_cdef").glob("*.h"))))

_sources = sorted(str(p.relative_to(HERE.parent.parent)) for p in CORE.glob("op_*.c"))
ffibuilder.set_source(
    "openpuck._openpuck_core",
    "\n".join(f'#include "{h.name}"' for h in sorted(CORE.glob("op_*.h"))),
    sources=_sources,
    include_dirs=[str(CORE)],
    extra_compile_args=["-O3", "-std=c99"],
)

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=str(HERE.parent.parent / "build" / "cffi"), verbose=True)
