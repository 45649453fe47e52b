/*
 * Freestanding-check shim: the only <string.h> functions the device library
 * may call. Every C toolchain for a microcontroller provides these three (the
 * compiler itself emits calls to them for struct copies and initialization),
 * so they are the whole of libc the runtime is allowed to need; byte
 * comparison is tmo_bytes_equal() in runtime/diag.c. Anything else from
 * <string.h> fails to compile in tools/check_freestanding.sh.
 */
#ifndef TMO_FREESTANDING_STRING_H
#define TMO_FREESTANDING_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

#endif
