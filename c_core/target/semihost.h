// Arm semihosting calls used by the target harness (QEMU's mps2-an385 and
// microbit with -semihosting). printf goes through newlib's librdimon
// (--specs=rdimon.specs); these are the few calls the harness makes itself.
#ifndef OP_TARGET_SEMIHOST_H
#define OP_TARGET_SEMIHOST_H

#include <stdint.h>

// Write a NUL-terminated string to the host's stdout (SYS_WRITE0).
void op_sh_write0(const char *s);

// End the emulation; QEMU exits with `code` (SYS_EXIT_EXTENDED).
void op_sh_exit(int code) __attribute__((noreturn));

#endif // OP_TARGET_SEMIHOST_H
