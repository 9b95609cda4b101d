// Arm semihosting: the target executes BKPT 0xAB with the operation in r0
// and its argument in r1; QEMU (-semihosting) performs it on the host.
#include "semihost.h"

#define SYS_WRITE0 (0x04)
#define SYS_EXIT (0x18)
#define SYS_EXIT_EXTENDED (0x20)
#define ADP_STOPPED_APPLICATION_EXIT (0x20026)

static uint32_t sh_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void op_sh_write0(const char *s)
{
    sh_call(SYS_WRITE0, s);
}

void op_sh_exit(int code)
{
    // SYS_EXIT_EXTENDED carries the exit status on 32-bit Arm (plain
    // SYS_EXIT only tells "application exit" from an error).
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    sh_call(SYS_EXIT_EXTENDED, block);
    // A host without the extension: fall back to the plain call.
    sh_call(SYS_EXIT, (const void *)(uintptr_t)(code == 0 ? ADP_STOPPED_APPLICATION_EXIT : 0x20024));
    for (;;) {
    }
}

// newlib's exit() ends here after running atexit handlers and flushing
// stdio; this replaces librdimon's _exit so the status always reaches QEMU.
void _exit(int code) __attribute__((noreturn));
void _exit(int code)
{
    op_sh_exit(code);
}
