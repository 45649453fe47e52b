/*
 * MUL: parameters computed at prepare time and the invoke variants that
 * consume them. int8 follows TFLite Micro's mul_common.cc: the product of
 * the offset inputs is rescaled once by in1_scale * in2_scale / out_scale.
 */
#ifndef TMO_MUL_H
#define TMO_MUL_H

#include "broadcast.h"
#include "kernel.h"

typedef struct mul_params {
    uint16_t in1, in2, output;
    bcast_plan plan;
    /* int8 */
    int32_t in1_offset, in2_offset, out_offset; /* -zero_point of inputs, +zero_point of output */
    int32_t multiplier, shift;
    int32_t act_min, act_max;
    /* float32 */
    float fact_min, fact_max;
} mul_params;

void mul_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void mul_f32_ref(const tmo_exec *x, const void *params, void *scratch);

#endif
