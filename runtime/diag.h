/*
 * Helpers that fill a tmo_diag; private to the device library.
 */
#ifndef TMO_DIAG_PRIV_H
#define TMO_DIAG_PRIV_H

#include "tinymlops/config.h"
#include "tinymlops/err.h"

#include <stddef.h>

/* Longest of the library's own NUL-terminated strings (names, messages) that diag measures. */
#define TMO_DIAG_STR_MAX 256u

/* Length of a NUL-terminated string, at most max (no libc strlen in the device library). */
size_t tmo_strnlen(const char *s, size_t max);

/*
 * Whether a[0..n) equals b[0..n). The device library links only
 * memcpy/memset/memmove from libc; this replaces memcmp. Not constant-time:
 * secrets are compared by the PSA implementation, never here.
 */
int tmo_bytes_equal(const void *a, const void *b, size_t n);

/*
 * A problem sentence, or NULL when the build leaves them out
 * (TMO_DIAG_MESSAGES=0): the condition is constant, so the string is not
 * even emitted. Every function taking a `problem` goes through it by a macro
 * of its own name (defined with its name in parentheses).
 */
#define TMO_DIAG_TEXT(s) (TMO_DIAG_MESSAGES ? (s) : (const char *)0)

/* Records an error and returns it, so callers can `return diag_set(...)`. */
tmo_err(diag_set)(tmo_diag *d, tmo_err err, tmo_where where, int32_t index, const char *field,
                  const char *problem);
#define diag_set(d, err, where, index, field, problem)                                           \
    diag_set(d, err, where, index, field, TMO_DIAG_TEXT(problem))

/* Adds the offending value (and optionally the bound it broke) to the last error. */
void diag_value(tmo_diag *d, int64_t value);
void diag_limit(tmo_diag *d, int64_t value, int64_t limit);

#endif
