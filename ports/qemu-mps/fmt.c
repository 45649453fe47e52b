/* Bounded string building for the firmware's report (fmt.h). */
#include "fmt.h"

void fmt_init(fmt_buf *b, char *buf, size_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    buf[0] = '\0';
}

static void put(fmt_buf *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->buf[b->len++] = c;
        b->buf[b->len] = '\0';
    }
}

void fmt_strn(fmt_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i] != '\0'; i++)
        put(b, s[i]);
}

void fmt_str(fmt_buf *b, const char *s)
{
    while (*s != '\0')
        put(b, *s++);
}

void fmt_u64(fmt_buf *b, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        uint64_t q = v / 10u;
        tmp[n++] = (char)('0' + (unsigned)(v - q * 10u));
        v = q;
    } while (v != 0);
    while (n > 0)
        put(b, tmp[--n]);
}

void fmt_u32(fmt_buf *b, uint32_t v)
{
    fmt_u64(b, v);
}

void fmt_i32(fmt_buf *b, int32_t v)
{
    if (v < 0) {
        put(b, '-');
        fmt_u64(b, (uint64_t)0 - (uint64_t)(int64_t)v);
    } else {
        fmt_u64(b, (uint64_t)v);
    }
}

void fmt_hex(fmt_buf *b, uint32_t v)
{
    for (int shift = 28; shift >= 0; shift -= 4)
        put(b, "0123456789abcdef"[(v >> shift) & 0xFu]);
}
