# The C detector as a dynamic native module, opdetect.mpy, for one ARCH:
#   make -f natmod.mk MPY_DIR=/path/to/micropython ARCH=armv6m BUILD=../build/natmod/armv6m/obj
# Run from c_core/ (the top-level `make natmod` does it for every ARCH the
# machine can build); the .mpy lands here and is moved by the caller.
# MPY_DIR is a MicroPython source tree at tag v1.28.0 (the .mpy ABI must
# match the firmware's: 6.3 for v1.23 to v1.28).
MOD = opdetect
SRC = micropython/opdetect.c op_detect.c
ARCH ?= x64
# libgcc's helpers (division on ARMv6-M, 64-bit shifts) come from the toolchain
LINK_RUNTIME = 1
include $(MPY_DIR)/py/dynruntime.mk

# dynruntime.mk's objects depend on their .c only: a changed header (the
# generated exercise table in op_messages.h) must rebuild them too
$(BUILD)/op_detect.o $(BUILD)/micropython/opdetect.o: $(wildcard *.h) $(wildcard micropython/*.h)
