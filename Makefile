# OpenPuck: every job a newcomer needs, on a fresh machine.
#   make demo   the main job: a virtual puck, a set of reps, counted live
#   make test   create .venv, install openpuck with its test extras, run the tests
# More: make help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CORE_SRC := $(wildcard c_core/*.c c_core/*.h c_core/host/*.c host_sdk/openpuck/_cdef/*.h) pyproject.toml setup.py host_sdk/openpuck/_ffi_build.py
PORT ?= /dev/ttyACM0
BOARD ?= pico_w

.PHONY: help venv build demo test test-fast test-pico bench fuzz accuracy ctest size natmod m3-micropython m3-firmware firmware flash hil hil-rp2040 tables clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/' | expand -t 12

$(STAMP): $(CORE_SRC)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,clinic]'
	@touch $@

venv: $(STAMP) ## create .venv and install openpuck (C core compiled through cffi)

build: $(STAMP) ## rebuild the C core after editing c_core/

demo: $(STAMP) ## the main job: virtual puck, live reps, session summary
	$(VENV)/bin/openpuck demo

MP_TARBALL := ../shared/micropython/micropython-1.28.0.tar.gz
# the stock MicroPython image of the emulated Pico W (a user's own: make hil-rp2040 PICO_IMAGE=...)
PICO_IMAGE ?= ../shared/micropython/micropython-1.28.0-RPI_PICO_W.uf2
# the flashed filesystem of the emulated Pico, made once per image and firmware (openpuck.device.pico.install)
export OPENPUCK_CACHE_DIR ?= $(CURDIR)/build/cache
# pytest-xdist workers (one per core); the emulated Pico's tests stay on one worker (--dist loadgroup)
JOBS ?= auto
PYTEST_PAR := -n $(JOBS) --dist loadgroup
test: $(STAMP) ## all tests (with the HIL suite's short runs on the virtual puck and the emulated Pico W), in parallel
	@if [ -f $(MP_TARBALL) ]; then $(PY) tools/natmod.py --unpack $(MP_TARBALL); \
	else echo "make test: no MicroPython source at $(MP_TARBALL): no opdetect.mpy, the virtual puck runs the twin"; fi
	$(PY) -m pytest -q $(PYTEST_PAR) --durations=15 tests

test-fast: $(STAMP) ## the quick loop while editing: every test not marked slow or toolchain (a few minutes)
	$(PY) -m pytest -q $(PYTEST_PAR) -m "not slow and not toolchain and not pico_long" tests

bench: $(STAMP) ## speed and memory benchmarks (pytest-benchmark)
	$(PY) -m pytest -q -s tests/bench --benchmark-only --benchmark-columns=median,ops,rounds

FUZZ_SECONDS ?= 60
FUZZ_RUNS ?= 1000000
FUZZ_BUILD ?= build
fuzz: $(STAMP) ## every fuzzer (C core under ASan+UBSan, SDK, virtual puck) FUZZ_SECONDS each or FUZZ_RUNS inputs; report in reports/fuzz.md
	$(PY) tools/fuzz.py --seconds $(FUZZ_SECONDS) --runs $(FUZZ_RUNS) --build $(FUZZ_BUILD)

accuracy: $(STAMP) ## rep counting accuracy on ../shared/data; leave-one-subject-out tables into docs/accuracy.md
	$(PY) tools/accuracy.py
	$(PY) tools/loso.py --markdown docs/accuracy.md

ctest: ## the C core's own unit tests, with address and undefined-behaviour sanitizers
	$(MAKE) -C c_core test

MICROPY_DIR ?=
m3-micropython: $(STAMP) ## MicroPython on an emulated Cortex-M3 with the C detector built in: parity and instructions per sample against the twin
	$(PY) tools/m3_micropython.py --micropython "$(MICROPY_DIR)"

m3-firmware: $(STAMP) ## the whole firmware on an emulated Cortex-M3 at 200 Hz: instructions per device-second, split by part, peak heap
	$(PY) tools/m3_firmware.py --micropython "$(MICROPY_DIR)"

natmod: $(STAMP) ## the C detector as opdetect.mpy for every architecture this machine can build: make natmod MICROPY_DIR=path/to/micropython-v1.28.0
	$(PY) tools/natmod.py --micropython "$(MICROPY_DIR)"

size: ## flash and RAM per c_core module for Cortex-M0+ and Cortex-M4F
	$(MAKE) -C c_core size

firmware: $(STAMP) ## compile every firmware module to .mpy into build/firmware/
	$(PY) tools/build_firmware.py

flash: firmware ## deploy to a puck: make flash PORT=/dev/ttyACM0 BOARD=pico_w
	$(PY) tools/flash.py --port $(PORT) --board $(BOARD)

hil: $(STAMP) ## the hardware-in-the-loop suite against the virtual puck
	$(PY) -m pytest hil_tests --puck=sim

test-pico: $(STAMP) ## every test of the emulated Pico W, the long ones (power cuts) included
	OPENPUCK_PICO_IMAGE=$(PICO_IMAGE) $(PY) -m pytest -v tests/test_pico.py -m ""

hil-rp2040: $(STAMP) ## the whole HIL suite on the emulated Pico W (slow: the emulator runs far below real time)
	OPENPUCK_PICO_IMAGE=$(PICO_IMAGE) $(PY) -m pytest -s hil_tests --puck=rp2040 --hil-short

tables: ## regenerate the codec tables and the detector's numbers (c_core/op_detect_params.h, the twin's block) from protocol/*.toml, and the CRC tables of c_core/op_crc32.c
	$(PYTHON) tools/gen_tables.py
	$(PYTHON) tools/gen_crc_constants.py

clean: ## remove the venv and build products
	rm -rf $(VENV) build host_sdk/openpuck/_openpuck_core*.so host_sdk/*.egg-info
