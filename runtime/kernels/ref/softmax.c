/*
 * SOFTMAX reference kernels, the loops of TFLite Micro's reference_ops::Softmax.
 *
 * int8: exp() of beta * (input - row max) in gemmlowp fixed point (input
 * Q5.26, output Q0.31; see gemmlowp.h), summed in Q12.19, then each exp
 * times the Q0.31 reciprocal of the sum (TFLM GetReciprocal), shifted down
 * to 8 bits. TFLM aborts (TFLITE_CHECK) when that final shift exceeds 31,
 * which only rows of 512 or more near-equal values reach (sum of exps >=
 * 256); the rounded quotient is then 0 for every element, and that is what
 * is used here, so invoke never fails. The shift is never negative.
 *
 * float: exp((x - max) * beta) with expf in float, summed in order, divided.
 */
#include <float.h>
#include <math.h>

#include "../fixedpoint.h"
#include "../gemmlowp.h"
#include "../softmax.h"

enum { SCALED_DIFF_INTEGER_BITS = 5, ACCUM_INTEGER_BITS = 12 };

/* exp(beta * scale * diff) in Q0.31 for a difference that passed diff_min. */
static int32_t scaled_exp(const softmax_params *p, int32_t diff)
{
    int32_t shifted = (int32_t)((uint32_t)diff << p->input_left_shift);
    return gl_exp_on_negative_values(fp_mul_high(shifted, p->input_multiplier),
                                     SCALED_DIFF_INTEGER_BITS);
}

static int leading_zeros(uint32_t x)
{
    int n = 0;
    if (x == 0)
        return 32;
    for (; !(x & 0x80000000u); x <<= 1)
        n++;
    return n;
}

/*
 * TFLM GetReciprocal: 1 / sum for a positive Q12.19 sum, as the Q0.31
 * reciprocal of sum normalized into [1, 2), and in *bits_over_unit how many
 * powers of two that normalization took out.
 */
static int32_t reciprocal_of_sum(int32_t sum, int *bits_over_unit)
{
    int headroom_plus_one = leading_zeros((uint32_t)sum);
    *bits_over_unit = ACCUM_INTEGER_BITS - headroom_plus_one;
    uint32_t normalized = headroom_plus_one < 32 ? (uint32_t)sum << headroom_plus_one : 0u;
    return gl_one_over_one_plus_x((int32_t)(normalized - 0x80000000u));
}

static void softmax_row_s8(const softmax_params *p, const int8_t *in, int8_t *out)
{
    int32_t max = -128;
    for (int32_t c = 0; c < p->depth; c++)
        max = in[c] > max ? in[c] : max;

    int32_t sum = 0; /* Q12.19 */
    for (int32_t c = 0; c < p->depth; c++) {
        int32_t diff = in[c] - max;
        if (diff >= p->diff_min)
            sum = gl_add(sum, gl_rescale(scaled_exp(p, diff), 0, ACCUM_INTEGER_BITS));
    }

    int bits_over_unit;
    int32_t reciprocal = reciprocal_of_sum(sum, &bits_over_unit);
    int exponent = bits_over_unit + 31 - 8; /* >= 3: bits_over_unit >= 12 - 32 */

    for (int32_t c = 0; c < p->depth; c++) {
        int32_t diff = in[c] - max;
        if (diff >= p->diff_min) {
            /* The product is a non-negative int32, so a shift past 31 rounds it to 0. */
            int32_t product = fp_mul_high(reciprocal, scaled_exp(p, diff));
            int32_t unsat = exponent > 31 ? 0 : fp_rshift_round(product, exponent);
            out[c] = (int8_t)fp_clamp(gl_add(unsat, -128), -128, 127);
        } else {
            out[c] = -128;
        }
    }
}

void softmax_s8_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const softmax_params *p = params;
    const int8_t *in = exec_tensor(x, p->input);
    int8_t *out = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t r = 0; r < p->rows; r++)
        softmax_row_s8(p, in + (size_t)r * (size_t)p->depth, out + (size_t)r * (size_t)p->depth);
}

void softmax_f32_ref(const tmo_exec *x, const void *params, void *scratch)
{
    const softmax_params *p = params;
    const float *in_all = exec_tensor(x, p->input);
    float *out_all = exec_tensor(x, p->output);
    (void)scratch;
    for (int32_t r = 0; r < p->rows; r++) {
        const float *in = in_all + (size_t)r * (size_t)p->depth;
        float *out = out_all + (size_t)r * (size_t)p->depth;
        float max = -FLT_MAX;
        for (int32_t c = 0; c < p->depth; c++)
            max = max < in[c] ? in[c] : max; /* std::max keeps the first on NaN */
        float sum = 0.0f;
        for (int32_t c = 0; c < p->depth; c++) {
            float e = expf((in[c] - max) * p->beta);
            out[c] = e;
            sum += e;
        }
        for (int32_t c = 0; c < p->depth; c++)
            out[c] = out[c] / sum;
    }
}
