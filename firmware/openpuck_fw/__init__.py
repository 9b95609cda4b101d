"""OpenPuck firmware: sampler, detector, protocol and commands for MicroPython."""
VERSION = (0, 1, 0)
