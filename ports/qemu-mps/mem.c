/*
 * memcpy, memmove and memset for firmware that traps unaligned access.
 *
 * The device library needs only these three functions from the C library.
 * newlib's ARMv7-M memcpy loads and stores whole words at unaligned
 * addresses (legal on ARMv7-M by default), which faults once
 * CCR.UNALIGN_TRP is set, as this port does to prove the library never
 * depends on unaligned access. These versions move words only between
 * co-aligned addresses and bytes otherwise. Built with
 * -fno-tree-loop-distribute-patterns (so the loops are not turned back into
 * calls to themselves) and -fno-strict-aliasing (word access to any type).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static int co_aligned(const void *a, const void *b)
{
    return (((uintptr_t)a ^ (uintptr_t)b) & 3u) == 0;
}

/* Forward copy; safe for overlapping ranges with dst before src (memmove). */
static void copy_forward(uint8_t *d, const uint8_t *s, size_t n)
{
    if (n >= 8 && co_aligned(d, s)) {
        for (; ((uintptr_t)d & 3u) != 0; n--)
            *d++ = *s++;
        uint32_t *dw = (uint32_t *)(void *)d;
        const uint32_t *sw = (const uint32_t *)(const void *)s;
        for (; n >= 4; n -= 4)
            *dw++ = *sw++;
        d = (uint8_t *)dw;
        s = (const uint8_t *)sw;
    }
    while (n-- > 0)
        *d++ = *s++;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (n >= 16 && co_aligned(d, s)) {
        for (; ((uintptr_t)d & 3u) != 0; n--)
            *d++ = *s++;
        uint32_t *dw = (uint32_t *)(void *)d;
        const uint32_t *sw = (const uint32_t *)(const void *)s;
        for (; n >= 16; n -= 16, dw += 4, sw += 4) {
            dw[0] = sw[0];
            dw[1] = sw[1];
            dw[2] = sw[2];
            dw[3] = sw[3];
        }
        d = (uint8_t *)dw;
        s = (const uint8_t *)sw;
    }
    copy_forward(d, s, n);
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((uintptr_t)d - (uintptr_t)s >= n) {
        copy_forward(d, s, n); /* d before s, or no overlap */
        return dst;
    }
    /* d overlaps the tail of s: copy backwards */
    d += n;
    s += n;
    if (n >= 8 && co_aligned(d, s)) {
        for (; ((uintptr_t)d & 3u) != 0; n--)
            *--d = *--s;
        uint32_t *dw = (uint32_t *)(void *)d;
        const uint32_t *sw = (const uint32_t *)(const void *)s;
        for (; n >= 4; n -= 4)
            *--dw = *--sw;
        d = (uint8_t *)dw;
        s = (const uint8_t *)sw;
    }
    while (n-- > 0)
        *--d = *--s;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    uint8_t v = (uint8_t)c;
    if (n >= 8) {
        for (; ((uintptr_t)d & 3u) != 0; n--)
            *d++ = v;
        uint32_t w = v * 0x01010101u;
        uint32_t *dw = (uint32_t *)(void *)d;
        for (; n >= 16; n -= 16, dw += 4) {
            dw[0] = w;
            dw[1] = w;
            dw[2] = w;
            dw[3] = w;
        }
        for (; n >= 4; n -= 4)
            *dw++ = w;
        d = (uint8_t *)dw;
    }
    while (n-- > 0)
        *d++ = v;
    return dst;
}
