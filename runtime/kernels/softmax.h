/*
 * SOFTMAX: parameters computed at prepare time and the invoke functions that
 * consume them. The softmax runs along the last dimension.
 */
#ifndef TMO_SOFTMAX_H
#define TMO_SOFTMAX_H

#include "kernel.h"

typedef struct softmax_params {
    uint16_t input, output; /* tensor indices */
    int32_t rows;           /* product of all but the last dimension */
    int32_t depth;          /* last dimension */
    /* int8 only (TFLM's gemmlowp path with 5 integer bits for the scaled difference) */
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min; /* differences below this give exp() = 0 */
    /* float only */
    float beta;
} softmax_params;

void softmax_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void softmax_f32_ref(const tmo_exec *x, const void *params, void *scratch);

#endif
