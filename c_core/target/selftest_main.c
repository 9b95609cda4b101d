// Self-test of the Cortex-M3 harness: semihosting stdout, the instruction
// counter, and the exit status. tests/test_cross.py reads its output.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "insn_count.h"

__attribute__((noinline)) static void seven_nops(void)
{
    __asm__ volatile("nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop");
}

static uint32_t measure_loop(const op_insn_cal_t *cal, uint32_t n)
{
    uint32_t t0 = op_insn_now();
    op_insn_loop(n);
    uint32_t t1 = op_insn_now();
    return op_insn_count(cal, op_insn_ticks(t0, t1));
}

int main(void)
{
    op_insn_cal_t cal;
    op_insn_init();
    op_insn_calibrate(&cal);
    printf("ticks_per_insn_x1000 %lu\n",
           (unsigned long)(((uint64_t)cal.ticks_per_insn_q16 * 1000u + 32768u) >> 16));
    // op_insn_loop(n) is 2 n instructions plus a fixed call and return.
    for (uint32_t n = 1; n <= 1000; n *= 10) {
        printf("loop %lu insns %lu\n", (unsigned long)n, (unsigned long)measure_loop(&cal, n));
    }
    uint32_t t0 = op_insn_now();
    seven_nops(); // bl, 7 nops, bx lr
    uint32_t t1 = op_insn_now();
    printf("call_7_nops insns %lu\n", (unsigned long)op_insn_count(&cal, op_insn_ticks(t0, t1)));
    // C99 length modifiers (target/printf_c99.c)
    printf("formats %zu %td %jd %lld %s\n", (size_t)1, (ptrdiff_t)-2, (intmax_t)3, -4LL, "ok");
    return 0;
}
