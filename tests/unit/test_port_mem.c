/*
 * The QEMU port's memcpy/memmove/memset (ports/qemu-mps/mem.c), which replace
 * newlib's in firmware that traps unaligned access: compiled here under other
 * names and compared with the C library for every alignment of source and
 * destination, lengths 0..80 and overlapping moves in both directions. On
 * the host they cannot prove the absence of unaligned word access (the
 * firmware runs under QEMU with the trap on for that); here they prove the
 * results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define memcpy port_memcpy
#define memmove port_memmove
#define memset port_memset
#include "../../ports/qemu-mps/mem.c"
#undef memcpy
#undef memmove
#undef memset

#define SPAN 128

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(seed * 131u + i * 7u + 1u);
}

static void copies(void **state)
{
    (void)state;
    _Alignas(16) uint8_t src[SPAN], got[SPAN], want[SPAN];
    for (size_t so = 0; so < 8; so++)
        for (size_t d = 0; d < 8; d++)
            for (size_t n = 0; n <= 80; n++) {
                fill(src, SPAN, (unsigned)(so + d + n));
                memset(got, 0xA5, SPAN);
                memset(want, 0xA5, SPAN);
                assert_ptr_equal(port_memcpy(got + d, src + so, n), got + d);
                memcpy(want + d, src + so, n);
                assert_memory_equal(got, want, SPAN);
            }
}

static void moves(void **state)
{
    (void)state;
    _Alignas(16) uint8_t got[SPAN], want[SPAN];
    for (size_t from = 0; from < 12; from++)
        for (size_t to = 0; to < 12; to++)
            for (size_t n = 0; n <= 80; n++) {
                fill(got, SPAN, (unsigned)(from * 3 + to + n));
                memcpy(want, got, SPAN);
                assert_ptr_equal(port_memmove(got + to, got + from, n), got + to);
                memmove(want + to, want + from, n);
                assert_memory_equal(got, want, SPAN);
            }
}

static void sets(void **state)
{
    (void)state;
    _Alignas(16) uint8_t got[SPAN], want[SPAN];
    for (size_t d = 0; d < 8; d++)
        for (size_t n = 0; n <= 80; n++) {
            memset(got, 0x11, SPAN);
            memset(want, 0x11, SPAN);
            int c = (int)(0x180 + n); /* only the low byte counts */
            assert_ptr_equal(port_memset(got + d, c, n), got + d);
            memset(want + d, c, n);
            assert_memory_equal(got, want, SPAN);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copies),
        cmocka_unit_test(moves),
        cmocka_unit_test(sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
