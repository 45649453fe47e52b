/*
 * Known-answer tests [K-1..K-4]: inputs with the exact output bytes the
 * runtime gave for them when the bundle was packed. Running them after an
 * update proves the device computes what the packer computed (same model,
 * same kernels, no corrupted flash); the first differing byte is reported
 * so a failure can be told apart from a wholesale mismatch.
 */
#include "../diag.h"
#include "monitor_priv.h"

#define ALIGN4(x) (((x) + 3u) & ~(size_t)3u)

static tmo_err bad(tmo_diag *d, const char *field, const char *problem, size_t at)
{
    diag_set(d, TMO_EBADMODEL, TMO_AT_NONE, -1, field, problem);
    if (d != NULL)
        d->offset = (uint32_t)at;
    return TMO_EBADMODEL;
}

/* Reads one length-prefixed blob at *at; NULL (and an error) when it does not fit. */
static const uint8_t *blob(const uint8_t *b, size_t len, size_t *at, uint32_t *n, tmo_diag *d,
                           tmo_err *e)
{
    if (len - *at < 4) {
        *e = bad(d, "kat.vector", "KAT ends inside a length field", len);
        return NULL;
    }
    *n = mon_le32(b + *at);
    size_t room = len - *at - 4;
    if (*n > room || ALIGN4((size_t)*n) > room) {
        *e = bad(d, "kat.vector", "tensor bytes run past the end", *at);
        return NULL;
    }
    size_t padded = ALIGN4((size_t)*n);
    const uint8_t *p = b + *at + 4;
    for (size_t i = *n; i < padded; i++)
        if (p[i] != 0) {
            *e = bad(d, "kat.padding", "padding bytes must be zero", *at + 4 + i);
            return NULL;
        }
    *at += 4 + padded;
    return p;
}

typedef struct {
    uint32_t vectors, inputs, outputs;
} kat_head;

static tmo_err parse(const uint8_t *b, size_t len, kat_head *h, tmo_diag *d)
{
    if (b == NULL)
        return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "kat", "NULL argument");
    if (len < TMO_KAT_HEADER_SIZE)
        return bad(d, "kat.header", "shorter than the header", len);
    if (!tmo_bytes_equal(b, TMO_KAT_MAGIC, 4))
        return bad(d, "kat.magic", "not a KAT (magic is not TMOK)", 0);
    if (mon_le16(b + TMO_KH_VERSION) != TMO_KAT_VERSION) {
        diag_set(d, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "kat.version",
                 "KAT version not supported by this build");
        diag_limit(d, mon_le16(b + TMO_KH_VERSION), TMO_KAT_VERSION);
        return TMO_EUNSUPPORTED;
    }
    if (mon_le16(b + TMO_KH_HEADER_SIZE) != TMO_KAT_HEADER_SIZE)
        return bad(d, "kat.header_size", "must be 16", TMO_KH_HEADER_SIZE);
    if (mon_le32(b + TMO_KH_TOTAL) != len)
        return bad(d, "kat.total_size", "does not match the section length", TMO_KH_TOTAL);
    h->vectors = mon_le16(b + TMO_KH_VECTORS);
    h->inputs = b[TMO_KH_INPUTS];
    h->outputs = b[TMO_KH_OUTPUTS];
    if (h->vectors < 1 || h->vectors > TMO_KAT_MAX_VECTORS)
        return bad(d, "kat.vectors", "vector count out of range 1..256", TMO_KH_VECTORS);
    if (h->inputs < 1 || h->inputs > TMO_KAT_MAX_IO || h->outputs < 1 ||
        h->outputs > TMO_KAT_MAX_IO)
        return bad(d, "kat.io", "input and output counts must be 1..16", TMO_KH_INPUTS);
    size_t at = TMO_KAT_HEADER_SIZE;
    for (uint32_t v = 0; v < h->vectors; v++)
        for (uint32_t t = 0; t < h->inputs + h->outputs; t++) {
            uint32_t n;
            tmo_err e = TMO_OK;
            if (blob(b, len, &at, &n, d, &e) == NULL) {
                if (d != NULL)
                    d->index = (int32_t)v;
                return e;
            }
        }
    if (at != len)
        return bad(d, "kat.total_size", "bytes left after the last vector", at);
    return TMO_OK;
}

tmo_err tmo_kat_parse(const void *data, size_t len, uint32_t *vectors, tmo_diag *diag)
{
    kat_head h = {0, 0, 0};
    tmo_diag_clear(diag);
    tmo_err e = parse((const uint8_t *)data, len, &h, diag);
    if (vectors != NULL)
        *vectors = e == TMO_OK ? h.vectors : 0;
    return e;
}

static tmo_err size_mismatch(tmo_diag *d, tmo_kat_result *r, uint32_t v, const char *field,
                             uint32_t got, size_t want)
{
    r->vector = (int32_t)v;
    diag_set(d, TMO_EINVAL, TMO_AT_NONE, (int32_t)v, field,
             "KAT tensor size differs from the model's tensor");
    diag_limit(d, got, (int64_t)want);
    return TMO_EINVAL;
}

static tmo_err run_vector(tmo_interp *it, const uint8_t *b, size_t len, size_t *at,
                          const kat_head *h, uint32_t v, tmo_kat_result *r, tmo_diag *d)
{
    tmo_err e = TMO_OK;
    uint32_t n;
    for (uint32_t i = 0; i < h->inputs; i++) {
        const uint8_t *src = blob(b, len, at, &n, d, &e);
        tmo_io io;
        tmo_interp_input(it, i, &io);
        if (n != io.bytes)
            return size_mismatch(d, r, v, "kat.input", n, io.bytes);
        memcpy(io.data, src, n);
    }
    if ((e = tmo_interp_invoke(it)) != TMO_OK)
        return diag_set(d, e, TMO_AT_NONE, (int32_t)v, "kat.invoke", "invoke failed");
    for (uint32_t o = 0; o < h->outputs; o++) {
        const uint8_t *want = blob(b, len, at, &n, d, &e);
        tmo_io io;
        tmo_interp_output(it, o, &io);
        if (n != io.bytes)
            return size_mismatch(d, r, v, "kat.output", n, io.bytes);
        const uint8_t *got = (const uint8_t *)io.data;
        for (uint32_t k = 0; k < n; k++) {
            if (got[k] == want[k])
                continue;
            r->vector = (int32_t)v;
            r->output = (int32_t)o;
            r->byte = k;
            r->expected = want[k];
            r->got = got[k];
            diag_set(d, TMO_EKAT, TMO_AT_NONE, (int32_t)v, "kat.output",
                     "output differs from the known answer");
            diag_limit(d, got[k], want[k]);
            if (d != NULL)
                d->offset = k;
            return TMO_EKAT;
        }
    }
    return TMO_OK;
}

tmo_err tmo_kat_run(tmo_interp *it, const void *data, size_t len, tmo_kat_result *res,
                    tmo_diag *diag)
{
    tmo_kat_result local;
    tmo_kat_result *r = res != NULL ? res : &local;
    memset(r, 0, sizeof *r);
    r->vector = -1;
    r->output = -1;
    tmo_diag_clear(diag);
    if (it == NULL || !it->ready)
        return diag_set(diag, TMO_EINVAL, TMO_AT_NONE, -1, "kat", "interpreter not ready");
    const uint8_t *b = (const uint8_t *)data;
    kat_head h;
    tmo_err e = parse(b, len, &h, diag);
    if (e != TMO_OK)
        return e;
    r->vectors = h.vectors;
    if (h.inputs != tmo_interp_input_count(it) || h.outputs != tmo_interp_output_count(it)) {
        diag_set(diag, TMO_EINVAL, TMO_AT_NONE, -1, "kat.io",
                 "KAT input/output count differs from the model's");
        diag_limit(diag, h.inputs, tmo_interp_input_count(it));
        return TMO_EINVAL;
    }
    size_t at = TMO_KAT_HEADER_SIZE;
    for (uint32_t v = 0; v < h.vectors; v++) {
        if ((e = run_vector(it, b, len, &at, &h, v, r, diag)) != TMO_OK)
            return e;
        r->passed++;
    }
    return TMO_OK;
}

/* Appends text to a bounded buffer, counting the full length (like snprintf). */
typedef struct {
    char *buf;
    size_t cap, len;
} sink;

static void puts_(sink *s, const char *t)
{
    for (; *t != '\0'; t++, s->len++)
        if (s->len + 1 < s->cap)
            s->buf[s->len] = *t;
}

static void putu(sink *s, uint32_t v)
{
    char tmp[11];
    int n = 0;
    do {
        tmp[sizeof tmp - 2 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    tmp[sizeof tmp - 1] = '\0';
    puts_(s, tmp + sizeof tmp - 1 - n);
}

static void puthex(sink *s, uint8_t v)
{
    const char *digits = "0123456789abcdef";
    char tmp[5] = {'0', 'x', digits[v >> 4], digits[v & 15], '\0'};
    puts_(s, tmp);
}

size_t tmo_kat_format(const tmo_kat_result *r, char *buf, size_t len)
{
    sink s = {buf, len, 0};
    if (r == NULL || r->vector < 0) {
        puts_(&s, "KAT not run or malformed");
    } else if (r->output < 0) {
        puts_(&s, "vector ");
        putu(&s, (uint32_t)r->vector);
        puts_(&s, ": tensor sizes do not fit the model");
    } else {
        puts_(&s, "vector ");
        putu(&s, (uint32_t)r->vector);
        puts_(&s, " output ");
        putu(&s, (uint32_t)r->output);
        puts_(&s, " byte ");
        putu(&s, r->byte);
        puts_(&s, ": expected ");
        puthex(&s, r->expected);
        puts_(&s, ", got ");
        puthex(&s, r->got);
    }
    if (len > 0)
        buf[s.len < len ? s.len : len - 1] = '\0';
    return s.len;
}
