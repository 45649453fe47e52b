/*
 * FULLY_CONNECTED: parameters computed at prepare time and the invoke
 * variants that consume them.
 */
#ifndef TMO_FULLY_CONNECTED_H
#define TMO_FULLY_CONNECTED_H

#include "kernel.h"

typedef struct fc_params {
    uint16_t input, weights, bias, output; /* tensor indices; bias = NO_TENSOR when absent */
    int32_t batches;     /* rows of the input */
    int32_t depth;       /* accumulation depth (weights columns) */
    int32_t units;       /* output units (weights rows) */
    /* int8 only */
    int32_t input_offset, weights_offset, output_offset;
    int32_t act_min, act_max;
    const int32_t *multiplier; /* per unit, or one value when quant_stride is 0 */
    const int8_t *shift;
    int32_t quant_stride;      /* 1 for per-channel weights, 0 for per-tensor */
    /* float only */
    float fact_min, fact_max;
    /* Cortex-M DSP kernel only (dsp/fully_connected.c, set by its setup). */
    uint8_t dsp_path;    /* which dsp/ loop runs (0: the reference loop) */
    uint8_t dsp_fast_rq; /* the 32-bit output stage is exact for every unit */
} fc_params;

#define NO_TENSOR 0xffffu

void fc_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void fc_s8_opt(const tmo_exec *x, const void *params, void *scratch);
void fc_f32_ref(const tmo_exec *x, const void *params, void *scratch);
void fc_f32_opt(const tmo_exec *x, const void *params, void *scratch);

/* Last step of the int8 prepare: picks the invoke function (KERNEL_PICK chooses the variant). */
tmo_err fc_s8_setup_ref(tmo_prep *p, fc_params *fc);
tmo_err fc_s8_setup_opt(tmo_prep *p, fc_params *fc);

#endif
