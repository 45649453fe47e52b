/*
 * Prepare-time helpers shared by all kernels: tensor lookup, type checks,
 * option reads and error reporting that names the operator.
 */
#include <string.h>

#include "../diag.h"
#include "kernel.h"

void *prep_alloc(tmo_prep *p, size_t bytes)
{
    size_t at = (p->used + 7u) & ~(size_t)7u;
    if (at > p->cap || bytes > p->cap - at) {
        prep_fail(p, TMO_ENOSPC, "arena", "arena too small for operator parameters");
        return NULL;
    }
    p->used = at + bytes;
    memset(p->mem + at, 0, bytes);
    return p->mem + at;
}

tmo_err(prep_fail)(tmo_prep *p, tmo_err err, const char *field, const char *problem)
{
    diag_set(p->diag, err, TMO_AT_OPERATOR, (int32_t)p->op_index, field, problem);
    if (p->diag != NULL)
        p->diag->op_name = p->op_name;
    return err;
}

tmo_err(prep_fail_value)(tmo_prep *p, tmo_err err, const char *field, const char *problem,
                        int64_t value, int64_t limit)
{
    prep_fail(p, err, field, problem);
    if (limit >= 0)
        diag_limit(p->diag, value, limit);
    else
        diag_value(p->diag, value);
    return err;
}

static tmo_err slot(tmo_prep *p, int32_t idx, tmo_tensor_info *t)
{
    if (tmo_model_tensor(p->m, (uint32_t)idx, t) != TMO_OK)
        return prep_fail(p, TMO_EBADMODEL, "operator", "tensor unreadable");
    return TMO_OK;
}

tmo_err prep_input_opt(tmo_prep *p, uint32_t i, tmo_tensor_info *t, int *present)
{
    *present = 0;
    if (i >= p->op->input_count || p->op->inputs[i] < 0)
        return TMO_OK;
    *present = 1;
    return slot(p, p->op->inputs[i], t);
}

tmo_err prep_input(tmo_prep *p, uint32_t i, tmo_tensor_info *t)
{
    int present;
    tmo_err e = prep_input_opt(p, i, t, &present);
    if (e == TMO_OK && !present)
        return prep_fail_value(p, TMO_EBADMODEL, "operator.inputs", "required input is missing", i,
                               -1);
    return e;
}

tmo_err prep_output(tmo_prep *p, uint32_t i, tmo_tensor_info *t)
{
    if (i >= p->op->output_count)
        return prep_fail_value(p, TMO_EBADMODEL, "operator.outputs", "required output is missing",
                               i, -1);
    return slot(p, p->op->outputs[i], t);
}

tmo_err prep_io_count(tmo_prep *p, uint32_t min_in, uint32_t max_in, uint32_t n_out)
{
    if (p->op->input_count < min_in || p->op->input_count > max_in)
        return prep_fail_value(p, TMO_EBADMODEL, "operator.inputs", "wrong number of inputs",
                               p->op->input_count, max_in);
    if (p->op->output_count != n_out)
        return prep_fail_value(p, TMO_EBADMODEL, "operator.outputs", "wrong number of outputs",
                               p->op->output_count, n_out);
    return TMO_OK;
}

tmo_err prep_type(tmo_prep *p, const tmo_tensor_info *t, const char *which, int32_t a, int32_t b)
{
    if (t->type == a || t->type == b)
        return TMO_OK;
    prep_fail(p, TMO_EUNSUPPORTED, which, "tensor type not supported by this operator");
    if (p->diag != NULL) {
        p->diag->name = tmo_type_name(t->type);
        p->diag->name_len = (uint32_t)tmo_strnlen(p->diag->name, TMO_DIAG_STR_MAX);
    }
    return TMO_EUNSUPPORTED;
}

tmo_err prep_same_type(tmo_prep *p, const tmo_tensor_info *a, const tmo_tensor_info *b,
                       const char *which)
{
    if (a->type != b->type)
        return prep_fail_value(p, TMO_EBADMODEL, which, "tensor types differ", b->type, a->type);
    return TMO_OK;
}

tmo_err prep_quantized(tmo_prep *p, const tmo_tensor_info *t, const char *which)
{
    if (t->scale_count == 0 || !(t->scale > 0.0f))
        return prep_fail(p, TMO_EBADMODEL, which, "quantized tensor lacks a positive scale");
    return TMO_OK;
}

#define PREP_OPT(fn, type, getter)                                                     \
    tmo_err fn(tmo_prep *p, unsigned field, type dflt, type *out)                      \
    {                                                                                  \
        if (getter(p->m, p->op, field, dflt, out) != TMO_OK)                           \
            return prep_fail(p, TMO_EBADMODEL, "operator.builtin_options",             \
                             "option field out of bounds");                            \
        return TMO_OK;                                                                 \
    }

PREP_OPT(prep_opt_i32, int32_t, tmo_opt_i32)
PREP_OPT(prep_opt_u8, uint8_t, tmo_opt_u8)
PREP_OPT(prep_opt_f32, float, tmo_opt_f32)

tmo_err prep_options(tmo_prep *p, uint8_t expected)
{
    if (p->op->options_type != 0 && p->op->options_type != expected)
        return prep_fail_value(p, TMO_EBADMODEL, "operator.builtin_options_type",
                               "options table of the wrong type for this operator",
                               p->op->options_type, expected);
    return TMO_OK;
}

tmo_err prep_no_float(tmo_prep *p)
{
    return prep_fail(p, TMO_EUNSUPPORTED, "input",
                     "float32 kernels are not in this build (TMO_FLOAT_KERNELS=0)");
}
