/*
 * One device's input stream (sim_stream_fill in sim_data.h): draw a row
 * (by class weights under class-mix drift), change it the way a drifting
 * sensor would (x * scale + shift + noise, stuck or saturated features) and
 * quantize it with the running model's own input scale and zero point
 * (round half away from zero, then clamp: TFLite's QUANTIZE arithmetic).
 */
#include <math.h>
#include <string.h>

#include "sim_data.h"

static double gauss(uint64_t *rng)
{
    double u = sim_rand01(rng), v = sim_rand01(rng);
    return sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

static size_t pick_row(const sim_dataset *ds, const sim_drift *dr, uint64_t *rng, int *label)
{
    size_t row = (size_t)(sim_rand(rng) % ds->count);
    if (ds->y != NULL && dr->class_count > 0) {
        double total = 0;
        for (size_t k = 0; k < dr->class_count && k < (size_t)ds->classes; k++)
            total += dr->class_weight[k];
        double r = sim_rand01(rng) * total;
        for (size_t k = 0; k < dr->class_count && k < (size_t)ds->classes; k++) {
            r -= dr->class_weight[k];
            size_t n = ds->class_start[k + 1] - ds->class_start[k];
            if (r < 0 && n > 0) {
                row = ds->by_class[ds->class_start[k] + (size_t)(sim_rand(rng) % n)];
                break;
            }
        }
    }
    *label = ds->y != NULL ? ds->y[row] : -1;
    return row;
}

/* Whether feature f of this device is one of the stuck/saturated ones (frac of them). */
static int affected(uint64_t salt, size_t f, float frac)
{
    if (frac >= 1)
        return 1;
    uint64_t st = salt ^ (0x9E3779B97F4A7C15ull * (f + 1));
    return sim_rand01(&st) < frac;
}

/* The real value range the input can represent (quantized) or the data's (float). */
static void input_range(const sim_dataset *ds, const tmo_io *in, double *lo, double *hi)
{
    if (in->type != TMO_FLOAT32 && in->scale > 0) {
        double qmin = in->type == TMO_INT8 ? -128 : 0, qmax = in->type == TMO_INT8 ? 127 : 255;
        *lo = (qmin - in->zero_point) * in->scale;
        *hi = (qmax - in->zero_point) * in->scale;
    } else if (ds != NULL && ds->x != NULL) {
        *lo = ds->lo;
        *hi = ds->hi;
    } else {
        *lo = -3;
        *hi = 3;
    }
}

/* Source value f of row (real units). */
static double source(const sim_dataset *ds, size_t row, size_t f, const tmo_io *in, double lo,
                     double hi, uint64_t *rng)
{
    if (ds == NULL) /* synthetic: centred in the representable range, 1/6 of it wide */
        return (lo + hi) / 2 + gauss(rng) * (hi - lo) / 6;
    if (ds->x != NULL)
        return ds->x[row * ds->features + f];
    const uint8_t *r = ds->raw + row * ds->raw_bytes;
    if (ds->type == TMO_FLOAT32) {
        float v;
        memcpy(&v, r + 4 * f, 4);
        return v;
    }
    double q = ds->type == TMO_INT8 ? (double)(int8_t)r[f] : (double)r[f];
    return in->scale > 0 ? (q - in->zero_point) * in->scale : q;
}

static double round_away(double v)
{
    return v >= 0 ? floor(v + 0.5) : ceil(v - 0.5);
}

/* Stores v into element f; returns the real value the model actually sees. */
static double store(const tmo_io *in, size_t f, double v)
{
    if (in->type == TMO_FLOAT32) {
        float x = (float)v;
        memcpy((uint8_t *)in->data + 4 * f, &x, 4);
        return x;
    }
    double qmin = in->type == TMO_INT8 ? -128 : 0, qmax = in->type == TMO_INT8 ? 127 : 255;
    double q = in->scale > 0 ? round_away(v / in->scale) + in->zero_point : round_away(v);
    q = q < qmin ? qmin : q > qmax ? qmax : q;
    if (in->type == TMO_INT8)
        ((int8_t *)in->data)[f] = (int8_t)q;
    else
        ((uint8_t *)in->data)[f] = (uint8_t)q;
    return in->scale > 0 ? (q - in->zero_point) * in->scale : q;
}

static int drifting(const sim_drift *d)
{
    return d->shift != 0 || d->scale != 1 || d->noise > 0 || d->stuck || d->saturate;
}

/* Writes row (of ds, or synthetic) with drift into in; adds to st. */
static void fill_row(const sim_dataset *ds, size_t row, const sim_drift *drift, uint64_t salt,
                     uint64_t *rng, const tmo_io *in, sim_stream_stats *st)
{
    size_t elems = in->type == TMO_FLOAT32 ? in->bytes / 4 : in->bytes;
    double lo, hi, sum = 0, sumsq = 0;
    input_range(ds, in, &lo, &hi);
    int changed = drifting(drift);
    for (size_t f = 0; f < elems; f++) {
        double v = source(ds, row, f, in, lo, hi, rng);
        if (changed) {
            v = v * drift->scale + drift->shift;
            if (drift->noise > 0)
                v += drift->noise * gauss(rng);
            if (drift->stuck && affected(salt, f, drift->frac))
                v = drift->stuck_value;
            if (drift->saturate && affected(salt ^ 0x5A5A, f, drift->frac))
                v = hi;
        }
        double seen = store(in, f, v);
        sum += seen;
        sumsq += seen * seen;
    }
    st->inputs++;
    st->values += elems;
    st->sum += sum;
    st->sumsq += sumsq;
}

static int type_ok(const tmo_io *in)
{
    return in->type == TMO_INT8 || in->type == TMO_UINT8 || in->type == TMO_FLOAT32;
}

int sim_stream_fill(const sim_dataset *ds, const sim_drift *drift, uint64_t salt, uint64_t *rng,
                    const tmo_io *in, sim_stream_stats *st)
{
    if (!type_ok(in)) {
        memset(in->data, 0, in->bytes);
        return -1;
    }
    int label = -1;
    size_t row = ds != NULL ? pick_row(ds, drift, rng, &label) : 0;
    fill_row(ds, row, drift, salt, rng, in, st);
    return label;
}

int sim_stream_row(const sim_dataset *ds, size_t row, const tmo_io *in)
{
    if (!type_ok(in) || ds == NULL || row >= ds->count)
        return -2;
    sim_drift none;
    memset(&none, 0, sizeof none);
    none.scale = 1;
    none.frac = 1;
    uint64_t rng = 1;
    sim_stream_stats st = {0, 0, 0, 0};
    fill_row(ds, row, &none, 0, &rng, in, &st);
    return ds->y != NULL ? ds->y[row] : -1;
}
