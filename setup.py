"""The C core is compiled through cffi at install time (see host_sdk/openpuck/_ffi_build.py)."""
from setuptools import setup

setup(cffi_modules=["host_sdk/openpuck/_ffi_build.py:ffibuilder"])
