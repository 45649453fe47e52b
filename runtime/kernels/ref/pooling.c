/*
 * Pooling reference kernels: the loops of TFLite Micro's reference
 * AveragePool/MaxPool. The window is clipped to the input (padding never
 * counts), per output pixel; channels are the innermost loop, which leaves
 * each channel's summation order (filter rows, then columns) as in TFLM.
 *
 * int8 average rounds half away from zero: (sum +- count/2) / count with C
 * division, exactly TFLM's integer_ops::AveragePool.
 */
#include <float.h>

#include "../fixedpoint.h"
#include "../pooling.h"
#include "../quant.h"

/* The part of one output pixel's filter window that lies inside the input. */
typedef struct window {
    int32_t y0, y1, x0, x1; /* input rows [y0, y1), columns [x0, x1) */
} window;

static window clip_window(const pool_params *p, int32_t oy, int32_t ox)
{
    int32_t origin_y = oy * p->stride_h - p->pad_h;
    int32_t origin_x = ox * p->stride_w - p->pad_w;
    window w;
    w.y0 = origin_y + fp_max_i32(0, -origin_y);
    w.y1 = origin_y + fp_min_i32(p->filter_h, p->in_h - origin_y);
    w.x0 = origin_x + fp_max_i32(0, -origin_x);
    w.x1 = origin_x + fp_min_i32(p->filter_w, p->in_w - origin_x);
    return w;
}

static size_t offset(int32_t b, int32_t y, int32_t x, int32_t h, int32_t w, int32_t depth)
{
    return (((size_t)b * (size_t)h + (size_t)y) * (size_t)w + (size_t)x) * (size_t)depth;
}

void avgpool_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const pool_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    int8_t *out = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++)
        for (int32_t oy = 0; oy < p->out_h; oy++)
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                window w = clip_window(p, oy, ox);
                int8_t *o = out + offset(b, oy, ox, p->out_h, p->out_w, p->depth);
                for (int32_t c = 0; c < p->depth; c++) {
                    uint32_t sum = 0; /* TFLM's int32 sum, wrapping instead of overflowing */
                    int32_t count = 0;
                    for (int32_t y = w.y0; y < w.y1; y++)
                        for (int32_t ix = w.x0; ix < w.x1; ix++) {
                            sum += (uint32_t)(int32_t)
                                in[offset(b, y, ix, p->in_h, p->in_w, p->depth) + (size_t)c];
                            count++;
                        }
                    int32_t acc = (int32_t)sum;
                    if (count > 0)
                        acc = acc > 0 ? (int32_t)(((int64_t)acc + count / 2) / count)
                                      : (int32_t)(((int64_t)acc - count / 2) / count);
                    o[c] = (int8_t)fp_min_i32(fp_max_i32(acc, p->act_min), p->act_max);
                }
            }
}

void avgpool_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const pool_params *p = params;
    const float *in = exec_tensor(x, p->input);
    float *out = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++)
        for (int32_t oy = 0; oy < p->out_h; oy++)
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                window w = clip_window(p, oy, ox);
                float *o = out + offset(b, oy, ox, p->out_h, p->out_w, p->depth);
                for (int32_t c = 0; c < p->depth; c++) {
                    float total = 0.0f;
                    float count = 0.0f;
                    for (int32_t y = w.y0; y < w.y1; y++)
                        for (int32_t ix = w.x0; ix < w.x1; ix++) {
                            total += in[offset(b, y, ix, p->in_h, p->in_w, p->depth) + (size_t)c];
                            count += 1.0f;
                        }
                    o[c] = clamp_f32(total / count, p->fact_min, p->fact_max);
                }
            }
}

void maxpool_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const pool_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    int8_t *out = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++)
        for (int32_t oy = 0; oy < p->out_h; oy++)
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                window w = clip_window(p, oy, ox);
                int8_t *o = out + offset(b, oy, ox, p->out_h, p->out_w, p->depth);
                for (int32_t c = 0; c < p->depth; c++) {
                    int32_t max = -128;
                    for (int32_t y = w.y0; y < w.y1; y++)
                        for (int32_t ix = w.x0; ix < w.x1; ix++) {
                            int32_t v =
                                in[offset(b, y, ix, p->in_h, p->in_w, p->depth) + (size_t)c];
                            max = v > max ? v : max;
                        }
                    o[c] = (int8_t)fp_min_i32(fp_max_i32(max, p->act_min), p->act_max);
                }
            }
}

void maxpool_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const pool_params *p = params;
    const float *in = exec_tensor(x, p->input);
    float *out = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++)
        for (int32_t oy = 0; oy < p->out_h; oy++)
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                window w = clip_window(p, oy, ox);
                float *o = out + offset(b, oy, ox, p->out_h, p->out_w, p->depth);
                for (int32_t c = 0; c < p->depth; c++) {
                    float max = -FLT_MAX;
                    for (int32_t y = w.y0; y < w.y1; y++)
                        for (int32_t ix = w.x0; ix < w.x1; ix++) {
                            float v = in[offset(b, y, ix, p->in_h, p->in_w, p->depth) + (size_t)c];
                            max = max < v ? v : max; /* std::max(max, v) */
                        }
                    o[c] = clamp_f32(max, p->fact_min, p->fact_max);
                }
            }
}

tmo_err avgpool_s8_setup_ref(tmo_prep *p, pool_params *pp)
{
    (void)pp;
    p->invoke = avgpool_s8_ref;
    return TMO_OK;
}

tmo_err maxpool_s8_setup_ref(tmo_prep *p, pool_params *pp)
{
    (void)pp;
    p->invoke = maxpool_s8_ref;
    return TMO_OK;
}
