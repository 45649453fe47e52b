/*
 * Dot products shared by the optimized int8 and float kernels.
 *
 * Written as fixed-width lane loops: a compiler with vector units turns each
 * lane loop into a few SIMD instructions, and a scalar core runs them as an
 * unrolled loop. TMO_DOT_LANES sets the width (16 suits 128-bit vectors;
 * 32-bit MCUs without SIMD may prefer 4). Integer sums are exact in any
 * order, so results are bit-identical to the reference kernels.
 */
#ifndef TMO_DOT_H
#define TMO_DOT_H

#include <stdint.h>

#ifndef TMO_DOT_LANES
#define TMO_DOT_LANES 16
#endif

/*
 * sum(x[i] * w[i]) and sum(w[i]) over n int8 pairs. Exact while
 * n * 128 * 128 < 2^31, i.e. n <= 131071 (callers check at prepare).
 */
static inline void dot_s8_with_wsum(const int8_t *x, const int8_t *w, int32_t n, int32_t *sum_xw,
                                    int32_t *sum_w)
{
    int32_t i = 0;
    if (n < TMO_DOT_LANES) {
        /* Short rows: lane set-up and reduction would cost more than the products. */
        int32_t xw = 0, ws = 0;
        for (; i < n; i++) {
            xw += x[i] * w[i];
            ws += w[i];
        }
        *sum_xw = xw;
        *sum_w = ws;
        return;
    }
    int32_t lane_xw[TMO_DOT_LANES] = {0}, lane_w[TMO_DOT_LANES] = {0};
    for (; i + TMO_DOT_LANES <= n; i += TMO_DOT_LANES) {
        for (int k = 0; k < TMO_DOT_LANES; k++) {
            lane_xw[k] += x[i + k] * w[i + k];
            lane_w[k] += w[i + k];
        }
    }
    int32_t xw = 0, ws = 0;
    for (int k = 0; k < TMO_DOT_LANES; k++) {
        xw += lane_xw[k];
        ws += lane_w[k];
    }
    for (; i < n; i++) {
        xw += x[i] * w[i];
        ws += w[i];
    }
    *sum_xw = xw;
    *sum_w = ws;
}

/* sum(x[i]) over n int8 values. */
static inline int32_t sum_s8(const int8_t *x, int32_t n)
{
    int32_t lane[TMO_DOT_LANES] = {0};
    int32_t i = 0;
    for (; i + TMO_DOT_LANES <= n; i += TMO_DOT_LANES)
        for (int k = 0; k < TMO_DOT_LANES; k++)
            lane[k] += x[i + k];
    int32_t s = 0;
    for (int k = 0; k < TMO_DOT_LANES; k++)
        s += lane[k];
    for (; i < n; i++)
        s += x[i];
    return s;
}

#endif
