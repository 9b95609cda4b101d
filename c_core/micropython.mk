# The C detector as the MicroPython user C module `opdetect` (make-based
# ports: unix, stm32, rp2 via make, ...). Build a firmware with it:
#   make -C ports/unix USER_C_MODULES=/path/to/openpuck/c_core
# py/py.mk finds this file by its name in the USER_C_MODULES directory.
OPDETECT_MOD_DIR := $(USERMOD_DIR)

# the wrapper is scanned for qstrs; the core is plain C
SRC_USERMOD_C += $(OPDETECT_MOD_DIR)/micropython/opdetect.c
SRC_USERMOD_LIB_C += $(OPDETECT_MOD_DIR)/op_detect.c

CFLAGS_USERMOD += -I$(OPDETECT_MOD_DIR)
