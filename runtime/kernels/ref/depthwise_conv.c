/*
 * DEPTHWISE_CONV_2D reference kernels: the loops of TFLite Micro's
 * reference implementation (reference/depthwiseconv_float.h,
 * reference/integer_ops/depthwise_conv.h), the bit-exact oracle for the
 * optimized variants. int8 accumulation wraps in uint32 (see ref/conv.c).
 */
#include "../depthwise_conv.h"
#include "../fixedpoint.h"
#include "../quant.h"

static inline int32_t nhwc(int32_t h, int32_t w, int32_t c, int32_t b, int32_t y, int32_t x,
                           int32_t ch)
{
    return ((b * h + y) * w + x) * c + ch;
}

void dwconv_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const conv_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    const int8_t *filter = exec_tensor(x, p->filter);
    const int32_t *bias = p->bias != CONV_NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    int8_t *out = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++) {
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                for (int32_t ic = 0; ic < p->in_c; ic++) {
                    for (int32_t m = 0; m < p->depth_mult; m++) {
                        const int32_t oc = m + ic * p->depth_mult;
                        const int32_t x0 = ox * p->stride_w - p->pad_w;
                        const int32_t y0 = oy * p->stride_h - p->pad_h;
                        uint32_t acc = 0;
                        for (int32_t ky = 0; ky < p->k_h; ky++) {
                            for (int32_t kx = 0; kx < p->k_w; kx++) {
                                const int32_t ix = x0 + p->dil_w * kx;
                                const int32_t iy = y0 + p->dil_h * ky;
                                if (ix < 0 || ix >= p->in_w || iy < 0 || iy >= p->in_h)
                                    continue;
                                int32_t iv = in[nhwc(p->in_h, p->in_w, p->in_c, b, iy, ix, ic)];
                                int32_t fv = filter[nhwc(p->k_h, p->k_w, p->out_c, 0, ky, kx, oc)];
                                acc += (uint32_t)fv * ((uint32_t)iv + (uint32_t)p->input_offset);
                            }
                        }
                        if (bias != NULL)
                            acc += (uint32_t)bias[oc];
                        int32_t v = fp_requant((int32_t)acc, p->multiplier[oc], p->shift[oc]) +
                                    p->output_offset;
                        out[nhwc(p->out_h, p->out_w, p->out_c, b, oy, ox, oc)] =
                            (int8_t)fp_clamp(v, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

void dwconv_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const conv_params *p = params;
    const float *in = exec_tensor(x, p->input);
    const float *filter = exec_tensor(x, p->filter);
    const float *bias = p->bias != CONV_NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    float *out = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t b = 0; b < p->batches; b++) {
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                for (int32_t ic = 0; ic < p->in_c; ic++) {
                    for (int32_t m = 0; m < p->depth_mult; m++) {
                        const int32_t oc = m + ic * p->depth_mult;
                        const int32_t x0 = ox * p->stride_w - p->pad_w;
                        const int32_t y0 = oy * p->stride_h - p->pad_h;
                        float total = 0.0f;
                        for (int32_t ky = 0; ky < p->k_h; ky++) {
                            for (int32_t kx = 0; kx < p->k_w; kx++) {
                                const int32_t ix = x0 + p->dil_w * kx;
                                const int32_t iy = y0 + p->dil_h * ky;
                                if (ix < 0 || ix >= p->in_w || iy < 0 || iy >= p->in_h)
                                    continue;
                                float iv = in[nhwc(p->in_h, p->in_w, p->in_c, b, iy, ix, ic)];
                                float fv = filter[nhwc(p->k_h, p->k_w, p->out_c, 0, ky, kx, oc)];
                                total += iv * fv;
                            }
                        }
                        float bv = bias != NULL ? bias[oc] : 0.0f;
                        out[nhwc(p->out_h, p->out_w, p->out_c, b, oy, ox, oc)] =
                            clamp_f32(total + bv, p->fact_min, p->fact_max);
                    }
                }
            }
        }
    }
}

tmo_err dwconv_s8_setup_ref(tmo_prep *p, conv_params *cp)
{
    (void)cp;
    p->invoke = dwconv_s8_ref;
    return TMO_OK;
}

tmo_err dwconv_f32_setup_ref(tmo_prep *p, conv_params *cp)
{
    (void)cp;
    p->invoke = dwconv_f32_ref;
    return TMO_OK;
}
