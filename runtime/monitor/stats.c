/*
 * Per-inference statistics: the hot path of the monitor. Everything that
 * can be decided once (bin arithmetic, group boundaries) is precomputed at
 * init, so each input value costs a subtract, a clamp, a multiply, a shift
 * and an increment (int8), plus two adds for the exact sums. The host
 * profile builder runs this same code over the representative data, so a
 * profile and a device window always bin values identically.
 */
#include <math.h>

#include "monitor_priv.h"

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

size_t mon_tensor_bytes(uint32_t groups, uint32_t bins)
{
    return ALIGN8(sizeof(mon_tensor)) + ALIGN8((size_t)groups * sizeof(mon_group)) +
           ALIGN8((size_t)groups * bins * sizeof(uint32_t));
}

void mon_tensor_init(mon_tensor *t, void *mem, const tmo_profile_stats *ps)
{
    uint8_t *p = (uint8_t *)mem;
    t->ps = ps;
    t->type = ps->type;
    t->bins = ps->bins;
    t->groups = ps->groups;
    t->channels = ps->channels;
    t->rows = ps->elements / ps->channels;
    t->g = (mon_group *)(void *)p;
    t->hist = (uint32_t *)(void *)(p + ALIGN8((size_t)t->groups * sizeof(mon_group)));
    for (uint32_t g = 0; g < t->groups; g++) {
        mon_group *gr = &t->g[g];
        tmo_profile_group pg;
        tmo_profile_group_get(ps, g, &pg);
        memset(gr, 0, sizeof *gr);
        gr->first = tmo_profile_group_first(ps, g);
        gr->end = tmo_profile_group_first(ps, g + 1);
        if (t->type == TMO_INT8) {
            /* floor(x * bins / width) as (x * mb) >> 22, exact for x * bins < 2^14 (docs [P-3]). */
            uint32_t width = (uint32_t)((int32_t)pg.hi - (int32_t)pg.lo) + 1u;
            gr->lo = (int32_t)pg.lo;
            gr->wm1 = width - 1u;
            gr->mb = t->bins * (((1u << MON_BIN_SHIFT) + width - 1u) / width);
        } else {
            float inv = (float)t->bins / (pg.hi - pg.lo);
            /* A degenerate range splits at lo: values above it land in the last bin. */
            gr->flo = pg.lo;
            gr->inv = pg.hi > pg.lo && isfinite(inv) ? inv : 1e30f;
            gr->shift = (float)pg.mean;
        }
    }
    mon_tensor_reset(t);
}

void mon_tensor_reset(mon_tensor *t)
{
    for (uint32_t g = 0; g < t->groups; g++) {
        t->g[g].count = 0;
        t->g[g].isum = 0;
        t->g[g].isq = 0;
        t->g[g].fsum = 0;
        t->g[g].fsq = 0;
    }
    memset(t->hist, 0, (size_t)t->groups * t->bins * sizeof(uint32_t));
}

/*
 * Values are visited in runs: n values `step` apart (a whole group of whole
 * rows is one contiguous run; otherwise each channel of the group is a run
 * down the rows), so the per-value work has no row or group bookkeeping.
 */

/* A run's loop gets all registers to itself (inlined into the run selection it spills). */
#if defined(__GNUC__)
#define MON_NOINLINE __attribute__((noinline))
#else
#define MON_NOINLINE
#endif

/* One int8 run (n <= 2^18 keeps the 32-bit sums exact). */
static MON_NOINLINE void run_int8(const int8_t *v, uint32_t n, size_t step, const mon_group *gr,
                                  uint32_t *hist, int64_t *s, uint64_t *sq)
{
    const int32_t lo = gr->lo;
    const uint32_t wm1 = gr->wm1;
    const uint64_t mb = gr->mb;
    int32_t rs = 0;
    uint32_t rsq = 0;
    for (uint32_t i = 0; i < n; i++, v += step) {
        int32_t q = *v;
        rs += q;
        rsq += (uint32_t)(q * q);
        int32_t x = q - lo;
        uint32_t xc = x < 0 ? 0u : (uint32_t)x > wm1 ? wm1 : (uint32_t)x;
        hist[(xc * mb) >> MON_BIN_SHIFT]++;
    }
    *s += rs;
    *sq += rsq;
}

#define RUN_MAX (1u << 18)

/* Folds one group's sums into a fingerprint (identical inputs give identical fingerprints). */
static uint64_t fold(uint64_t fp, uint64_t a, uint64_t b)
{
    fp = (fp ^ a) * 0x100000001B3ull;
    return (fp ^ b) * 0x100000001B3ull;
}

/* Calls RUN(v, n, step) over every value of group gr (every stride-th row), in long runs. */
#define FOR_RUNS(T, data, t, gr, stride, RUN)                                                      \
    do {                                                                                           \
        uint32_t width_ = (gr)->end - (gr)->first;                                                 \
        if (width_ == (t)->channels && (stride) == 1) {                                            \
            uint64_t left_ = (uint64_t)(t)->rows * width_;                                         \
            for (const T *v_ = (data); left_ > 0;) {                                               \
                uint32_t k_ = left_ > RUN_MAX ? RUN_MAX : (uint32_t)left_;                         \
                RUN(v_, k_, 1);                                                                    \
                v_ += k_;                                                                          \
                left_ -= k_;                                                                       \
            }                                                                                      \
        } else if (width_ >= ((t)->rows + (stride)-1) / (stride)) {                                \
            /* Wide groups: each row's slice is a run (widths <= 2^18, checked at init). */        \
            for (uint32_t r_ = 0; r_ < (t)->rows; r_ += (stride))                                  \
                RUN((data) + (size_t)r_ * (t)->channels + (gr)->first, width_, 1);                 \
        } else {                                                                                   \
            /* Tall groups: each channel down the rows is a run. */                                \
            size_t step_ = (size_t)(t)->channels * (stride);                                       \
            uint32_t rows_ = ((t)->rows + (stride)-1) / (stride);                                  \
            for (uint32_t c_ = (gr)->first; c_ < (gr)->end; c_++)                                  \
                for (uint32_t r_ = 0; r_ < rows_; r_ += RUN_MAX) {                                 \
                    uint32_t k_ = rows_ - r_ > RUN_MAX ? RUN_MAX : rows_ - r_;                     \
                    RUN((data) + c_ + (size_t)r_ * step_, k_, step_);                              \
                }                                                                                  \
        }                                                                                          \
    } while (0)

static void add_int8(mon_tensor *t, const int8_t *data, uint32_t stride, double *sum, uint64_t *n)
{
    int64_t total = 0;
    uint64_t fp = 0xcbf29ce484222325ull;
    for (uint32_t g = 0; g < t->groups; g++) {
        mon_group *gr = &t->g[g];
        uint32_t *hist = t->hist + (size_t)g * t->bins;
        int64_t s = 0;
        uint64_t sq = 0, values = 0;
#define RUN8(v, k, step)                                                                           \
    do {                                                                                           \
        run_int8(v, k, step, gr, hist, &s, &sq);                                                   \
        values += k;                                                                               \
    } while (0)
        FOR_RUNS(int8_t, data, t, gr, stride, RUN8);
#undef RUN8
        gr->count += values;
        gr->isum += s;
        gr->isq += sq;
        total += s;
        *n += values;
        fp = fold(fp, (uint64_t)s, sq);
    }
    *sum += (double)total;
    t->fp = fp;
}

/*
 * float32 values: single-precision partial sums of (v - shift), flushed to
 * double every FLUSH values, so an MCU with a single-precision FPU does no
 * double arithmetic per value and the sums keep their accuracy.
 */
#define FLUSH 256u

typedef struct fsums {
    double s, sq;
    uint64_t cnt;
    uint32_t *nonfinite;
} fsums;

static MON_NOINLINE void run_float(const float *v, uint32_t n, size_t step, const mon_group *gr,
                                   uint32_t *hist, uint32_t bins, fsums *acc)
{
    const float shift = gr->shift, lo = gr->flo, inv = gr->inv, top = (float)bins;
    float ps = 0, psq = 0;
    uint32_t pending = 0;
    for (uint32_t i = 0; i < n; i++, v += step) {
        float x = *v;
        if (!isfinite(x)) {
            (*acc->nonfinite)++;
            continue;
        }
        float d = x - shift;
        ps += d;
        psq += d * d;
        float b = (x - lo) * inv;
        hist[b < 1.0f ? 0u : b >= top ? bins - 1u : (uint32_t)b]++;
        if (++pending == FLUSH) {
            acc->s += ps;
            acc->sq += psq;
            acc->cnt += pending;
            ps = psq = 0;
            pending = 0;
        }
    }
    acc->s += ps;
    acc->sq += psq;
    acc->cnt += pending;
}

static void add_float(mon_tensor *t, const float *data, uint32_t stride, double *sum, uint64_t *n,
                      uint32_t *nonfinite)
{
    uint64_t fp = 0xcbf29ce484222325ull;
    for (uint32_t g = 0; g < t->groups; g++) {
        mon_group *gr = &t->g[g];
        uint32_t *hist = t->hist + (size_t)g * t->bins;
        fsums acc = {0, 0, 0, nonfinite};
#define RUNF(v, k, step) run_float(v, k, step, gr, hist, t->bins, &acc)
        FOR_RUNS(float, data, t, gr, stride, RUNF);
#undef RUNF
        gr->count += acc.cnt;
        gr->fsum += acc.s;
        gr->fsq += acc.sq;
        *sum += acc.s + (double)gr->shift * (double)acc.cnt;
        *n += acc.cnt;
        uint64_t bs, bq;
        memcpy(&bs, &acc.s, 8);
        memcpy(&bq, &acc.sq, 8);
        fp = fold(fp, bs ^ acc.cnt, bq);
    }
    t->fp = fp;
}

void mon_tensor_add(mon_tensor *t, const void *data, uint32_t stride, double *sum, uint64_t *n,
                    uint32_t *nonfinite)
{
    if (stride == 0)
        stride = 1;
    if (t->type == TMO_INT8)
        add_int8(t, (const int8_t *)data, stride, sum, n);
    else
        add_float(t, (const float *)data, stride, sum, n, nonfinite);
}

void mon_tensor_moments(const mon_tensor *t, uint32_t g, double *mean, double *m2)
{
    const mon_group *gr = &t->g[g];
    if (gr->count == 0) {
        *mean = 0;
        *m2 = 0;
        return;
    }
    double n = (double)gr->count;
    double s = t->type == TMO_INT8 ? (double)gr->isum : gr->fsum;
    double sq = t->type == TMO_INT8 ? (double)gr->isq : gr->fsq;
    double d = s / n;
    *mean = t->type == TMO_INT8 ? d : d + (double)gr->shift;
    *m2 = sq - s * d;
    if (!(*m2 > 0))
        *m2 = 0;
}

void mon_pen_add(tmo_monitor *m)
{
    mon_pen *acc = (mon_pen *)m->pen_acc;
    uint32_t ch = m->profile->pen_channels;
    if (m->profile->pen_type == TMO_INT8) {
        /* Channel by channel with 32-bit partials in registers (exact for 2^18 rows at a time). */
        const int8_t *q = (const int8_t *)(const void *)m->pen_data;
        for (uint32_t c = 0; c < ch; c++)
            for (uint32_t r0 = 0; r0 < m->pen_rows; r0 += RUN_MAX) {
                uint32_t r1 = m->pen_rows - r0 > RUN_MAX ? r0 + RUN_MAX : m->pen_rows;
                int32_t s = 0;
                uint32_t sq = 0;
                const int8_t *p = q + (size_t)r0 * ch + c;
                for (uint32_t r = r0; r < r1; r++, p += ch) {
                    int32_t v = *p;
                    s += v;
                    sq += (uint32_t)(v * v);
                }
                acc[c].i.sum += s;
                acc[c].i.sq += sq;
            }
        return;
    }
    const float *v = (const float *)(const void *)m->pen_data;
    for (uint32_t r = 0; r < m->pen_rows; r++, v += ch)
        for (uint32_t c = 0; c < ch; c++) {
            if (!isfinite(v[c]))
                continue; /* counted nowhere: the penultimate block is a summary */
            double d = (double)v[c] - (double)m->pen_shift[c];
            acc[c].f.sum += d;
            acc[c].f.sq += d * d;
        }
}

void mon_pen_moments(const tmo_monitor *m, uint32_t c, double *mean, double *m2)
{
    const mon_pen *acc = (const mon_pen *)m->pen_acc;
    double n = (double)m->pen_inf * (double)m->pen_rows;
    *mean = *m2 = 0;
    if (n == 0)
        return;
    if (m->profile->pen_type == TMO_INT8) {
        double s = (double)acc[c].i.sum;
        *mean = s / n;
        *m2 = (double)acc[c].i.sq - s * *mean;
    } else {
        double d = acc[c].f.sum / n;
        *mean = (double)m->pen_shift[c] + d;
        *m2 = acc[c].f.sq - acc[c].f.sum * d;
    }
    if (!(*m2 > 0))
        *m2 = 0;
}

int32_t mon_top1(const tmo_profile *p, const void *data, float *conf)
{
    uint32_t k = p->classes;
    int32_t best = 0;
    float c;
    if (p->out_type == TMO_INT8) {
        const int8_t *q = (const int8_t *)data;
        for (uint32_t i = 1; i < k; i++)
            if (q[i] > q[best])
                best = (int32_t)i;
        if (p->mode == TMO_OUT_PROBS) {
            c = (float)(q[best] - p->out_zero_point) * p->out_scale;
        } else {
            float z = 0;
            for (uint32_t i = 0; i < k; i++)
                z += expf((float)(q[i] - q[best]) * p->out_scale);
            c = 1.0f / z;
        }
    } else {
        const float *v = (const float *)data;
        for (uint32_t i = 1; i < k; i++)
            if (v[i] > v[best] || (!(v[best] == v[best]) && v[i] == v[i]))
                best = (int32_t)i;
        if (p->mode == TMO_OUT_PROBS) {
            c = v[best];
        } else {
            float z = 0;
            for (uint32_t i = 0; i < k; i++)
                z += expf(v[i] - v[best]);
            c = 1.0f / z;
        }
    }
    *conf = c >= 0.0f ? (c <= 1.0f ? c : 1.0f) : 0.0f; /* NaN becomes 0 */
    return best;
}

uint32_t mon_conf_bin(float conf, uint32_t bins)
{
    float x = conf * (float)bins;
    return x < 1.0f ? 0u : x >= (float)bins ? bins - 1u : (uint32_t)x;
}

uint32_t mon_latency_bin(uint32_t us)
{
    uint32_t b = 0;
    while (us != 0 && b < TMO_REPORT_LATENCY_BINS - 1u) {
        us >>= 1;
        b++;
    }
    return b;
}

int32_t tmo_monitor_top1(const tmo_profile *p, const void *output, float *conf)
{
    return mon_top1(p, output, conf);
}

uint32_t tmo_monitor_conf_bin(float conf, uint32_t bins)
{
    return mon_conf_bin(conf, bins);
}
