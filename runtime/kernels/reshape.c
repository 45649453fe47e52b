/*
 * RESHAPE, SQUEEZE and EXPAND_DIMS: the data does not change, only the
 * shape, and the shape is the one the output tensor declares (as in TFLite
 * Micro, where the converter sizes every output). Prepare checks that the
 * element counts and types agree and lets the output share the input's
 * memory, so invoke normally has nothing to do.
 */
#include <string.h>

#include "../tflite/options_types.h"
#include "kernel.h"

enum { BUILTIN_RESHAPE = 22, BUILTIN_SQUEEZE = 43, BUILTIN_EXPAND_DIMS = 70 };

typedef struct reshape_params {
    uint16_t input, output;
    size_t bytes;
} reshape_params;

/* Copies only when the planner could not place both tensors at one address. */
static void reshape_invoke(const tmo_exec *x, const void *params, void *scratch)
{
    const reshape_params *p = params;
    const void *src = exec_tensor(x, p->input);
    void *dst = exec_tensor(x, p->output);
    (void)scratch;
    if (src != dst)
        memmove(dst, src, p->bytes);
}

static uint8_t options_type_of(int32_t builtin)
{
    switch (builtin) {
    case BUILTIN_SQUEEZE:
        return OPTIONS_SQUEEZE_OPTIONS;
    case BUILTIN_EXPAND_DIMS:
        return OPTIONS_EXPAND_DIMS_OPTIONS;
    default:
        return OPTIONS_RESHAPE_OPTIONS;
    }
}

tmo_err reshape_prepare(tmo_prep *p)
{
    tmo_tensor_info in, out;
    tmo_err e;
    /* RESHAPE may carry a shape tensor, EXPAND_DIMS an axis tensor: both only restate the output. */
    uint32_t max_in = p->op->builtin == BUILTIN_SQUEEZE ? 1 : 2;
    if ((e = prep_io_count(p, 1, max_in, 1)) != TMO_OK ||
        (e = prep_options(p, options_type_of(p->op->builtin))) != TMO_OK ||
        (e = prep_input(p, 0, &in)) != TMO_OK || (e = prep_output(p, 0, &out)) != TMO_OK)
        return e;
    if (tmo_type_size(in.type) == 0)
        return prep_type(p, &in, "input", TMO_FLOAT32, TMO_INT8);
    if ((e = prep_same_type(p, &in, &out, "output")) != TMO_OK)
        return e;
    if (out.elements != in.elements)
        return prep_fail_value(p, TMO_EBADMODEL, "output.shape",
                               "output element count differs from input", (int64_t)out.elements,
                               (int64_t)in.elements);
    reshape_params *rp = prep_alloc(p, sizeof *rp);
    if (rp == NULL)
        return TMO_ENOSPC;
    rp->input = prep_in_index(p, 0);
    rp->output = prep_out_index(p, 0);
    rp->bytes = in.bytes;
    p->params = rp;
    p->invoke = reshape_invoke;
    p->alias_output = 1;
    return TMO_OK;
}
