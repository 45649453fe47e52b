/*
 * A tiny bounded string builder for the firmware's report lines (no printf:
 * the device library never formats, and the harness needs only these few).
 */
#ifndef TMO_QEMU_MPS_FMT_H
#define TMO_QEMU_MPS_FMT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t cap, len;
} fmt_buf;

/* buf must hold at least 1 byte; output beyond cap-1 characters is dropped. */
void fmt_init(fmt_buf *b, char *buf, size_t cap);
void fmt_str(fmt_buf *b, const char *s);
void fmt_strn(fmt_buf *b, const char *s, size_t n);
void fmt_u64(fmt_buf *b, uint64_t v);
void fmt_u32(fmt_buf *b, uint32_t v);
void fmt_i32(fmt_buf *b, int32_t v);
void fmt_hex(fmt_buf *b, uint32_t v);

#endif
