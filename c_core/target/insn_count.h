// Counting instructions on the emulated Cortex-M3 (and Cortex-M0: the same
// code on QEMU's microbit, 16 MHz, 4.096 ticks per instruction).
//
// QEMU does not model cycles and Debian's QEMU ships no TCG plugins, but with
// `-icount shift=S` its virtual clock advances exactly 2^S ns per guest
// instruction (and with sleep=off, only then). SysTick, clocked from the
// mps2-an385 CPU clock (25 MHz: 40 ns a tick), reads that virtual clock. With
// S = 8 one instruction is 256 ns = 6.4 ticks, so a tick count rounds to the
// exact number of instructions executed between two reads. The scale is
// not assumed: op_insn_calibrate() times an assembly loop of known length.
// On real silicon the same SysTick reads CPU cycles instead.
#ifndef OP_TARGET_INSN_COUNT_H
#define OP_TARGET_INSN_COUNT_H

#include <stdint.h>

#define OP_SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define OP_SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define OP_SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define OP_SYST_MASK (0x00FFFFFFu)

typedef struct {
    uint32_t ticks_per_insn_q16; // SysTick ticks per instruction, 16.16 fixed point
    uint32_t overhead_insns;     // instructions between two back-to-back reads
} op_insn_cal_t;

// Start SysTick free-running from the CPU clock, no interrupt.
void op_insn_init(void);

// Current SysTick value (counts down, 24 bits).
static inline uint32_t op_insn_now(void)
{
    return OP_SYST_CVR;
}

// Ticks from `start` to `end` (both from op_insn_now(); one wrap allowed).
static inline uint32_t op_insn_ticks(uint32_t start, uint32_t end)
{
    return (start - end) & OP_SYST_MASK;
}

// Measure the scale and the cost of reading the counter.
void op_insn_calibrate(op_insn_cal_t *cal);

// Instructions executed in `ticks` (from op_insn_ticks around some code),
// the counter read itself excluded. Exact while ticks per instruction > 2.
uint32_t op_insn_count(const op_insn_cal_t *cal, uint32_t ticks);

// Run exactly 2 * n + a few instructions (n >= 1).
void op_insn_loop(uint32_t n);

#endif // OP_TARGET_INSN_COUNT_H
