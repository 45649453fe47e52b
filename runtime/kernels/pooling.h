/*
 * AVERAGE_POOL_2D and MAX_POOL_2D: parameters computed at prepare time and
 * the invoke functions that consume them. Tensors are NHWC.
 */
#ifndef TMO_POOLING_H
#define TMO_POOLING_H

#include "kernel.h"

typedef struct pool_params {
    uint16_t input, output; /* tensor indices */
    int32_t batches, depth;
    int32_t in_h, in_w, out_h, out_w;
    int32_t stride_h, stride_w;
    int32_t filter_h, filter_w;
    int32_t pad_h, pad_w; /* rows/columns of implicit padding before the input */
    /* int8 only: fused activation range in output units */
    int32_t act_min, act_max;
    /* float only */
    float fact_min, fact_max;
} pool_params;

/*
 * Last step of the int8 prepare: picks the invoke function of the kernel
 * set. One function per operator, so a firmware that links only one of the
 * two operators links only its kernels.
 */
typedef tmo_err (*pool_setup_fn)(tmo_prep *p, pool_params *pp);
tmo_err avgpool_s8_setup_ref(tmo_prep *p, pool_params *pp);
tmo_err avgpool_s8_setup_opt(tmo_prep *p, pool_params *pp);
tmo_err maxpool_s8_setup_ref(tmo_prep *p, pool_params *pp);
tmo_err maxpool_s8_setup_opt(tmo_prep *p, pool_params *pp);

void avgpool_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void avgpool_f32_ref(const tmo_exec *x, const void *params, void *scratch);
void maxpool_s8_ref(const tmo_exec *x, const void *params, void *scratch);
void maxpool_f32_ref(const tmo_exec *x, const void *params, void *scratch);

#endif
