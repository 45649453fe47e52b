/*
 * The bare-metal port for QEMU's Arm MPS2/MPS3 boards (mps2-an385 Cortex-M3,
 * mps2-an386 Cortex-M4, mps3-an547 Cortex-M55): what the example firmware
 * needs from the machine, with no C library and no OS. Semihosting carries
 * the output and the exit status to the host; SysTick counts instructions
 * (QEMU -icount shift=0 advances virtual time by 1 ns per instruction).
 */
#ifndef TMO_QEMU_MPS_BOARD_H
#define TMO_QEMU_MPS_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Writes a NUL-terminated string to the host's console (semihosting SYS_WRITE0). */
void board_puts(const char *s);

/* Ends the emulation with an exit status for the host (SYS_EXIT_EXTENDED). */
_Noreturn void board_exit(int status);

/* SysTick ticks since board_timer_start(), wraps of the 24-bit counter included. */
uint64_t board_ticks(void);
void board_timer_start(void);

/*
 * Nanoseconds of virtual time per SysTick tick: the SysTick runs on the CPU
 * clock (25 MHz on mps2, 32 MHz on mps3-an547), so under -icount shift=0 one
 * tick is this many instructions.
 */
uint32_t board_ns_per_tick_x100(void);

/* Name of the board and core, for the report. */
const char *board_name(void);

/* Runs exactly 2 * n + a few instructions (a subs/bne loop): calibrates the counter. */
void board_spin(uint32_t n);

#endif
