/*
 * PROFILE and KAT payload writers: the byte layout of docs/monitoring.md
 * [P-2..P-5], [K-2..K-3], written field by field in little-endian order.
 */
#include "profile_write.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    return p + 2;
}

static uint8_t *w32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + 4;
}

static uint8_t *w64(uint8_t *p, uint64_t v)
{
    w32(p, (uint32_t)v);
    return w32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t *wf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return w32(p, u);
}

static uint8_t *wd(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return w64(p, u);
}

static uint8_t *write_stats(uint8_t *p, const host_pstats *s)
{
    p[0] = (uint8_t)s->type;
    p[1] = (uint8_t)s->bins;
    w16(p + 2, (uint16_t)s->groups);
    w32(p + 4, s->channels);
    w32(p + 8, s->elements);
    wf(p + 12, s->scale);
    w32(p + 16, (uint32_t)s->zero_point);
    wf(p + 20, s->seq_mean);
    wf(p + 24, s->seq_std);
    w32(p + 28, 0);
    p += TMO_PROFILE_STATS_DESC_SIZE;
    for (uint32_t g = 0; g < s->groups; g++) {
        const host_pgroup *gr = &s->g[g];
        p = wf(p, gr->lo);
        p = wf(p, gr->hi);
        p = w64(p, gr->count);
        p = wd(p, gr->mean);
        p = wd(p, gr->m2);
        for (uint32_t b = 0; b < s->bins; b++)
            p = w32(p, gr->hist[b]);
    }
    return p;
}

static uint8_t *write_classes(uint8_t *p, const host_profile_spec *s)
{
    p[0] = (uint8_t)s->out_type;
    p[1] = (uint8_t)s->conf_bins;
    w16(p + 2, (uint16_t)s->classes);
    w32(p + 4, 0);
    wf(p + 8, s->out_scale);
    w32(p + 12, (uint32_t)s->out_zero_point);
    wf(p + 16, s->conf_mean);
    wf(p + 20, s->conf_std);
    wf(p + 24, s->acc_ref);
    w32(p + 28, 0);
    p += TMO_PROFILE_CLASS_DESC_SIZE;
    for (uint32_t k = 0; k < s->classes; k++)
        p = w32(p, s->class_counts[k]);
    for (uint32_t b = 0; b < s->conf_bins; b++)
        p = w32(p, s->conf_counts[b]);
    for (uint32_t b = 0; b < s->conf_bins; b++)
        p = wf(p, s->calib[b]);
    return p;
}

static uint8_t *write_pen(uint8_t *p, const host_profile_spec *s)
{
    w32(p, s->pen_tensor);
    p[4] = (uint8_t)s->pen_type;
    p[5] = 0;
    w16(p + 6, (uint16_t)s->pen_channels);
    wf(p + 8, s->pen_scale);
    w32(p + 12, (uint32_t)s->pen_zero_point);
    w32(p + 16, s->pen_count);
    w32(p + 20, 0);
    p += TMO_PROFILE_PEN_DESC_SIZE;
    for (uint32_t c = 0; c < s->pen_channels; c++) {
        p = wf(p, s->pen_mean[c]);
        p = wf(p, s->pen_var[c]);
    }
    return p;
}

int host_profile_encode(const host_profile_spec *s, uint8_t **out, size_t *len)
{
    int values = s->mode == TMO_OUT_VALUES;
    size_t n = TMO_PROFILE_HEADER_SIZE + tmo_profile_stats_size(s->in.groups, s->in.bins);
    if (values)
        n += tmo_profile_stats_size(s->out.groups, s->out.bins);
    else
        n += TMO_PROFILE_CLASS_DESC_SIZE + 4u * ((size_t)s->classes + 2u * s->conf_bins);
    if (s->pen_channels > 0)
        n += TMO_PROFILE_PEN_DESC_SIZE + 8u * (size_t)s->pen_channels;
    uint8_t *b = calloc(1, n);
    if (b == NULL)
        return -1;
    uint32_t flags = (uint32_t)s->mode << TMO_PROFILE_F_MODE_SHIFT;
    flags |= s->labelled > 0 ? TMO_PROFILE_F_CALIBRATED : 0u;
    flags |= s->pen_channels > 0 ? TMO_PROFILE_F_PEN : 0u;
    memcpy(b, TMO_PROFILE_MAGIC, 4);
    w16(b + TMO_PH_VERSION, TMO_PROFILE_VERSION);
    w16(b + TMO_PH_HEADER_SIZE, TMO_PROFILE_HEADER_SIZE);
    w32(b + TMO_PH_TOTAL, (uint32_t)n);
    w32(b + TMO_PH_FLAGS, flags);
    memcpy(b + TMO_PH_DIGEST, s->digest, 32);
    w32(b + TMO_PH_SAMPLES, s->samples);
    w32(b + TMO_PH_LABELLED, s->labelled);
    wf(b + TMO_PH_LABEL_ACC, s->label_accuracy);
    uint8_t *p = write_stats(b + TMO_PROFILE_HEADER_SIZE, &s->in);
    p = values ? write_stats(p, &s->out) : write_classes(p, s);
    if (s->pen_channels > 0)
        write_pen(p, s);
    *out = b;
    *len = n;
    return 0;
}

int host_kat_encode(const host_kat_vector *v, uint32_t vectors, uint32_t inputs, uint32_t outputs,
                    uint8_t **out, size_t *len)
{
    if (vectors < 1 || vectors > TMO_KAT_MAX_VECTORS || inputs < 1 || inputs > TMO_KAT_MAX_IO ||
        outputs < 1 || outputs > TMO_KAT_MAX_IO)
        return -1;
    size_t n = TMO_KAT_HEADER_SIZE;
    for (uint32_t i = 0; i < vectors; i++) {
        for (uint32_t t = 0; t < inputs; t++)
            n += 4u + ((v[i].in_len[t] + 3u) & ~3u);
        for (uint32_t t = 0; t < outputs; t++)
            n += 4u + ((v[i].out_len[t] + 3u) & ~3u);
    }
    if (n > 0x7fffffffu)
        return -1;
    uint8_t *b = calloc(1, n);
    if (b == NULL)
        return -1;
    memcpy(b, TMO_KAT_MAGIC, 4);
    w16(b + TMO_KH_VERSION, TMO_KAT_VERSION);
    w16(b + TMO_KH_HEADER_SIZE, TMO_KAT_HEADER_SIZE);
    w32(b + TMO_KH_TOTAL, (uint32_t)n);
    w16(b + TMO_KH_VECTORS, (uint16_t)vectors);
    b[TMO_KH_INPUTS] = (uint8_t)inputs;
    b[TMO_KH_OUTPUTS] = (uint8_t)outputs;
    uint8_t *p = b + TMO_KAT_HEADER_SIZE;
    for (uint32_t i = 0; i < vectors; i++) {
        for (uint32_t t = 0; t < inputs + outputs; t++) {
            int is_in = t < inputs;
            uint32_t l = is_in ? v[i].in_len[t] : v[i].out_len[t - inputs];
            const uint8_t *src = is_in ? v[i].in[t] : v[i].out[t - inputs];
            p = w32(p, l);
            if (l > 0)
                memcpy(p, src, l);
            p += (l + 3u) & ~3u;
        }
    }
    *out = b;
    *len = n;
    return 0;
}
