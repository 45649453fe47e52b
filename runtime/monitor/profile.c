/*
 * Profile parser [P-1..P-7]: the device reads the PROFILE section of a
 * signed bundle, but a signature only says who wrote the bytes, not that the
 * writer was correct, so every count, size and float is checked here once;
 * the accessors then read in place without further checks.
 */
#include <math.h>

#include "../diag.h"
#include "monitor_priv.h"

typedef struct {
    const uint8_t *b;
    size_t len, at;
    tmo_diag *d;
} cursor;

static tmo_err bad(cursor *c, const char *field, const char *problem, size_t at)
{
    diag_set(c->d, TMO_EBADMODEL, TMO_AT_NONE, -1, field, problem);
    if (c->d != NULL)
        c->d->offset = (uint32_t)at;
    return TMO_EBADMODEL;
}

static tmo_err bad_value(cursor *c, const char *field, const char *problem, size_t at,
                         int64_t value, int64_t limit)
{
    bad(c, field, problem, at);
    diag_limit(c->d, value, limit);
    return TMO_EBADMODEL;
}

/* Claims n bytes at the cursor, or fails naming the block that is cut short. */
static const uint8_t *take(cursor *c, size_t n, const char *field, tmo_err *e)
{
    if (c->len - c->at < n) {
        *e = bad(c, field, "profile ends inside this block", c->len);
        return NULL;
    }
    const uint8_t *p = c->b + c->at;
    c->at += n;
    return p;
}

static int finite(float f)
{
    return isfinite(f);
}

size_t tmo_profile_stats_size(uint32_t groups, uint32_t bins)
{
    return TMO_PROFILE_STATS_DESC_SIZE +
           (size_t)groups * (TMO_PROFILE_GROUP_FIXED + 4u * (size_t)bins);
}

static tmo_err check_quant(cursor *c, const uint8_t *at, int32_t type, float scale, int32_t zp,
                           const char *field)
{
    if (type != TMO_INT8 && type != TMO_FLOAT32)
        return bad_value(c, field, "type must be INT8 (9) or FLOAT32 (0)", (size_t)(at - c->b),
                         type, TMO_INT8);
    if (!finite(scale) || scale < 0 || (type == TMO_INT8 && !(scale > 0)))
        return bad(c, field, "scale must be finite, and positive for INT8", (size_t)(at - c->b));
    if (type == TMO_INT8 && (zp < -128 || zp > 127))
        return bad_value(c, field, "int8 zero point out of range", (size_t)(at - c->b), zp, 127);
    return TMO_OK;
}

static tmo_err check_group(cursor *c, const tmo_profile_stats *s, const uint8_t *g)
{
    size_t at = (size_t)(g - c->b);
    float lo = mon_lef32(g), hi = mon_lef32(g + 4);
    if (!finite(lo) || !finite(hi) || lo > hi)
        return bad(c, "profile.group.range", "lo and hi must be finite with lo <= hi", at);
    if (s->type == TMO_INT8 &&
        (lo != floorf(lo) || hi != floorf(hi) || lo < -128.0f || hi > 127.0f))
        return bad(c, "profile.group.range", "int8 range must be integers in [-128, 127]", at);
    uint64_t count = mon_le64(g + 8);
    double mean = mon_lef64(g + 16), m2 = mon_lef64(g + 24);
    /* The mean becomes a float32 shift on the device: it must be in float range. */
    if (!(fabs(mean) <= 3.4028234663852886e38) || !isfinite(m2) || m2 < 0)
        return bad(c, "profile.group.moments", "mean must fit float32, m2 finite and >= 0",
                   at + 16);
    uint64_t sum = 0;
    for (uint32_t b = 0; b < s->bins; b++)
        sum += mon_le32(g + TMO_PROFILE_GROUP_FIXED + 4u * b);
    if (sum != count)
        return bad(c, "profile.group.hist", "histogram does not sum to the group count",
                   at + TMO_PROFILE_GROUP_FIXED);
    return TMO_OK;
}

static tmo_err parse_stats(cursor *c, tmo_profile_stats *s, const char *field)
{
    tmo_err e = TMO_OK;
    const uint8_t *d = take(c, TMO_PROFILE_STATS_DESC_SIZE, field, &e);
    if (d == NULL)
        return e;
    size_t at = (size_t)(d - c->b);
    s->at = d;
    s->type = d[0];
    s->bins = d[1];
    s->groups = mon_le16(d + 2);
    s->channels = mon_le32(d + 4);
    s->elements = mon_le32(d + 8);
    s->scale = mon_lef32(d + 12);
    s->zero_point = (int32_t)mon_le32(d + 16);
    s->seq_mean = mon_lef32(d + 20);
    s->seq_std = mon_lef32(d + 24);
    if ((e = check_quant(c, d, s->type, s->scale, s->zero_point, field)) != TMO_OK)
        return e;
    if (s->bins < 2 || s->bins > TMO_PROFILE_MAX_BINS)
        return bad_value(c, field, "bins out of range", at + 1, s->bins, TMO_PROFILE_MAX_BINS);
    if (s->groups < 1 || s->groups > TMO_PROFILE_MAX_GROUPS)
        return bad_value(c, field, "groups out of range", at + 2, s->groups,
                         TMO_PROFILE_MAX_GROUPS);
    if (s->channels < s->groups || s->elements == 0 || s->elements % s->channels != 0)
        return bad(c, field, "need groups <= channels and elements a multiple of channels", at + 4);
    if (!finite(s->seq_mean) || !finite(s->seq_std) || s->seq_std < 0)
        return bad(c, field, "per-inference mean/std must be finite, std >= 0", at + 20);
    if (mon_le32(d + 28) != 0)
        return bad(c, field, "reserved bytes must be zero", at + 28);
    for (uint32_t g = 0; g < s->groups; g++) {
        const uint8_t *gr = take(c, TMO_PROFILE_GROUP_FIXED + 4u * s->bins, field, &e);
        if (gr == NULL || (e = check_group(c, s, gr)) != TMO_OK)
            return e;
    }
    return TMO_OK;
}

static tmo_err parse_classes(cursor *c, tmo_profile *p)
{
    tmo_err e = TMO_OK;
    const char *f = "profile.classes";
    const uint8_t *d = take(c, TMO_PROFILE_CLASS_DESC_SIZE, f, &e);
    if (d == NULL)
        return e;
    size_t at = (size_t)(d - c->b);
    p->cls_at = d;
    p->out_type = d[0];
    p->conf_bins = d[1];
    p->classes = mon_le16(d + 2);
    p->out_elements = p->classes;
    p->out_scale = mon_lef32(d + 8);
    p->out_zero_point = (int32_t)mon_le32(d + 12);
    p->conf_mean = mon_lef32(d + 16);
    p->conf_std = mon_lef32(d + 20);
    p->acc_ref = mon_lef32(d + 24);
    if ((e = check_quant(c, d, p->out_type, p->out_scale, p->out_zero_point, f)) != TMO_OK)
        return e;
    if (p->conf_bins < 2 || p->conf_bins > TMO_PROFILE_MAX_BINS)
        return bad_value(c, f, "confidence bins out of range", at + 1, p->conf_bins,
                         TMO_PROFILE_MAX_BINS);
    if (p->classes < 2 || p->classes > TMO_PROFILE_MAX_CLASSES)
        return bad_value(c, f, "classes out of range", at + 2, p->classes, TMO_PROFILE_MAX_CLASSES);
    if (mon_le32(d + 4) != 0 || mon_le32(d + 28) != 0)
        return bad(c, f, "reserved bytes must be zero", at + 4);
    if (!(p->conf_mean >= 0 && p->conf_mean <= 1) || !(p->conf_std >= 0 && p->conf_std <= 1) ||
        !(p->acc_ref >= 0 && p->acc_ref <= 1))
        return bad(c, f, "confidence mean/std and reference accuracy must be in [0, 1]", at + 16);
    const uint8_t *cc = take(c, 4u * p->classes, f, &e);
    const uint8_t *bc = cc ? take(c, 4u * p->conf_bins, f, &e) : NULL;
    const uint8_t *cal = bc ? take(c, 4u * p->conf_bins, f, &e) : NULL;
    if (cal == NULL)
        return e;
    uint64_t sum_c = 0, sum_b = 0;
    for (uint32_t k = 0; k < p->classes; k++)
        sum_c += mon_le32(cc + 4u * k);
    for (uint32_t b = 0; b < p->conf_bins; b++) {
        sum_b += mon_le32(bc + 4u * b);
        float v = mon_lef32(cal + 4u * b);
        if (!(v >= 0 && v <= 1))
            return bad(c, "profile.calibration", "calibrated accuracy must be in [0, 1]",
                       (size_t)(cal - c->b) + 4u * b);
    }
    if (sum_c != sum_b)
        return bad(c, "profile.classes", "class and confidence counts differ in total",
                   (size_t)(bc - c->b));
    return TMO_OK;
}

static tmo_err parse_pen(cursor *c, tmo_profile *p)
{
    tmo_err e = TMO_OK;
    const char *f = "profile.pen";
    const uint8_t *d = take(c, TMO_PROFILE_PEN_DESC_SIZE, f, &e);
    if (d == NULL)
        return e;
    size_t at = (size_t)(d - c->b);
    p->pen_at = d;
    p->pen_tensor = mon_le32(d);
    p->pen_type = d[4];
    p->pen_channels = mon_le16(d + 6);
    p->pen_scale = mon_lef32(d + 8);
    p->pen_zero_point = (int32_t)mon_le32(d + 12);
    p->pen_count = mon_le32(d + 16);
    if ((e = check_quant(c, d + 4, p->pen_type, p->pen_scale, p->pen_zero_point, f)) != TMO_OK)
        return e;
    if (d[5] != 0 || mon_le32(d + 20) != 0)
        return bad(c, f, "reserved bytes must be zero", at + 5);
    if (p->pen_channels < 1 || p->pen_channels > TMO_PROFILE_MAX_PEN)
        return bad_value(c, f, "channels out of range", at + 6, p->pen_channels,
                         TMO_PROFILE_MAX_PEN);
    const uint8_t *v = take(c, 8u * p->pen_channels, f, &e);
    if (v == NULL)
        return e;
    for (uint32_t ch = 0; ch < p->pen_channels; ch++) {
        float mean = mon_lef32(v + 8u * ch), var = mon_lef32(v + 8u * ch + 4);
        if (!finite(mean) || !finite(var) || var < 0)
            return bad(c, f, "channel mean/variance must be finite, variance >= 0",
                       (size_t)(v - c->b) + 8u * ch);
    }
    return TMO_OK;
}

static tmo_err parse_header(cursor *c, tmo_profile *p)
{
    const uint8_t *h = c->b;
    if (c->len < TMO_PROFILE_HEADER_SIZE)
        return bad_value(c, "profile.header", "shorter than the header", c->len, (int64_t)c->len,
                         TMO_PROFILE_HEADER_SIZE);
    if (!tmo_bytes_equal(h, TMO_PROFILE_MAGIC, 4))
        return bad(c, "profile.magic", "not a profile (magic is not TMOP)", 0);
    if (mon_le16(h + TMO_PH_VERSION) != TMO_PROFILE_VERSION) {
        diag_set(c->d, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "profile.version",
                 "profile version not supported by this build");
        diag_limit(c->d, mon_le16(h + TMO_PH_VERSION), TMO_PROFILE_VERSION);
        return TMO_EUNSUPPORTED;
    }
    if (mon_le16(h + TMO_PH_HEADER_SIZE) != TMO_PROFILE_HEADER_SIZE)
        return bad(c, "profile.header_size", "must be 64", TMO_PH_HEADER_SIZE);
    if (mon_le32(h + TMO_PH_TOTAL) != c->len)
        return bad_value(c, "profile.total_size", "does not match the section length", TMO_PH_TOTAL,
                         mon_le32(h + TMO_PH_TOTAL), (int64_t)c->len);
    p->flags = mon_le32(h + TMO_PH_FLAGS);
    uint32_t mode = (p->flags & TMO_PROFILE_F_MODE_MASK) >> TMO_PROFILE_F_MODE_SHIFT;
    if ((p->flags & ~(TMO_PROFILE_F_CALIBRATED | TMO_PROFILE_F_PEN | TMO_PROFILE_F_MODE_MASK)) ||
        mode > TMO_OUT_VALUES)
        return bad(c, "profile.flags", "unknown flag bits or output mode", TMO_PH_FLAGS);
    p->mode = (tmo_out_mode)mode;
    p->model_digest = h + TMO_PH_DIGEST;
    p->samples = mon_le32(h + TMO_PH_SAMPLES);
    p->labelled = mon_le32(h + TMO_PH_LABELLED);
    p->label_accuracy = mon_lef32(h + TMO_PH_LABEL_ACC);
    if (p->labelled > p->samples || !(p->label_accuracy >= 0 && p->label_accuracy <= 1))
        return bad(c, "profile.labelled", "labelled <= samples and accuracy in [0, 1]",
                   TMO_PH_LABELLED);
    if (((p->flags & TMO_PROFILE_F_CALIBRATED) != 0) != (p->labelled > 0))
        return bad(c, "profile.flags", "CALIBRATED must be set exactly when samples are labelled",
                   TMO_PH_FLAGS);
    if (p->mode == TMO_OUT_VALUES && (p->flags & TMO_PROFILE_F_CALIBRATED))
        return bad(c, "profile.flags", "a VALUES profile has no calibration", TMO_PH_FLAGS);
    if (mon_le32(h + TMO_PH_RESERVED) != 0)
        return bad(c, "profile.reserved", "reserved bytes must be zero", TMO_PH_RESERVED);
    c->at = TMO_PROFILE_HEADER_SIZE;
    return TMO_OK;
}

tmo_err tmo_profile_parse(tmo_profile *p, const void *data, size_t len, tmo_diag *diag)
{
    tmo_diag_clear(diag);
    if (p == NULL || data == NULL)
        return diag_set(diag, TMO_EINVAL, TMO_AT_NONE, -1, "profile", "NULL argument");
    memset(p, 0, sizeof *p);
    cursor c = {(const uint8_t *)data, len, 0, diag};
    if (len > 0x7fffffffu)
        return bad(&c, "profile.total_size", "larger than 2 GiB", 0);
    tmo_err e = parse_header(&c, p);
    if (e == TMO_OK)
        e = parse_stats(&c, &p->in, "profile.input");
    if (e == TMO_OK)
        e = p->mode == TMO_OUT_VALUES ? parse_stats(&c, &p->out, "profile.output")
                                      : parse_classes(&c, p);
    if (e == TMO_OK && p->mode == TMO_OUT_VALUES)
        p->out_elements = p->out.elements;
    if (e == TMO_OK && (p->flags & TMO_PROFILE_F_PEN))
        e = parse_pen(&c, p);
    if (e == TMO_OK && c.at != len)
        e = bad(&c, "profile.total_size", "bytes left after the last block", c.at);
    if (e != TMO_OK) {
        memset(p, 0, sizeof *p);
        return e;
    }
    p->bytes = c.b;
    p->len = len;
    return TMO_OK;
}

uint32_t tmo_profile_group_first(const tmo_profile_stats *s, uint32_t g)
{
    return (uint32_t)((uint64_t)g * s->channels / s->groups);
}

static const uint8_t *group_at(const tmo_profile_stats *s, uint32_t g)
{
    return s->at + TMO_PROFILE_STATS_DESC_SIZE +
           (size_t)g * (TMO_PROFILE_GROUP_FIXED + 4u * (size_t)s->bins);
}

void tmo_profile_group_get(const tmo_profile_stats *s, uint32_t g, tmo_profile_group *out)
{
    const uint8_t *at = group_at(s, g);
    out->lo = mon_lef32(at);
    out->hi = mon_lef32(at + 4);
    out->count = mon_le64(at + 8);
    out->mean = mon_lef64(at + 16);
    out->m2 = mon_lef64(at + 24);
}

uint32_t tmo_profile_hist(const tmo_profile_stats *s, uint32_t g, uint32_t b)
{
    return mon_le32(group_at(s, g) + TMO_PROFILE_GROUP_FIXED + 4u * b);
}

uint32_t tmo_profile_class_count(const tmo_profile *p, uint32_t k)
{
    return mon_le32(p->cls_at + TMO_PROFILE_CLASS_DESC_SIZE + 4u * k);
}

uint32_t tmo_profile_conf_count(const tmo_profile *p, uint32_t b)
{
    return mon_le32(p->cls_at + TMO_PROFILE_CLASS_DESC_SIZE + 4u * (p->classes + b));
}

float tmo_profile_calib(const tmo_profile *p, uint32_t b)
{
    return mon_lef32(p->cls_at + TMO_PROFILE_CLASS_DESC_SIZE +
                     4u * (p->classes + p->conf_bins + b));
}

void tmo_profile_pen(const tmo_profile *p, uint32_t c, float *mean, float *var)
{
    const uint8_t *at = p->pen_at + TMO_PROFILE_PEN_DESC_SIZE + 8u * c;
    *mean = mon_lef32(at);
    *var = mon_lef32(at + 4);
}

void mon_profile_hist(const tmo_profile_stats *ps, uint32_t g, uint32_t *ref)
{
    for (uint32_t b = 0; b < ps->bins; b++)
        ref[b] = tmo_profile_hist(ps, g, b);
}
