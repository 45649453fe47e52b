/*
 * N-d broadcasting for the binary elementwise operators (ADD, MUL).
 *
 * Prepare turns the three shapes into a plan: dimensions of extent 1 are
 * dropped and neighbouring dimensions that walk memory the same way are
 * fused, so the common cases become one flat loop (same shapes), a row
 * repeated over a tensor (bias-like [C] vs [N,H,W,C]) or a scalar applied to
 * every element. Invoke then walks the output in contiguous rows; each row
 * reads each input either element by element (step 1) or one repeated
 * element (step 0). The order in which output elements are produced does not
 * matter for these operators: every output element is a pure function of
 * one element of each input, as in TFLite Micro's BroadcastBinaryOpSimple.
 */
#ifndef TMO_BROADCAST_H
#define TMO_BROADCAST_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

typedef struct bcast_plan {
    uint32_t rows;                 /* contiguous output rows (0 for an empty output) */
    int32_t inner;                 /* elements per row */
    uint8_t inner_a, inner_b;      /* per-element step of each input along a row: 0 or 1 */
    uint8_t outer_dims;            /* loops around the rows, innermost first */
    int32_t extent[TMO_MAX_DIMS];  /* iterations of each outer loop */
    uint32_t step_a[TMO_MAX_DIMS]; /* element step of input a per iteration (0 = repeat) */
    uint32_t step_b[TMO_MAX_DIMS];
} bcast_plan;

/*
 * Builds the plan for out = f(a, b), or fails (EBADMODEL, naming the
 * problem) unless the shapes broadcast to the output shape the TFLite way:
 * shapes aligned on their last dimension, every input dimension equal to the
 * output's or 1. Inputs of identical (1-padded) shapes are accepted against
 * any output with the same element count, as TFLM's non-broadcast path does.
 */
tmo_err bcast_plan_make(tmo_prep *p, const tmo_tensor_info *a, const tmo_tensor_info *b,
                        const tmo_tensor_info *out, bcast_plan *plan);

/* The operands of a binary elementwise operator as its prepare sees them. */
typedef struct bcast_operands {
    tmo_tensor_info in1, in2, out;
    int32_t activation; /* fused ActivationFunctionType from the options */
} bcast_operands;

/*
 * Prepare steps shared by ADD and MUL: two inputs and one output, all int8
 * (per-tensor quantized) or all float32 (anything else EUNSUPPORTED, mixed
 * types EBADMODEL), the options table of `options_type` with the fused
 * activation in field 0, and the broadcast plan.
 */
tmo_err bcast_prepare_binary(tmo_prep *p, uint8_t options_type, bcast_operands *ops,
                             bcast_plan *plan);

/* Position of the current row while walking a plan. */
typedef struct bcast_iter {
    int32_t idx[TMO_MAX_DIMS];
    size_t a, b; /* element offset of the row's first element in each input */
} bcast_iter;

static inline void bcast_begin(bcast_iter *it)
{
    for (int d = 0; d < TMO_MAX_DIMS; d++)
        it->idx[d] = 0;
    it->a = 0;
    it->b = 0;
}

/* Advances to the next row (call once per row, after processing it). */
static inline void bcast_next(const bcast_plan *p, bcast_iter *it)
{
    for (int d = 0; d < p->outer_dims; d++) {
        it->a += p->step_a[d];
        it->b += p->step_b[d];
        if (++it->idx[d] < p->extent[d])
            return;
        it->idx[d] = 0;
        it->a -= (size_t)p->step_a[d] * (size_t)p->extent[d];
        it->b -= (size_t)p->step_b[d] * (size_t)p->extent[d];
    }
}

#endif
