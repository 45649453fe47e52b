/*
 * Calibration and int8 quantization (rules in quantize.h). Scales are
 * computed in float, as TFLite's converter does, so our files carry the
 * same numbers a TFLite-converted model would for the same float weights
 * and ranges.
 */
#include "quantize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tr_calibrate(tr_net *n, const tr_dataset *ds, tr_range *ranges)
{
    for (uint32_t i = 0; i <= n->count; i++) {
        ranges[i].min = INFINITY;
        ranges[i].max = -INFINITY;
    }
    size_t in_size = (size_t)n->in_h * (size_t)n->in_w * (size_t)n->in_c;
    for (size_t s = 0; s < ds->count; s++) {
        tr_net_forward(n, ds->x + s * ds->features);
        for (uint32_t i = 0; i <= n->count; i++) {
            size_t size = i == 0 ? in_size : tr_layer_out_size(&n->layers[i - 1]);
            for (size_t j = 0; j < size; j++) {
                float v = n->act[i][j];
                ranges[i].min = v < ranges[i].min ? v : ranges[i].min;
                ranges[i].max = v > ranges[i].max ? v : ranges[i].max;
            }
        }
    }
}

tr_qparams tr_activation_qparams(tr_range r)
{
    const float qmin = -128.0f, qmax = 127.0f;
    float min = r.min < 0.0f ? r.min : 0.0f;
    float max = r.max > 0.0f ? r.max : 0.0f;
    if (min == max)
        max = 1.0f; /* never-nonzero tensor: any scale is exact, avoid scale 0 */
    tr_qparams p;
    p.scale = (max - min) / (qmax - qmin);
    float zp = qmin - min / p.scale;
    p.zero_point = zp < qmin ? -128 : zp > qmax ? 127 : (int32_t)roundf(zp);
    return p;
}

int8_t tr_quantize_value(float x, tr_qparams p)
{
    float q = roundf(x / p.scale);
    /* Clamp before converting: huge or NaN values must not reach an int conversion. */
    if (!(q > -1000.0f))
        q = -1000.0f;
    if (q > 1000.0f)
        q = 1000.0f;
    int32_t v = (int32_t)q + p.zero_point;
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

int32_t tr_weight_channel(const tr_layer *l, size_t i)
{
    if (l->spec.kind == TR_DWCONV)
        return (int32_t)(i % (size_t)l->out_c);        /* 1HWO: channel is the last index */
    return (int32_t)(i / (l->n_w / (size_t)l->out_c)); /* [units][...] and OHWI: the first */
}

/* Per-channel symmetric weights; the scale widens if a bias would not fit in int32. */
static int quantize_weights(const tr_layer *l, tr_qlayer *q)
{
    int32_t channels = l->out_c;
    float *half = calloc((size_t)channels, sizeof *half);
    if (half == NULL)
        return -1;
    for (size_t i = 0; i < l->n_w; i++) {
        int32_t c = tr_weight_channel(l, i);
        float a = fabsf(l->w[i]);
        half[c] = a > half[c] ? a : half[c];
    }
    for (int32_t c = 0; c < channels; c++) {
        if (half[c] == 0.0f)
            half[c] = 1.0f;
        /* TFLite AdjustWeightsForBiasScale: keep |bias / bias scale| below 2^30. */
        double need = 2.0 * fabs((double)l->b[c]) / 2147483647.0 * (127.0 / (double)q->in.scale);
        if ((double)half[c] < need)
            half[c] = (float)need;
        q->w_scale[c] = half[c] / 127.0f;
    }
    for (size_t i = 0; i < l->n_w; i++) {
        int32_t c = tr_weight_channel(l, i);
        float v = roundf(l->w[i] * (127.0f / half[c]));
        q->w[i] = (int8_t)(v < -127.0f ? -127 : v > 127.0f ? 127 : (int32_t)v);
    }
    free(half);
    return 0;
}

static void quantize_biases(const tr_layer *l, tr_qlayer *q)
{
    for (int32_t c = 0; c < l->out_c; c++) {
        q->b_scale[c] = q->in.scale * q->w_scale[c];
        float inv = (float)(1.0 / (double)q->b_scale[c]);
        float v = roundf(l->b[c] * inv);
        q->b[c] = v >= 2147483647.0f ? INT32_MAX : v <= -2147483647.0f ? -INT32_MAX : (int32_t)v;
    }
}

int tr_quantize(const tr_net *n, const tr_range *ranges, tr_qnet *q)
{
    memset(q, 0, sizeof *q);
    q->count = n->count;
    q->input = tr_activation_qparams(ranges[0]);
    tr_qparams in = q->input;
    for (uint32_t i = 0; i < n->count; i++) {
        const tr_layer *l = &n->layers[i];
        tr_qlayer *ql = &q->layers[i];
        ql->in = in;
        if (l->n_w == 0) {
            ql->out = in; /* pooling: the spec fixes output = input quantization */
        } else {
            ql->out = tr_activation_qparams(ranges[i + 1]);
            ql->w = malloc(l->n_w);
            ql->w_scale = malloc(sizeof(float) * (size_t)l->out_c);
            ql->b = malloc(sizeof(int32_t) * (size_t)l->out_c);
            ql->b_scale = malloc(sizeof(float) * (size_t)l->out_c);
            if (ql->w == NULL || ql->w_scale == NULL || ql->b == NULL || ql->b_scale == NULL ||
                quantize_weights(l, ql) != 0) {
                tr_qnet_free(q);
                return -1;
            }
            quantize_biases(l, ql);
        }
        in = ql->out;
    }
    return 0;
}

void tr_qnet_free(tr_qnet *q)
{
    for (uint32_t i = 0; i < TR_MAX_LAYERS + 1; i++) {
        free(q->layers[i].w);
        free(q->layers[i].w_scale);
        free(q->layers[i].b);
        free(q->layers[i].b_scale);
    }
    memset(q, 0, sizeof *q);
}
