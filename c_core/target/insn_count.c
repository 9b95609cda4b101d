#include "insn_count.h"

void op_insn_init(void)
{
    OP_SYST_CSR = 0;
    OP_SYST_RVR = OP_SYST_MASK;
    OP_SYST_CVR = 0;      // any write clears the counter
    OP_SYST_CSR = 4u | 1u; // CLKSOURCE = CPU clock, ENABLE
}

__attribute__((noinline)) void op_insn_loop(uint32_t n)
{
    __asm__ volatile(".syntax unified\n1:\tsubs %0, %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
}

static uint32_t time_loop(uint32_t n)
{
    uint32_t t0 = op_insn_now();
    op_insn_loop(n);
    uint32_t t1 = op_insn_now();
    return op_insn_ticks(t0, t1);
}

static uint32_t round_insns(const op_insn_cal_t *cal, uint32_t ticks)
{
    return (uint32_t)((((uint64_t)ticks << 16) + cal->ticks_per_insn_q16 / 2u) / cal->ticks_per_insn_q16);
}

void op_insn_calibrate(op_insn_cal_t *cal)
{
    // 2 * n instructions separate the two timings: the call, the reads and
    // the loop's exit cancel out.
    const uint32_t n = 50000;
    uint32_t one = time_loop(n);
    uint32_t two = time_loop(2 * n);
    cal->ticks_per_insn_q16 = (uint32_t)((((uint64_t)(two - one)) << 16) / (2u * n));
    cal->overhead_insns = 0;
    uint32_t t0 = op_insn_now();
    uint32_t t1 = op_insn_now();
    cal->overhead_insns = round_insns(cal, op_insn_ticks(t0, t1));
}

uint32_t op_insn_count(const op_insn_cal_t *cal, uint32_t ticks)
{
    uint32_t n = round_insns(cal, ticks);
    return n > cal->overhead_insns ? n - cal->overhead_insns : 0;
}
