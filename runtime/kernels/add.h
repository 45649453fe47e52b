/*
 * ADD: parameters computed at prepare time and the invoke variants that
 * consume them. int8 follows TFLite Micro's add_common.cc: both inputs are
 * shifted left by 20 bits, scaled to twice the larger input scale, summed,
 * and the sum rescaled to the output.
 */
#ifndef TMO_ADD_H
#define TMO_ADD_H

#include "broadcast.h"
#include "fixedpoint.h"
#include "gemmlowp.h"
#include "kernel.h"

typedef struct add_params {
    uint16_t in1, in2, output;
    bcast_plan plan;
    /* int8 */
    int32_t in1_offset, in2_offset, out_offset; /* -zero_point of inputs, +zero_point of output */
    int32_t in1_multiplier, in2_multiplier, out_multiplier;
    int32_t in1_shift, in2_shift, out_shift; /* all <= 0 (right shifts) */
    int32_t left_shift;
    int32_t act_min, act_max;
    uint8_t use_table; /* optimized variant: per-input tables in scratch */
    uint8_t dsp_fast;  /* Cortex-M DSP variant: the 32-bit form of every rescale is exact */
    /* float32 */
    float fact_min, fact_max;
} add_params;

/* Elements of output from which the table-driven int8 variant pays off. */
#define ADD_TABLE_MIN_COUNT 1024u
#define ADD_TABLE_BYTES (256u * sizeof(int32_t))

void add_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void add_s8_opt(const tmo_exec *x, const void *params, void *scratch);

/* Last step of the int8 prepare: picks the invoke function and its scratch (per kernel set). */
tmo_err add_s8_setup_ref(tmo_prep *p, add_params *a, size_t elements);
tmo_err add_s8_setup_opt(tmo_prep *p, add_params *a, size_t elements);
void add_f32_ref(const tmo_exec *x, const void *params, void *scratch);

/* One input's contribution to the sum: (v + offset) << left_shift, rescaled. */
static inline int32_t add_scale_input(int8_t v, int32_t offset, int32_t left_shift,
                                      int32_t multiplier, int32_t shift)
{
    int32_t shifted = (int32_t)((uint32_t)((int32_t)v + offset) << left_shift);
    return fp_requant(shifted, multiplier, shift);
}

/* The rescaled sum, offset and clamped to the activation range. */
static inline int8_t add_finish(int32_t scaled1, int32_t scaled2, const add_params *p)
{
    int32_t raw = gl_add(fp_requant(gl_add(scaled1, scaled2), p->out_multiplier, p->out_shift),
                         p->out_offset);
    return (int8_t)fp_clamp(raw, p->act_min, p->act_max);
}

#endif
