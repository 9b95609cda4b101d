// Startup for the emulated boards (Cortex-M3 on QEMU's mps2-an385, Cortex-M0
// on its microbit): vector table, reset handler (copy .data, zero .bss,
// start newlib's semihosting stdio, run main, exit with its status through
// semihosting) and fault handlers that end the run with a message instead
// of hanging.
#include <stdint.h>
#include <stdlib.h>

#include "semihost.h"

extern uint32_t __data_load__, __data_start__, __data_end__;
extern uint32_t __bss_start__, __bss_end__;
extern uint32_t __StackTop;

extern int main(int argc, char **argv);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);

void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void) __attribute__((noreturn));
void HardFault_Handler(void) __attribute__((noreturn));

// Exit status of a run that faulted (distinct from a test's own failures).
#define FAULT_EXIT_CODE (125)

// crti.o/crtn.o are not linked (-nostartfiles): C needs no _init/_fini work.
void _init(void);
void _fini(void);
void _init(void)
{
}
void _fini(void)
{
}

void Reset_Handler(void)
{
    const uint32_t *src = &__data_load__;
    for (uint32_t *dst = &__data_start__; dst < &__data_end__;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0;
    }
    initialise_monitor_handles();
    __libc_init_array();
    static char prog[] = "m3";
    static char *argv[] = {prog, 0};
    exit(main(1, argv)); // flushes stdio, then _exit() -> op_sh_exit()
}

void HardFault_Handler(void)
{
    op_sh_write0("openpuck target: HardFault\n");
    op_sh_exit(FAULT_EXIT_CODE);
}

void Default_Handler(void)
{
    op_sh_write0("openpuck target: unexpected exception\n");
    op_sh_exit(FAULT_EXIT_CODE);
}

typedef void (*vector_t)(void);

#define IRQ8 Default_Handler, Default_Handler, Default_Handler, Default_Handler, \
    Default_Handler, Default_Handler, Default_Handler, Default_Handler

// Initial stack pointer, then the 15 system exceptions, then a few external
// interrupts (none used: every one lands in Default_Handler).
__attribute__((section(".isr_vector"), used)) static const vector_t vectors[16 + 32] = {
    (vector_t)(uintptr_t)&__StackTop,
    Reset_Handler,
    Default_Handler,   // NMI
    HardFault_Handler, // HardFault
    HardFault_Handler, // MemManage
    HardFault_Handler, // BusFault
    HardFault_Handler, // UsageFault
    0, 0, 0, 0,        // reserved
    Default_Handler,   // SVCall
    Default_Handler,   // DebugMonitor
    0,                 // reserved
    Default_Handler,   // PendSV
    Default_Handler,   // SysTick
    IRQ8, IRQ8, IRQ8, IRQ8, // external interrupts 0-31
};
