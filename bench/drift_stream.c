/*
 * Stream generator of the drift evaluation: see drift_stream.h. The drift
 * magnitudes are fixed here so the tables in docs/PERFORMANCE.md name them.
 */
#include "drift_stream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlops/model.h"

const char *ds_kind_name(ds_kind k)
{
    static const char *names[DS_KINDS] = {"none",  "mean +0.5 sd", "scale x1.5", "noise 0.5 sd",
                                          "stuck", "saturated x4", "class mix"};
    return k < DS_KINDS ? names[k] : "?";
}

uint64_t ds_next(ds_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double ds_uniform(ds_rng *r)
{
    return (double)(ds_next(r) >> 11) / 9007199254740992.0;
}

double ds_normal(ds_rng *r)
{
    double u = ds_uniform(r), v = ds_uniform(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

void ds_from_tensor(const ds_space *sp, const void *t, double *x)
{
    for (size_t i = 0; i < sp->elements; i++)
        x[i] = sp->type == TMO_INT8
                   ? ((double)((const int8_t *)t)[i] - sp->zero_point) * (double)sp->scale
                   : (double)((const float *)t)[i];
}

void ds_to_tensor(const ds_space *sp, const double *x, void *t)
{
    for (size_t i = 0; i < sp->elements; i++) {
        if (sp->type == TMO_INT8) {
            /* The MLPerf / model-factory quantization: round half away from zero, clamp. */
            double q = round(x[i] / (double)sp->scale) + sp->zero_point;
            ((int8_t *)t)[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        } else {
            ((float *)t)[i] = (float)x[i];
        }
    }
}

void ds_bank_moments(ds_bank *b, size_t elements)
{
    double s = 0, sq = 0, n = (double)b->n * (double)elements;
    for (size_t i = 0; i < b->n * elements; i++) {
        s += b->x[i];
        sq += b->x[i] * b->x[i];
    }
    b->mu = s / n;
    double var = sq / n - b->mu * b->mu;
    b->sigma = var > 0 ? sqrt(var) : 1e-6;
}

int ds_stream_init(ds_stream *s, const ds_space *sp, const ds_bank *bank, uint64_t seed,
                   ds_kind kind)
{
    memset(s, 0, sizeof *s);
    s->sp = sp;
    s->bank = bank;
    s->rng.s = seed;
    s->kind = kind;
    s->label = -1;
    s->last = calloc(sp->elements + 1, sizeof(double));
    s->work = calloc(sp->elements + 1, sizeof(double));
    return s->last != NULL && s->work != NULL ? 0 : -1;
}

void ds_stream_free(ds_stream *s)
{
    free(s->last);
    free(s->work);
    s->last = s->work = NULL;
}

static double clip(const ds_space *sp, double v)
{
    return v < sp->lo ? sp->lo : v > sp->hi ? sp->hi : v;
}

void ds_stream_next(ds_stream *s, void *t)
{
    const ds_space *sp = s->sp;
    const ds_bank *b = s->bank;
    size_t n = sp->elements;
    if (s->drifting && s->kind == DS_STUCK) {
        ds_to_tensor(sp, s->last, t);
        return;
    }
    size_t pick = s->drifting && s->kind == DS_CLASSMIX && s->pool_n > 0
                      ? s->pool[ds_next(&s->rng) % s->pool_n]
                      : (size_t)(ds_next(&s->rng) % b->n);
    const double *base = b->x + pick * n;
    double *x = s->work;
    for (size_t i = 0; i < n; i++)
        x[i] = clip(sp, base[i] + b->jitter * ds_normal(&s->rng));
    s->label = b->label != NULL ? b->label[pick] : -1;
    if (!s->drifting || s->kind == DS_CLASSMIX || s->kind == DS_NONE) {
        memcpy(s->last, x, sizeof(double) * n);
        ds_to_tensor(sp, x, t);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        switch (s->kind) {
        case DS_MEAN:
            v += 0.5 * b->sigma;
            break;
        case DS_SCALE:
            v = b->mu + 1.5 * (v - b->mu);
            break;
        case DS_NOISE:
            v += 0.5 * b->sigma * ds_normal(&s->rng);
            break;
        case DS_SATURATE:
            v = b->mu + 4.0 * (v - b->mu);
            break;
        default:
            break;
        }
        x[i] = clip(sp, v);
    }
    ds_to_tensor(sp, x, t);
}
