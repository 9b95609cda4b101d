"""cffi API-mode build of the C core (c_core/*.c) as openpuck._openpuck_core.

The declarations cffi sees live in _cdef/*.h, one file per area of the core,
written in cffi's cdef dialect (constants as ``#define NAME ...``).
"""
import platform
import sys
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
CORE = HERE.parent.parent / "c_core"

ffibuilder = FFI()
_cdef = [p.read_text() for p in sorted((HERE / "_cdef").glob("*.h"))]
_sources = sorted(str(p.relative_to(HERE.parent.parent)) for p in CORE.glob("op_*.c"))
_macros = []

# Host-only acceleration, outside the portable core (which must stay C99 for
# the Cortex-M builds): on x86-64 with gcc or clang, the PCLMULQDQ CRC
# (c_core/host/op_crc32_x86.c) and the SSE4.1 samples loop
# (c_core/host/op_unpack_x86.c), each used at run time when the CPU has it.
if platform.machine().lower() in ("x86_64", "amd64") and sys.platform != "win32":
    _sources += [str((CORE / "host" / f).relative_to(HERE.parent.parent))
                 for f in ("op_crc32_x86.c", "op_unpack_x86.c")]
    _macros += [("OP_CRC32_ACCEL", "1"), ("OP_UNPACK_ACCEL", "1")]
    _cdef.append("int op_crc32_accel_active(void);")

ffibuilder.cdef("\n".join(_cdef))


def _set_source(sources: list[str]) -> None:
    ffibuilder.set_source(
        "openpuck._openpuck_core",
        "\n".join(f'#include "{h.name}"' for h in sorted(CORE.glob("op_*.h"))),
        sources=sources,
        include_dirs=[str(CORE)],
        define_macros=_macros,
        extra_compile_args=["-O3", "-std=c99"],
    )


if __name__ != "__main__":
    _set_source(_sources)

if __name__ == "__main__":
    # python host_sdk/openpuck/_ffi_build.py: rebuild the extension in place
    # (host_sdk/openpuck/), e.g. in a second checkout that shares a venv.
    # setuptools wants the sources relative to the project; cffi's compile()
    # runs from its build folder, so here they are made absolute.
    import shutil
    root = HERE.parent.parent
    build = root / "build" / "cffi"
    _set_source([str(root / s) for s in _sources])
    so = ffibuilder.compile(tmpdir=str(build), verbose=False)
    dst = HERE / Path(so).name
    for old in HERE.glob("_openpuck_core*.so"):   # one extension, or Python picks by suffix order
        old.unlink()
    shutil.copy2(so, dst)
    print(f"built {dst}")
