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
    uint8_t dsp_fast; /* Cortex-M DSP variant: the 32-bit rescale is exact */
    /* float32 */
    float fact_min, fact_max;
} mul_params;

/* Last step of the int8 prepare: picks the invoke function of the kernel set. */
tmo_err mul_s8_setup_ref(tmo_prep *p, mul_params *m);
tmo_err mul_s8_setup_opt(tmo_prep *p, mul_params *m);

void mul_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void mul_f32_ref(const tmo_exec *x, const void *params, void *scratch);

#endif
