/*
 * Instruction counting with SysTick (ref/README.md "Cortex-M4 under QEMU").
 *
 * SysTick counts down from 0xFFFFFF on the CPU clock (CLKSOURCE=1); its
 * interrupt counts the wraps. board_ticks() samples with interrupts masked:
 * when a wrap is pending but not yet counted (ICSR.PENDSTSET), the value is
 * read again after it and the wrap is added, so no wrap is lost or counted
 * twice. Under QEMU -icount shift=0 virtual time advances 1 ns per executed
 * instruction, so ticks x ns-per-tick = instructions.
 */
#include <stdint.h>

#include "board.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_ICSR REG(0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)

static volatile uint32_t wraps;

void board_systick_isr(void)
{
    wraps++;
}

void board_timer_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0; /* any write clears the counter: it reloads on the next tick */
    SCB_ICSR = ICSR_PENDSTCLR;
    SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE=processor */
    while (SYST_CVR == 0) {
        /* the first tick reloads 0xFFFFFF (no wrap): count from there */
    }
    wraps = 0;
}

uint64_t board_ticks(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    uint32_t w = wraps;
    uint32_t v = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        v = SYST_CVR;
        w++;
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
}

uint32_t board_ns_per_tick_x100(void)
{
    return (uint32_t)(100000000000ull / TMO_BOARD_CPU_HZ);
}

const char *board_name(void)
{
    return TMO_BOARD_NAME;
}

void board_spin(uint32_t n)
{
    __asm__ volatile("1:\n\t"
                     "subs %0, %0, #1\n\t"
                     "bne 1b"
                     : "+l"(n)::"cc");
}
