/*
 * Arm semihosting (BKPT 0xAB on M-profile): console output and exit status
 * through QEMU's -semihosting-config enable=on,target=native. No C library.
 */
#include <stdint.h>

#include "board.h"

#define SYS_WRITE0 0x04u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uintptr_t semihost(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_puts(const char *s)
{
    semihost(SYS_WRITE0, s);
}

_Noreturn void board_exit(int status)
{
    uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)(intptr_t)status};
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;)
        __asm__ volatile("wfi");
}
