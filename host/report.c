/*
 * Report decoding and encoding on the host [R-1..R-9]. The decoder is the
 * server's gate for bytes that came over the network: it checks sizes
 * against the counts, every invariant a device report satisfies (histograms
 * sum to their counts, outputs + errors = inferences, ...) and every float,
 * so that merged aggregates can never be poisoned by one bad record.
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static float rdf(const uint8_t *p)
{
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double rdd(const uint8_t *p)
{
    uint64_t u = rd64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static void wrf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    wr32(p, u);
}

static void wrd(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    wr64(p, u);
}

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err_len > 0)
        vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}

#define ALIGN4(x) (((x) + 3u) & ~(size_t)3u)
#define KNOWN_FLAGS                                                                                \
    (TMO_REPORT_F_CLOSE_MASK | TMO_REPORT_F_MERGED | TMO_REPORT_F_PEN | TMO_REPORT_F_SAMPLES |     \
     TMO_REPORT_F_MODE_MASK)

void host_report_free(host_report *r)
{
    if (r == NULL)
        return;
    for (uint32_t g = 0; r->in != NULL && g < r->in_groups; g++)
        free(r->in[g].hist);
    for (uint32_t g = 0; r->out != NULL && g < r->out_groups; g++)
        free(r->out[g].hist);
    for (uint32_t s = 0; r->samples != NULL && s < r->sample_count; s++)
        free(r->samples[s].bytes);
    free(r->in);
    free(r->out);
    free(r->classes);
    free(r->conf);
    free(r->pen_mean);
    free(r->pen_m2);
    free(r->samples);
    memset(r, 0, sizeof *r);
}

static size_t size_of(const host_report *r)
{
    return tmo_report_size(r->in_groups, r->in_bins, r->mode, r->out_groups, r->out_bins,
                           r->pen_channels, r->sample_count, r->sample_bytes);
}

/* Header fields and the counts that fix the layout. */
static int read_header(const uint8_t *b, size_t len, host_report *r, char *err, size_t n)
{
    if (len < TMO_REPORT_HEADER_SIZE)
        return fail(err, n, "report: %zu bytes, shorter than the %d-byte header", len,
                    TMO_REPORT_HEADER_SIZE);
    if (memcmp(b, TMO_REPORT_MAGIC, 4) != 0)
        return fail(err, n, "report: magic is not TMOR (byte 0)");
    if (rd16(b + TMO_RH_VERSION) != TMO_REPORT_VERSION)
        return fail(err, n, "report: version %u not supported (this build reads %d)",
                    rd16(b + TMO_RH_VERSION), TMO_REPORT_VERSION);
    if (rd16(b + TMO_RH_HEADER_SIZE) != TMO_REPORT_HEADER_SIZE)
        return fail(err, n, "report: header_size must be %d (byte 6)", TMO_REPORT_HEADER_SIZE);
    if (rd32(b + TMO_RH_TOTAL) != len)
        return fail(err, n, "report: total_size %u does not match the %zu bytes received",
                    rd32(b + TMO_RH_TOTAL), len);
    r->flags = rd32(b + TMO_RH_FLAGS);
    uint32_t mode = (r->flags & TMO_REPORT_F_MODE_MASK) >> TMO_REPORT_F_MODE_SHIFT;
    if ((r->flags & ~(uint32_t)KNOWN_FLAGS) || mode > TMO_OUT_VALUES ||
        (r->flags & TMO_REPORT_F_CLOSE_MASK) > TMO_REPORT_CLOSE_FLUSH)
        return fail(err, n, "report: unknown flags 0x%08x (byte 12)", r->flags);
    r->mode = (tmo_out_mode)mode;
    r->seq_first = rd64(b + TMO_RH_SEQ_FIRST);
    r->seq_last = rd64(b + TMO_RH_SEQ_LAST);
    r->start_ms = rd64(b + TMO_RH_START_MS);
    r->end_ms = rd64(b + TMO_RH_END_MS);
    memcpy(r->digest, b + TMO_RH_DIGEST, 8);
    r->inferences = rd32(b + TMO_RH_INFERENCES);
    r->errors = rd32(b + TMO_RH_ERRORS);
    r->arena = rd32(b + TMO_RH_ARENA);
    r->events = rd32(b + TMO_RH_EVENTS);
    r->windows = rd32(b + TMO_RH_WINDOWS);
    r->dropped = rd32(b + TMO_RH_DROPPED);
    r->nonfinite = rd32(b + TMO_RH_NONFINITE);
    r->in_bins = b[TMO_RH_IN_BINS];
    r->out_bins = b[TMO_RH_OUT_BINS];
    r->in_groups = rd16(b + TMO_RH_IN_GROUPS);
    r->out_groups = rd16(b + TMO_RH_OUT_GROUPS);
    r->pen_channels = rd16(b + TMO_RH_PEN_CH);
    r->sample_count = rd16(b + TMO_RH_SAMPLES);
    r->sample_bytes = rd32(b + TMO_RH_SAMPLE_BYTES);
    r->first_event = rd32(b + TMO_RH_FIRST_EVENT);
    r->in_inf = rd32(b + TMO_RH_IN_INF);
    r->out_inf = rd32(b + TMO_RH_OUT_INF);
    int values = r->mode == TMO_OUT_VALUES;
    if (r->in_bins < 2 || r->in_bins > TMO_PROFILE_MAX_BINS || r->in_groups < 1 ||
        r->in_groups > TMO_PROFILE_MAX_GROUPS)
        return fail(err, n, "report: input bins %u / groups %u out of range (byte 84)", r->in_bins,
                    r->in_groups);
    if (r->out_bins < 2 || r->out_bins > TMO_PROFILE_MAX_BINS ||
        r->out_groups < (values ? 1u : 2u) ||
        r->out_groups > (values ? TMO_PROFILE_MAX_GROUPS : TMO_PROFILE_MAX_CLASSES))
        return fail(err, n, "report: output bins %u / %s %u out of range (byte 85)", r->out_bins,
                    values ? "groups" : "classes", r->out_groups);
    if (r->pen_channels > TMO_PROFILE_MAX_PEN ||
        !!(r->flags & TMO_REPORT_F_PEN) != (r->pen_channels > 0))
        return fail(err, n, "report: penultimate channels %u disagree with flags (byte 90)",
                    r->pen_channels);
    if (r->sample_count > TMO_REPORT_MAX_SAMPLES ||
        !!(r->flags & TMO_REPORT_F_SAMPLES) != (r->sample_count > 0) ||
        (r->sample_count > 0) != (r->sample_bytes > 0) || r->sample_bytes > (1u << 24))
        return fail(err, n, "report: samples %u of %u bytes disagree with flags (byte 92)",
                    r->sample_count, r->sample_bytes);
    if (rd16(b + TMO_RH_LAT_BINS) != TMO_REPORT_LATENCY_BINS)
        return fail(err, n, "report: latency bins must be %d (byte 94)", TMO_REPORT_LATENCY_BINS);
    if (size_of(r) != len)
        return fail(err, n, "report: %zu bytes but its counts need %zu", len, size_of(r));
    return 0;
}

/* Invariants every device report (and every merge of them) satisfies. */
static int check_counters(const host_report *r, char *err, size_t n)
{
    int merged = (r->flags & TMO_REPORT_F_MERGED) != 0;
    if (r->seq_first > r->seq_last || r->start_ms > r->end_ms || r->windows < 1 ||
        (!merged && (r->windows != 1 || r->seq_first != r->seq_last)))
        return fail(err, n, "report: sequence/time range or window count inconsistent (byte 16)");
    if (r->in_inf > r->inferences || (uint64_t)r->out_inf + r->errors != r->inferences)
        return fail(err, n, "report: observed inferences inconsistent with the total (byte 56)");
    if (r->first_event != 0xffffffffu && r->first_event >= r->inferences)
        return fail(err, n, "report: first event index beyond the window (byte 100)");
    uint64_t lat = 0;
    for (int i = 0; i < TMO_REPORT_LATENCY_BINS; i++)
        lat += r->latency[i];
    if (lat != r->inferences)
        return fail(err, n, "report: latency histogram sums to %llu, not %u inferences",
                    (unsigned long long)lat, r->inferences);
    return 0;
}

static int finite_nonneg(float f)
{
    return isfinite(f) && f >= 0;
}

static int read_drift(const uint8_t *d, host_report *r, char *err, size_t n)
{
    tmo_drift *x = &r->drift;
    x->psi_in_mean = rdf(d + TMO_RD_PSI_IN_MEAN);
    x->psi_in_max = rdf(d + TMO_RD_PSI_IN_MAX);
    x->js_in_mean = rdf(d + TMO_RD_JS_IN_MEAN);
    x->js_in_max = rdf(d + TMO_RD_JS_IN_MAX);
    x->psi_out = rdf(d + TMO_RD_PSI_OUT);
    x->js_out = rdf(d + TMO_RD_JS_OUT);
    x->psi_conf = rdf(d + TMO_RD_PSI_CONF);
    x->js_conf = rdf(d + TMO_RD_JS_CONF);
    x->pen_shift = rdf(d + TMO_RD_PEN_SHIFT);
    x->acc_est = rdf(d + TMO_RD_ACC_EST);
    x->conf_mean = rdf(d + TMO_RD_CONF_MEAN);
    x->cusum_conf = rdf(d + TMO_RD_CUSUM_CONF);
    x->cusum_in = rdf(d + TMO_RD_CUSUM_IN);
    x->worst_group = rd16(d + TMO_RD_WORST_GROUP);
    float nonneg[] = {x->psi_in_mean, x->psi_in_max, x->psi_out, x->psi_conf,
                      x->pen_shift,   x->cusum_conf, x->cusum_in};
    for (size_t i = 0; i < sizeof nonneg / sizeof nonneg[0]; i++)
        if (!finite_nonneg(nonneg[i]))
            return fail(err, n, "report: drift value %zu is negative or not finite", i);
    float js[] = {x->js_in_mean, x->js_in_max, x->js_out, x->js_conf};
    for (size_t i = 0; i < 4; i++)
        if (!finite_nonneg(js[i]) || js[i] > 1.001f)
            return fail(err, n, "report: Jensen-Shannon value outside [0, 1]");
    if (!(x->acc_est == -1.0f || (x->acc_est >= 0 && x->acc_est <= 1)) ||
        !(x->conf_mean == -1.0f || (x->conf_mean >= 0 && x->conf_mean <= 1)))
        return fail(err, n, "report: accuracy estimate / mean confidence not in [0, 1] or -1");
    if (x->worst_group >= r->in_groups || rd16(d + TMO_RD_WORST_GROUP + 2) != 0)
        return fail(err, n, "report: worst input group out of range");
    return 0;
}

static int read_groups(const uint8_t **w, host_group **out, uint32_t groups, uint32_t bins,
                       const char *what, char *err, size_t n)
{
    host_group *g = calloc(groups, sizeof *g);
    *out = g;
    if (g == NULL)
        return fail(err, n, "out of memory");
    for (uint32_t i = 0; i < groups; i++) {
        const uint8_t *p = *w;
        g[i].count = rd64(p);
        g[i].mean = rdd(p + 8);
        g[i].m2 = rdd(p + 16);
        if ((g[i].hist = malloc(4u * bins)) == NULL)
            return fail(err, n, "out of memory");
        uint64_t sum = 0;
        for (uint32_t b = 0; b < bins; b++)
            sum += g[i].hist[b] = rd32(p + TMO_REPORT_GROUP_FIXED + 4u * b);
        /* Raw values are int8 or float32, so |mean| <= FLT_MAX; the m2 bound leaves merges room. */
        if (!(fabs(g[i].mean) <= 3.4028234663852886e38) || !(g[i].m2 >= 0 && g[i].m2 <= 1e200))
            return fail(err, n, "report: %s group %u moments out of range", what, i);
        if (sum != g[i].count)
            return fail(err, n, "report: %s group %u histogram sums to %llu, count is %llu", what,
                        i, (unsigned long long)sum, (unsigned long long)g[i].count);
        *w += TMO_REPORT_GROUP_FIXED + 4u * bins;
    }
    return 0;
}

static int read_counts(const uint8_t **w, uint32_t **out, uint32_t k, uint32_t want,
                       const char *what, char *err, size_t n)
{
    uint32_t *c = malloc(4u * k);
    *out = c;
    if (c == NULL)
        return fail(err, n, "out of memory");
    uint64_t sum = 0;
    for (uint32_t i = 0; i < k; i++)
        sum += c[i] = rd32(*w + 4u * i);
    *w += 4u * k;
    if (sum != want)
        return fail(err, n, "report: %s counts sum to %llu, not the %u observed outputs", what,
                    (unsigned long long)sum, want);
    return 0;
}

static int read_pen(const uint8_t **w, host_report *r, char *err, size_t n)
{
    r->pen_count = rd32(*w);
    r->pen_rows = rd32(*w + 4);
    *w += TMO_REPORT_PEN_FIXED;
    r->pen_mean = malloc(4u * r->pen_channels);
    r->pen_m2 = malloc(4u * r->pen_channels);
    if (r->pen_mean == NULL || r->pen_m2 == NULL)
        return fail(err, n, "out of memory");
    if (r->pen_count > r->out_inf || r->pen_rows == 0)
        return fail(err, n, "report: penultimate count above observed outputs, or no rows");
    for (uint32_t c = 0; c < r->pen_channels; c++, *w += 8) {
        r->pen_mean[c] = rdf(*w);
        r->pen_m2[c] = rdf(*w + 4);
        if (!(fabsf(r->pen_mean[c]) <= 1e18f) || !(r->pen_m2[c] >= 0 && r->pen_m2[c] <= 1e30f))
            return fail(err, n, "report: penultimate channel %u out of range", c);
    }
    return 0;
}

static int read_samples(const uint8_t *w, host_report *r, char *err, size_t n)
{
    r->samples = calloc(r->sample_count, sizeof *r->samples);
    if (r->samples == NULL)
        return fail(err, n, "out of memory");
    for (uint32_t s = 0; s < r->sample_count; s++) {
        host_sample *x = &r->samples[s];
        x->index = rd32(w);
        x->score = rdf(w + 4);
        x->cls = rd16(w + 8);
        if ((x->bytes = malloc(r->sample_bytes)) == NULL)
            return fail(err, n, "out of memory");
        memcpy(x->bytes, w + TMO_REPORT_SAMPLE_FIXED, r->sample_bytes);
        int pad_ok = rd16(w + 10) == 0;
        for (size_t i = r->sample_bytes; i < ALIGN4((size_t)r->sample_bytes); i++)
            pad_ok &= w[TMO_REPORT_SAMPLE_FIXED + i] == 0;
        if (x->index >= r->inferences || !isfinite(x->score) || !pad_ok ||
            (r->mode != TMO_OUT_VALUES ? x->cls >= r->out_groups : x->cls != 0))
            return fail(err, n, "report: sample %u has a bad index, score, class or padding", s);
        w += TMO_REPORT_SAMPLE_FIXED + ALIGN4((size_t)r->sample_bytes);
    }
    return 0;
}

int host_report_decode(const uint8_t *b, size_t len, host_report *r, char *err, size_t n)
{
    memset(r, 0, sizeof *r);
    if (b == NULL)
        return fail(err, n, "report: no bytes");
    if (read_header(b, len, r, err, n) != 0)
        goto bad;
    const uint8_t *w = b + TMO_REPORT_HEADER_SIZE;
    if (read_drift(w, r, err, n) != 0)
        goto bad;
    w += TMO_REPORT_DRIFT_SIZE;
    for (int i = 0; i < TMO_REPORT_LATENCY_BINS; i++, w += 4)
        r->latency[i] = rd32(w);
    if (check_counters(r, err, n) != 0 ||
        read_groups(&w, &r->in, r->in_groups, r->in_bins, "input", err, n) != 0)
        goto bad;
    if (r->mode == TMO_OUT_VALUES) {
        if (read_groups(&w, &r->out, r->out_groups, r->out_bins, "output", err, n) != 0)
            goto bad;
    } else if (read_counts(&w, &r->classes, r->out_groups, r->out_inf, "class", err, n) != 0 ||
               read_counts(&w, &r->conf, r->out_bins, r->out_inf, "confidence", err, n) != 0) {
        goto bad;
    }
    if (r->pen_channels > 0 && read_pen(&w, r, err, n) != 0)
        goto bad;
    if (r->sample_count > 0 && read_samples(w, r, err, n) != 0)
        goto bad;
    return 0;
bad:
    host_report_free(r);
    return -1;
}

static uint8_t *write_groups(uint8_t *w, const host_group *g, uint32_t groups, uint32_t bins)
{
    for (uint32_t i = 0; i < groups; i++) {
        wr64(w, g[i].count);
        wrd(w + 8, g[i].mean);
        wrd(w + 16, g[i].m2);
        w += TMO_REPORT_GROUP_FIXED;
        for (uint32_t b = 0; b < bins; b++, w += 4)
            wr32(w, g[i].hist[b]);
    }
    return w;
}

static void write_header(uint8_t *b, const host_report *r, size_t len)
{
    memcpy(b, TMO_REPORT_MAGIC, 4);
    wr16(b + TMO_RH_VERSION, TMO_REPORT_VERSION);
    wr16(b + TMO_RH_HEADER_SIZE, TMO_REPORT_HEADER_SIZE);
    wr32(b + TMO_RH_TOTAL, (uint32_t)len);
    wr32(b + TMO_RH_FLAGS, r->flags);
    wr64(b + TMO_RH_SEQ_FIRST, r->seq_first);
    wr64(b + TMO_RH_SEQ_LAST, r->seq_last);
    wr64(b + TMO_RH_START_MS, r->start_ms);
    wr64(b + TMO_RH_END_MS, r->end_ms);
    memcpy(b + TMO_RH_DIGEST, r->digest, 8);
    wr32(b + TMO_RH_INFERENCES, r->inferences);
    wr32(b + TMO_RH_ERRORS, r->errors);
    wr32(b + TMO_RH_ARENA, r->arena);
    wr32(b + TMO_RH_EVENTS, r->events);
    wr32(b + TMO_RH_WINDOWS, r->windows);
    wr32(b + TMO_RH_DROPPED, r->dropped);
    wr32(b + TMO_RH_NONFINITE, r->nonfinite);
    b[TMO_RH_IN_BINS] = (uint8_t)r->in_bins;
    b[TMO_RH_OUT_BINS] = (uint8_t)r->out_bins;
    wr16(b + TMO_RH_IN_GROUPS, (uint16_t)r->in_groups);
    wr16(b + TMO_RH_OUT_GROUPS, (uint16_t)r->out_groups);
    wr16(b + TMO_RH_PEN_CH, (uint16_t)r->pen_channels);
    wr16(b + TMO_RH_SAMPLES, (uint16_t)r->sample_count);
    wr16(b + TMO_RH_LAT_BINS, TMO_REPORT_LATENCY_BINS);
    wr32(b + TMO_RH_SAMPLE_BYTES, r->sample_bytes);
    wr32(b + TMO_RH_FIRST_EVENT, r->first_event);
    wr32(b + TMO_RH_IN_INF, r->in_inf);
    wr32(b + TMO_RH_OUT_INF, r->out_inf);
}

static void write_drift(uint8_t *d, const tmo_drift *x)
{
    wrf(d + TMO_RD_PSI_IN_MEAN, x->psi_in_mean);
    wrf(d + TMO_RD_PSI_IN_MAX, x->psi_in_max);
    wrf(d + TMO_RD_JS_IN_MEAN, x->js_in_mean);
    wrf(d + TMO_RD_JS_IN_MAX, x->js_in_max);
    wrf(d + TMO_RD_PSI_OUT, x->psi_out);
    wrf(d + TMO_RD_JS_OUT, x->js_out);
    wrf(d + TMO_RD_PSI_CONF, x->psi_conf);
    wrf(d + TMO_RD_JS_CONF, x->js_conf);
    wrf(d + TMO_RD_PEN_SHIFT, x->pen_shift);
    wrf(d + TMO_RD_ACC_EST, x->acc_est);
    wrf(d + TMO_RD_CONF_MEAN, x->conf_mean);
    wrf(d + TMO_RD_CUSUM_CONF, x->cusum_conf);
    wrf(d + TMO_RD_CUSUM_IN, x->cusum_in);
    wr16(d + TMO_RD_WORST_GROUP, x->worst_group);
}

int host_report_encode(const host_report *r, uint8_t **out, size_t *len, char *err, size_t n)
{
    size_t size = size_of(r);
    uint8_t *b = calloc(1, size);
    if (b == NULL)
        return fail(err, n, "out of memory");
    write_header(b, r, size);
    uint8_t *w = b + TMO_REPORT_HEADER_SIZE;
    write_drift(w, &r->drift);
    w += TMO_REPORT_DRIFT_SIZE;
    for (int i = 0; i < TMO_REPORT_LATENCY_BINS; i++, w += 4)
        wr32(w, r->latency[i]);
    w = write_groups(w, r->in, r->in_groups, r->in_bins);
    if (r->mode == TMO_OUT_VALUES) {
        w = write_groups(w, r->out, r->out_groups, r->out_bins);
    } else {
        for (uint32_t k = 0; k < r->out_groups; k++, w += 4)
            wr32(w, r->classes[k]);
        for (uint32_t k = 0; k < r->out_bins; k++, w += 4)
            wr32(w, r->conf[k]);
    }
    if (r->pen_channels > 0) {
        wr32(w, r->pen_count);
        wr32(w + 4, r->pen_rows);
        w += TMO_REPORT_PEN_FIXED;
        for (uint32_t c = 0; c < r->pen_channels; c++, w += 8) {
            wrf(w, r->pen_mean[c]);
            wrf(w + 4, r->pen_m2[c]);
        }
    }
    for (uint32_t s = 0; s < r->sample_count; s++) {
        wr32(w, r->samples[s].index);
        wrf(w + 4, r->samples[s].score);
        wr16(w + 8, r->samples[s].cls);
        memcpy(w + TMO_REPORT_SAMPLE_FIXED, r->samples[s].bytes, r->sample_bytes);
        w += TMO_REPORT_SAMPLE_FIXED + ALIGN4((size_t)r->sample_bytes);
    }
    /* Only a consistent struct may leave: the encoder's output must decode. */
    host_report check;
    char why[256];
    if (host_report_decode(b, size, &check, why, sizeof why) != 0) {
        free(b);
        return fail(err, n, "refusing to encode an inconsistent report: %s", why);
    }
    host_report_free(&check);
    *out = b;
    *len = size;
    return 0;
}

static int copy_groups(host_group **dst, const host_group *src, uint32_t groups, uint32_t bins)
{
    if (src == NULL)
        return 0;
    if ((*dst = calloc(groups, sizeof **dst)) == NULL)
        return -1;
    for (uint32_t g = 0; g < groups; g++) {
        (*dst)[g] = src[g];
        if (((*dst)[g].hist = malloc(4u * bins)) == NULL)
            return -1;
        memcpy((*dst)[g].hist, src[g].hist, 4u * bins);
    }
    return 0;
}

static void *dup(const void *p, size_t n)
{
    void *q = p != NULL && n > 0 ? malloc(n) : NULL;
    if (q != NULL)
        memcpy(q, p, n);
    return q;
}

int host_report_copy(host_report *dst, const host_report *src)
{
    *dst = *src;
    dst->in = dst->out = NULL;
    dst->samples = NULL;
    dst->classes = dup(src->classes, 4u * src->out_groups);
    dst->conf = dup(src->conf, 4u * src->out_bins);
    dst->pen_mean = dup(src->pen_mean, 4u * src->pen_channels);
    dst->pen_m2 = dup(src->pen_m2, 4u * src->pen_channels);
    int bad = copy_groups(&dst->in, src->in, src->in_groups, src->in_bins) != 0 ||
              copy_groups(&dst->out, src->out, src->out_groups, src->out_bins) != 0;
    if (src->sample_count > 0) {
        dst->samples = calloc(src->sample_count, sizeof *dst->samples);
        for (uint32_t s = 0; dst->samples != NULL && s < src->sample_count; s++) {
            dst->samples[s] = src->samples[s];
            dst->samples[s].bytes = dup(src->samples[s].bytes, src->sample_bytes);
            bad |= dst->samples[s].bytes == NULL;
        }
        bad |= dst->samples == NULL;
    }
    bad |= (src->classes && !dst->classes) || (src->conf && !dst->conf) ||
           (src->pen_mean && (!dst->pen_mean || !dst->pen_m2));
    if (bad) {
        if (dst->samples == NULL)
            dst->sample_count = 0;
        host_report_free(dst);
        return -1;
    }
    return 0;
}
