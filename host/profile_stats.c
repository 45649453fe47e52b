/*
 * Host statistics for the profile builder: robust histogram ranges, the
 * per-inference mean statistics the device's CUSUM compares against, and
 * the confidence calibration fitted on labelled profile data.
 */
#include "profile_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlops/monitor.h"
#include "tinymlops/model.h"

#define FINE_BINS 4096

/* channel -> group, the split of tmo_profile_group_first. */
static uint16_t *group_table(const host_pstats *s)
{
    uint16_t *t = malloc(sizeof *t * s->channels);
    if (t == NULL)
        return NULL;
    for (uint32_t g = 0; g < s->groups; g++) {
        uint32_t a = (uint32_t)((uint64_t)g * s->channels / s->groups);
        uint32_t b = (uint32_t)((uint64_t)(g + 1) * s->channels / s->groups);
        for (uint32_t c = a; c < b; c++)
            t[c] = (uint16_t)g;
    }
    return t;
}

static double value_at(const host_pstats *s, const uint8_t *sample, uint32_t e)
{
    if (s->type == TMO_INT8)
        return (double)(int8_t)sample[e];
    float f;
    memcpy(&f, sample + 4u * e, 4);
    return (double)f;
}

/* Index of the first fine bin where the cumulative count from one side exceeds the tail. */
static uint32_t tail_bin(const uint64_t *h, uint32_t n, double cut, int from_top)
{
    double cum = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = from_top ? n - 1 - i : i;
        cum += (double)h[k];
        if (cum > cut)
            return k;
    }
    return from_top ? 0 : n - 1;
}

typedef struct {
    double min, max, sum;
    uint64_t n;
    uint64_t *fine; /* FINE_BINS (float) or 256 (int8) counts */
} acc;

static void first_pass(host_pstats *s, const uint16_t *grp, acc *a, const uint8_t *base,
                       size_t count, size_t stride)
{
    double sm = 0, ss = 0;
    size_t ns = 0;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *x = base + i * stride;
        double total = 0;
        uint64_t nfin = 0;
        for (uint32_t e = 0; e < s->elements; e++) {
            double v = value_at(s, x, e);
            if (!isfinite(v))
                continue;
            acc *g = &a[grp[e % s->channels]];
            g->min = g->n == 0 || v < g->min ? v : g->min;
            g->max = g->n == 0 || v > g->max ? v : g->max;
            g->sum += v;
            g->n++;
            if (s->type == TMO_INT8)
                g->fine[(int)v + 128]++;
            total += v;
            nfin++;
        }
        if (nfin > 0) {
            /* Welford over samples of the per-sample mean. */
            double m = total / (double)nfin, d = m - sm;
            ns++;
            sm += d / (double)ns;
            ss += d * (m - sm);
        }
    }
    s->seq_mean = (float)sm;
    s->seq_std = ns > 0 ? (float)sqrt(ss / (double)ns) : 0.0f;
}

static void float_fine(const host_pstats *s, const uint16_t *grp, acc *a, const uint8_t *base,
                       size_t count, size_t stride)
{
    for (size_t i = 0; i < count; i++) {
        const uint8_t *x = base + i * stride;
        for (uint32_t e = 0; e < s->elements; e++) {
            double v = value_at(s, x, e);
            acc *g = &a[grp[e % s->channels]];
            if (!isfinite(v) || !(g->max > g->min))
                continue;
            double t = (v - g->min) / (g->max - g->min) * FINE_BINS;
            uint32_t k = t >= FINE_BINS ? FINE_BINS - 1 : t < 0 ? 0 : (uint32_t)t;
            g->fine[k]++;
        }
    }
}

int hp_value_ranges(host_pstats *s, const uint8_t *base, size_t count, size_t stride, double tail)
{
    uint16_t *grp = group_table(s);
    acc *a = calloc(s->groups, sizeof *a);
    uint32_t fine_n = s->type == TMO_INT8 ? 256u : FINE_BINS;
    int bad = grp == NULL || a == NULL;
    for (uint32_t g = 0; !bad && g < s->groups; g++)
        bad = (a[g].fine = calloc(fine_n, sizeof(uint64_t))) == NULL;
    if (!bad) {
        first_pass(s, grp, a, base, count, stride);
        if (s->type != TMO_INT8)
            float_fine(s, grp, a, base, count, stride);
        for (uint32_t g = 0; g < s->groups; g++) {
            host_pgroup *pg = &s->g[g];
            double cut = tail * (double)a[g].n;
            pg->mean = a[g].n > 0 ? a[g].sum / (double)a[g].n : 0;
            if (a[g].n == 0) {
                pg->lo = pg->hi = 0;
            } else if (s->type == TMO_INT8) {
                pg->lo = (float)((int)tail_bin(a[g].fine, 256, cut, 0) - 128);
                pg->hi = (float)((int)tail_bin(a[g].fine, 256, cut, 1) - 128);
            } else if (!(a[g].max > a[g].min)) {
                pg->lo = pg->hi = (float)a[g].min;
            } else {
                double w = (a[g].max - a[g].min) / FINE_BINS;
                pg->lo = (float)(a[g].min + w * tail_bin(a[g].fine, FINE_BINS, cut, 0));
                pg->hi = (float)(a[g].min + w * (tail_bin(a[g].fine, FINE_BINS, cut, 1) + 1));
                if (!(pg->hi > pg->lo))
                    pg->hi = (float)a[g].max;
            }
        }
    }
    for (uint32_t g = 0; a != NULL && g < s->groups; g++)
        free(a[g].fine);
    free(a);
    free(grp);
    return bad ? -1 : 0;
}

uint32_t hp_calibrate(const hp_pred *p, size_t n, uint32_t bins, float *calib, double *acc_out)
{
    double cnt[TMO_PROFILE_MAX_BINS] = {0}, correct[TMO_PROFILE_MAX_BINS] = {0};
    double conf[TMO_PROFILE_MAX_BINS] = {0}, all[TMO_PROFILE_MAX_BINS] = {0};
    double cnt_all[TMO_PROFILE_MAX_BINS] = {0};
    uint32_t labelled = 0, right = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b = tmo_monitor_conf_bin(p[i].conf, bins);
        all[b] += p[i].conf;
        cnt_all[b] += 1;
        if (p[i].label < 0)
            continue;
        labelled++;
        cnt[b] += 1;
        conf[b] += p[i].conf;
        if (p[i].cls == p[i].label) {
            correct[b] += 1;
            right++;
        }
    }
    *acc_out = labelled > 0 ? (double)right / labelled : NAN;
    double value[TMO_PROFILE_MAX_BINS], weight[TMO_PROFILE_MAX_BINS];
    for (uint32_t b = 0; b < bins; b++) {
        double centre = (b + 0.5) / bins;
        double mean_conf = cnt_all[b] > 0 ? all[b] / cnt_all[b] : centre;
        if (labelled == 0) {
            calib[b] = (float)mean_conf;
            continue;
        }
        const double prior = 2.0;
        double m = cnt[b] > 0 ? conf[b] / cnt[b] : mean_conf;
        value[b] = (correct[b] + prior * m) / (cnt[b] + prior);
        weight[b] = cnt[b] + prior;
    }
    if (labelled == 0)
        return 0;
    /* Pool adjacent violators: blocks of bins share their weighted mean until non-decreasing. */
    uint32_t start[TMO_PROFILE_MAX_BINS], blocks = 0;
    double bval[TMO_PROFILE_MAX_BINS], bw[TMO_PROFILE_MAX_BINS];
    for (uint32_t b = 0; b < bins; b++) {
        start[blocks] = b;
        bval[blocks] = value[b];
        bw[blocks] = weight[b];
        blocks++;
        while (blocks > 1 && bval[blocks - 2] > bval[blocks - 1]) {
            double w = bw[blocks - 2] + bw[blocks - 1];
            bval[blocks - 2] =
                (bval[blocks - 2] * bw[blocks - 2] + bval[blocks - 1] * bw[blocks - 1]) / w;
            bw[blocks - 2] = w;
            blocks--;
        }
    }
    for (uint32_t k = 0; k < blocks; k++) {
        uint32_t end = k + 1 < blocks ? start[k + 1] : bins;
        for (uint32_t b = start[k]; b < end; b++)
            calib[b] = (float)bval[k];
    }
    return labelled;
}
