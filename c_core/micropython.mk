# The C detector as the MicroPython user C module `opdetect` (make-based
# ports: unix, stm32, qemu, ...). Build a firmware with it:
#   make -C ports/unix USER_C_MODULES=/path/to/openpuck
# USER_C_MODULES names the repository root, the folder ABOVE this one:
# py/py.mk looks for $(USER_C_MODULES)/*/micropython.mk. Naming c_core/
# itself builds a firmware that silently lacks the module (tests/test_natmod.py
# builds it this way and imports opdetect, so the mistake cannot come back).
OPDETECT_MOD_DIR := $(USERMOD_DIR)

# the wrapper is scanned for qstrs; the core is plain C
SRC_USERMOD_C += $(OPDETECT_MOD_DIR)/micropython/opdetect.c
SRC_USERMOD_LIB_C += $(OPDETECT_MOD_DIR)/op_detect.c

CFLAGS_USERMOD += -I$(OPDETECT_MOD_DIR)
