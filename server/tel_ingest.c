/*
 * From report bytes to a stored row: the scalar columns a query or an alert
 * rule reads without decoding (telemetry.h), and the monitoring profile of a
 * registered bundle (its PROFILE section, read in place from the registry)
 * for accuracy references and exact re-scoring of merged windows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devauth.h"
#include "telemetry.h"
#include "tinymlops/bundle.h"

int tel_row_from_report(const uint8_t *bytes, size_t len, st_report *row, host_report *r, char *err,
                        size_t err_len)
{
    memset(r, 0, sizeof *r);
    if (host_report_decode(bytes, len, r, err, err_len) != 0)
        return -1;
    if (r->seq_first > (uint64_t)INT64_MAX || r->seq_last > (uint64_t)INT64_MAX) {
        snprintf(err, err_len, "report sequence numbers must be below 2^63");
        return -1;
    }
    row->seq_first = (int64_t)r->seq_first;
    row->seq_last = (int64_t)r->seq_last;
    devauth_hex(r->digest, sizeof r->digest, row->digest);
    row->windows = r->windows;
    row->inferences = r->inferences;
    row->errors = r->errors;
    row->out_inf = r->out_inf;
    row->events = r->events;
    row->dropped = r->dropped;
    double d = r->drift.psi_in_max;
    if (r->drift.psi_out > d)
        d = r->drift.psi_out;
    if (r->drift.psi_conf > d)
        d = r->drift.psi_conf;
    row->drift = d;
    row->acc_est = r->drift.acc_est;
    memcpy(row->latency, r->latency, sizeof row->latency);
    row->p95_us = (int64_t)host_report_latency_quantile(r, 0.95);
    row->data = bytes;
    row->data_len = len;
    return 0;
}

/* A tmo_port_reader over a bundle in the registry. */
typedef struct store_reader {
    store *st;
    int64_t id;
} store_reader;

static tmo_err read_bundle(void *ctx, uint32_t offset, void *buf, size_t len)
{
    store_reader *sr = ctx;
    int rc = ST(sr->st, bundle_read, sr->id, offset, len, buf);
    return rc == ST_OK ? TMO_OK : (tmo_err)(TMO_EPORT_BASE - 1);
}

int tel_bundle_profile(store *st, int64_t bundle_id, uint8_t **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    st_bundle b;
    int rc = ST(st, bundle_get, bundle_id, &b);
    if (rc != ST_OK)
        return rc;
    uint32_t size = b.size > 0 && b.size < UINT32_MAX ? (uint32_t)b.size : 0;
    st_bundle_free(&b);
    uint8_t head[TMO_BUNDLE_HEADER_SIZE];
    tmo_bundle_header h;
    if (size < sizeof head || ST(st, bundle_read, bundle_id, 0, sizeof head, head) != ST_OK ||
        tmo_bundle_header_decode(&h, head, size, NULL) != TMO_OK)
        return ST_OK; /* verified on upload; nothing usable here means no profile */
    store_reader sr = {st, bundle_id};
    tmo_port_reader r = {read_bundle, &sr, size};
    uint32_t off = TMO_BUNDLE_HEADER_SIZE;
    for (uint16_t i = 0; i < h.section_count; i++) {
        tmo_bundle_section s;
        if (tmo_bundle_section_at(&r, off, &s, NULL) != TMO_OK)
            return ST_OK;
        if (s.tag == TMO_SECTION_PAYLOAD)
            break;
        if (s.tag == TMO_SECTION_PROFILE && s.length > 0) {
            uint8_t *p = malloc(s.length);
            if (p == NULL)
                return store_fail("out of memory");
            if (ST(st, bundle_read, bundle_id, (uint64_t)s.offset + 8, s.length, p) != ST_OK) {
                free(p);
                return ST_ERROR;
            }
            *bytes = p;
            *len = s.length;
            return ST_OK;
        }
        off = tmo_bundle_section_next(&s);
    }
    return ST_OK;
}

const tmo_profile *tel_profiles_get(tel_profiles *c, store *st, int64_t bundle_id)
{
    if (bundle_id <= 0)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].bundle_id == bundle_id)
            return c->e[i].ok ? &c->e[i].p : NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (tel_bundle_profile(st, bundle_id, &bytes, &len) != ST_OK)
        return NULL; /* not cached: a store error may pass */
    if (c->n == TEL_PROFILE_CACHE) {
        free(bytes);
        return NULL;
    }
    size_t i = c->n++;
    c->e[i].bundle_id = bundle_id;
    c->e[i].bytes = bytes;
    c->e[i].ok = bytes != NULL && tmo_profile_parse(&c->e[i].p, bytes, len, NULL) == TMO_OK;
    return c->e[i].ok ? &c->e[i].p : NULL;
}

double tel_profile_acc_ref(const tmo_profile *p)
{
    if (p == NULL || p->mode == TMO_OUT_VALUES)
        return -1;
    return p->acc_ref;
}

void tel_profiles_free(tel_profiles *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->e[i].bytes);
    c->n = 0;
}
