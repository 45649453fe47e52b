/*
 * Reset, vector table and fault reporting for the QEMU MPS boards.
 *
 * Reset copies .data from flash, zeroes .bss, turns the FPU (and MVE) on where
 * the core has one, makes unaligned and divide-by-zero accesses fault
 * (CCR.UNALIGN_TRP, CCR.DIV_0_TRP) so a kernel that relies on unaligned word
 * access fails here instead of on a core that traps, then calls main(). Any
 * fault prints the stacked PC and the fault status registers and exits 3.
 */
#include <stdint.h>

#include "board.h"
#include "fmt.h"

int main(void);
void board_systick_isr(void);

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SCB_CPACR REG(0xE000ED88u)
#define SCB_CCR REG(0xE000ED14u)
#define SCB_CFSR REG(0xE000ED28u)
#define SCB_HFSR REG(0xE000ED2Cu)
#define SCB_MMFAR REG(0xE000ED34u)
#define SCB_BFAR REG(0xE000ED38u)
#define SCB_SHCSR REG(0xE000ED24u)
#define SHCSR_FAULTS (7u << 16) /* MEMFAULTENA, BUSFAULTENA, USGFAULTENA */
#define CCR_UNALIGN_TRP (1u << 3)
#define CCR_DIV_0_TRP (1u << 4)

_Noreturn void board_reset(void)
{
    /* First: the compiler may turn the loops below into memcpy/memset calls, which
     * use the FPU/MVE registers on cores that have them. */
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    SCB_CPACR |= 0xFu << 20; /* CP10, CP11: FPU and MVE, full access */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;)
        *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;)
        *d++ = 0;
#if __ARM_ARCH >= 7
    /* ARMv6-M always faults on unaligned access and has no divide instruction. */
    SCB_CCR |= CCR_UNALIGN_TRP | CCR_DIV_0_TRP;
    /* Usage, bus and memory faults as themselves rather than escalated to HardFault. */
    SCB_SHCSR |= SHCSR_FAULTS;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    board_exit(main());
}

/* Called with the stacked exception frame (r0-r3, r12, lr, pc, xpsr). */
void board_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    char buf[160];
    fmt_buf b;
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    fmt_init(&b, buf, sizeof buf);
    fmt_str(&b, "FAULT exception=");
    fmt_u32(&b, ipsr & 0x1ffu);
    fmt_str(&b, " pc=0x");
    fmt_hex(&b, frame[6]);
    fmt_str(&b, " lr=0x");
    fmt_hex(&b, frame[5]);
#if __ARM_ARCH >= 7
    fmt_str(&b, " cfsr=0x");
    fmt_hex(&b, SCB_CFSR);
    fmt_str(&b, " hfsr=0x");
    fmt_hex(&b, SCB_HFSR);
    fmt_str(&b, " mmfar=0x");
    fmt_hex(&b, SCB_MMFAR);
    fmt_str(&b, " bfar=0x");
    fmt_hex(&b, SCB_BFAR);
#endif
    fmt_str(&b, " exc_return=0x");
    fmt_hex(&b, exc_return);
    fmt_str(&b, "\n");
    board_puts(buf);
    board_exit(3);
}

/* Finds the stack the fault frame was pushed on, then reports it. */
__attribute__((naked)) static void fault_handler(void)
{
    __asm__ volatile("mov r0, lr\n\t"
                     "movs r1, #4\n\t"
                     "tst r0, r1\n\t"
                     "bne 1f\n\t"
                     "mrs r0, msp\n\t"
                     "b 2f\n"
                     "1:\n\t"
                     "mrs r0, psp\n"
                     "2:\n\t"
                     "mov r1, lr\n\t"
                     "ldr r2, =board_fault_report\n\t"
                     "bx r2\n\t"
                     ".ltorg");
}

static void unexpected_irq(void)
{
    board_puts("FAULT unexpected interrupt\n");
    board_exit(3);
}

typedef void (*vector)(void);

__attribute__((section(".vectors"), used)) static const vector vectors[16 + 32] = {
    [0] = (vector)(uintptr_t)__stack_top,
    [1] = (vector)board_reset,
    [2] = unexpected_irq,  /* NMI */
    [3] = fault_handler,   /* HardFault */
    [4] = fault_handler,   /* MemManage */
    [5] = fault_handler,   /* BusFault */
    [6] = fault_handler,   /* UsageFault */
    [7] = fault_handler,   /* SecureFault (ARMv8-M) */
    [11] = unexpected_irq, /* SVCall */
    [12] = unexpected_irq, /* DebugMonitor */
    [14] = unexpected_irq, /* PendSV */
    [15] = board_systick_isr,
    [16 ... 47] = unexpected_irq,
};
