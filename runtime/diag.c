/*
 * Error names and diagnostic formatting, without stdio so that firmware can
 * log the same messages the host tools print.
 */
#include "diag.h"

#include <string.h>

const char *tmo_err_name(tmo_err err)
{
    switch (err) {
    case TMO_OK: return "OK";
    case TMO_EINVAL: return "EINVAL";
    case TMO_ENOSPC: return "ENOSPC";
    case TMO_EBADSIG: return "EBADSIG";
    case TMO_EBADMODEL: return "EBADMODEL";
    case TMO_EUNSUPPORTED: return "EUNSUPPORTED";
    case TMO_ERANGE: return "ERANGE";
    case TMO_ESTATE: return "ESTATE";
    case TMO_EBADBUNDLE: return "EBADBUNDLE";
    case TMO_ECERT: return "ECERT";
    case TMO_EEXPIRED: return "EEXPIRED";
    case TMO_EROLLBACK: return "EROLLBACK";
    case TMO_ETARGET: return "ETARGET";
    case TMO_EKEY: return "EKEY";
    case TMO_EDIGEST: return "EDIGEST";
    case TMO_EKAT: return "EKAT";
    default: return err <= TMO_EPORT_BASE ? "EPORT" : "EUNKNOWN";
    }
}

void tmo_diag_clear(tmo_diag *d)
{
    if (d == NULL)
        return;
    memset(d, 0, sizeof *d);
    d->index = -1;
}

/*
 * The device library links only memcpy/memset/memmove from libc, so it counts
 * itself. Bounded on purpose: an unbounded counting loop is what compilers
 * turn back into a call to strlen unless built with -ffreestanding (GCC 12's
 * loop distribution does at -O2), and a firmware build need not use it.
 */
size_t tmo_strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n] != '\0')
        n++;
    return n;
}

int tmo_bytes_equal(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return 0;
    return 1;
}

tmo_err(diag_set)(tmo_diag *d, tmo_err err, tmo_where where, int32_t index, const char *field,
                  const char *problem)
{
    if (d != NULL) {
        tmo_diag_clear(d);
        d->err = err;
        d->where = where;
        d->index = index;
        d->field = field;
        d->problem = problem;
    }
    return err;
}

void diag_value(tmo_diag *d, int64_t value)
{
    if (d != NULL) {
        d->value = value;
        d->has_value = 1;
    }
}

void diag_limit(tmo_diag *d, int64_t value, int64_t limit)
{
    if (d != NULL) {
        diag_value(d, value);
        d->limit = limit;
        d->has_limit = 1;
    }
}

/* Appends to a bounded buffer while counting the full length. */
typedef struct {
    char *buf;
    size_t cap, len;
} sink;

static void put(sink *s, const char *str, size_t n)
{
    for (size_t i = 0; i < n; i++, s->len++)
        if (s->len + 1 < s->cap)
            s->buf[s->len] = str[i];
}

/* Model strings are untrusted: never let them put control bytes on a terminal. */
static void put_printable(sink *s, const char *str, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = str[i];
        put(s, (unsigned char)c < 0x20 || (unsigned char)c > 0x7e ? "?" : &c, 1);
    }
}

static void puts_(sink *s, const char *str)
{
    put(s, str, tmo_strnlen(str, TMO_DIAG_STR_MAX));
}

static void put_int(sink *s, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        tmp[sizeof tmp - 1 - n++] = '-';
    put(s, tmp + sizeof tmp - n, n);
}

static const char *where_name(tmo_where w)
{
    switch (w) {
    case TMO_AT_MODEL: return "model";
    case TMO_AT_SUBGRAPH: return "subgraph";
    case TMO_AT_OPCODE: return "operator code";
    case TMO_AT_BUFFER: return "buffer";
    case TMO_AT_TENSOR: return "tensor";
    case TMO_AT_OPERATOR: return "operator";
    case TMO_AT_SECTION: return "bundle section";
    default: return NULL;
    }
}

size_t tmo_diag_format(const tmo_diag *d, char *buf, size_t len)
{
    sink s = {buf, len, 0};
    if (d == NULL || d->err == TMO_OK) {
        puts_(&s, "no error");
    } else {
        const char *w = where_name(d->where);
        if (w != NULL) {
            puts_(&s, w);
            if (d->index >= 0) {
                puts_(&s, " ");
                put_int(&s, d->index);
            }
            if (d->op_name != NULL) {
                puts_(&s, " (");
                puts_(&s, d->op_name);
                puts_(&s, ")");
            }
            if (d->name != NULL && d->name_len > 0) {
                puts_(&s, " '");
                put_printable(&s, d->name, d->name_len > 64 ? 64 : d->name_len);
                puts_(&s, "'");
            }
            puts_(&s, ": ");
        }
        if (d->field != NULL) {
            puts_(&s, d->field);
            puts_(&s, ": ");
        }
        puts_(&s, d->problem != NULL ? d->problem : tmo_err_name(d->err));
        if (d->has_value) {
            puts_(&s, " (got ");
            put_int(&s, d->value);
            if (d->has_limit) {
                puts_(&s, ", limit ");
                put_int(&s, d->limit);
            }
            puts_(&s, ")");
        }
        if (d->offset != 0) {
            puts_(&s, " at byte ");
            put_int(&s, d->offset);
        }
        puts_(&s, " [");
        puts_(&s, tmo_err_name(d->err));
        puts_(&s, "]");
    }
    if (len > 0)
        buf[s.len < len ? s.len : len - 1] = '\0';
    return s.len;
}
