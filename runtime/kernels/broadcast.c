/*
 * Prepare-time half of broadcasting (see broadcast.h): validating the three
 * shapes and compressing them into as few loops as possible, plus the
 * prepare steps every binary elementwise operator shares.
 */
#include "broadcast.h"

#include <string.h>

#include "elementwise.h"

/* Right-aligns t's shape into n dimensions, padding the front with 1s. */
static void extend(const tmo_tensor_info *t, uint32_t n, int32_t *dims)
{
    uint32_t pad = n - t->ndim;
    for (uint32_t i = 0; i < n; i++)
        dims[i] = i < pad ? 1 : t->dims[i - pad];
}

static void flat_plan(bcast_plan *plan, size_t elements)
{
    memset(plan, 0, sizeof *plan);
    plan->rows = elements > 0 ? 1 : 0;
    plan->inner = (int32_t)elements;
    plan->inner_a = 1;
    plan->inner_b = 1;
}

/* One loop of the nest before it is split into row and outer loops. */
typedef struct {
    int32_t n;
    uint32_t sa, sb;
} loop;

tmo_err bcast_plan_make(tmo_prep *p, const tmo_tensor_info *a, const tmo_tensor_info *b,
                        const tmo_tensor_info *out, bcast_plan *plan)
{
    uint32_t n = out->ndim;
    if (a->ndim > n)
        n = a->ndim;
    if (b->ndim > n)
        n = b->ndim;
    int32_t ea[TMO_MAX_DIMS], eb[TMO_MAX_DIMS], eo[TMO_MAX_DIMS];
    extend(a, n, ea);
    extend(b, n, eb);
    extend(out, n, eo);
    if (out->elements > (size_t)INT32_MAX)
        return prep_fail_value(p, TMO_EUNSUPPORTED, "output", "output has too many elements",
                               (int64_t)out->elements, INT32_MAX);

    int same = 1;
    for (uint32_t i = 0; i < n; i++)
        same &= ea[i] == eb[i];
    if (same && a->elements == out->elements) {
        flat_plan(plan, out->elements);
        return TMO_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        if ((ea[i] != eo[i] && ea[i] != 1) || (eb[i] != eo[i] && eb[i] != 1))
            return prep_fail_value(p, TMO_EBADMODEL, "output.shape",
                                   "input shapes do not broadcast to the output shape", eo[i], -1);
    }
    memset(plan, 0, sizeof *plan);
    if (out->elements == 0)
        return TMO_OK;

    /* Build loops innermost first; a dimension fuses into the loop inside it
     * when both inputs keep walking memory at the same pace across the seam
     * (a step of 0 fuses with 0: the repeated element stays the same). */
    loop loops[TMO_MAX_DIMS];
    uint32_t count = 0;
    uint32_t acc_a = 1, acc_b = 1;
    for (uint32_t k = n; k-- > 0;) {
        if (eo[k] != 1) {
            uint32_t sa = ea[k] == 1 ? 0 : acc_a;
            uint32_t sb = eb[k] == 1 ? 0 : acc_b;
            loop *in = count > 0 ? &loops[count - 1] : NULL;
            if (in != NULL && sa == in->sa * (uint32_t)in->n && sb == in->sb * (uint32_t)in->n) {
                in->n *= eo[k];
            } else {
                loops[count].n = eo[k];
                loops[count].sa = sa;
                loops[count].sb = sb;
                count++;
            }
        }
        acc_a *= (uint32_t)ea[k];
        acc_b *= (uint32_t)eb[k];
    }
    if (count == 0) { /* every extent is 1: a single element */
        flat_plan(plan, 1);
        return TMO_OK;
    }
    /* The innermost loop has step 0 or 1: every dimension inside it has extent 1. */
    plan->inner = loops[0].n;
    plan->inner_a = (uint8_t)loops[0].sa;
    plan->inner_b = (uint8_t)loops[0].sb;
    plan->rows = 1;
    for (uint32_t i = 1; i < count; i++) {
        plan->extent[i - 1] = loops[i].n;
        plan->step_a[i - 1] = loops[i].sa;
        plan->step_b[i - 1] = loops[i].sb;
        plan->rows *= (uint32_t)loops[i].n;
    }
    plan->outer_dims = (uint8_t)(count - 1);
    return TMO_OK;
}

tmo_err bcast_prepare_binary(tmo_prep *p, uint8_t options_type, bcast_operands *ops,
                             bcast_plan *plan)
{
    tmo_err e;
    uint8_t act;
    if ((e = prep_io_count(p, 2, 2, 1)) != TMO_OK ||
        (e = prep_options(p, options_type)) != TMO_OK ||
        (e = prep_input(p, 0, &ops->in1)) != TMO_OK ||
        (e = prep_input(p, 1, &ops->in2)) != TMO_OK ||
        (e = prep_output(p, 0, &ops->out)) != TMO_OK || (e = prep_opt_u8(p, 0, 0, &act)) != TMO_OK)
        return e;
    ops->activation = (int8_t)act;
    if ((e = prep_type(p, &ops->in1, "input1", TMO_INT8, TMO_FLOAT32)) != TMO_OK ||
        (e = prep_same_type(p, &ops->in1, &ops->in2, "input2")) != TMO_OK ||
        (e = prep_same_type(p, &ops->in1, &ops->out, "output")) != TMO_OK)
        return e;
    if (ops->in1.type == TMO_INT8 && ((e = ew_quantized_s8(p, &ops->in1, "input1")) != TMO_OK ||
                                      (e = ew_quantized_s8(p, &ops->in2, "input2")) != TMO_OK ||
                                      (e = ew_quantized_s8(p, &ops->out, "output")) != TMO_OK))
        return e;
    return bcast_plan_make(p, &ops->in1, &ops->in2, &ops->out, plan);
}
