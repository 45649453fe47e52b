/*
 * Does a profile belong to this model? A bundle's profile was made from its
 * own model, but a firmware could pair a profile with another model by
 * mistake; histograms over the wrong tensor layout would then be silently
 * meaningless, so the monitor refuses such a pair with a clear error.
 */
#include "../diag.h"
#include "monitor_priv.h"

static tmo_err mismatch(tmo_diag *d, int32_t tensor, const char *field, const char *problem,
                        int64_t got, int64_t want)
{
    diag_set(d, TMO_EINVAL, TMO_AT_TENSOR, tensor, field, problem);
    diag_limit(d, got, want);
    return TMO_EINVAL;
}

/* Type, element count, last dimension and quantization of a tensor against a profile block. */
static tmo_err check_tensor(const tmo_tensor_info *t, int32_t idx, int32_t type, uint32_t elements,
                            uint32_t channels, float scale, int32_t zp, const char *what,
                            tmo_diag *d)
{
    if (t->type != type)
        return mismatch(d, idx, what, "tensor type differs from the profile's", t->type, type);
    if (t->elements != elements)
        return mismatch(d, idx, what, "element count differs from the profile's",
                        (int64_t)t->elements, elements);
    uint32_t last = t->ndim > 0 ? (uint32_t)t->dims[t->ndim - 1] : 1u;
    if (last != channels)
        return mismatch(d, idx, what, "last dimension differs from the profile's channels", last,
                        channels);
    if (type == TMO_INT8 && (t->scale != scale || t->zero_point != zp))
        return mismatch(d, idx, what, "quantization differs from the profile's", t->zero_point, zp);
    return TMO_OK;
}

tmo_err tmo_profile_check(const tmo_profile *p, const tmo_interp *it, tmo_diag *d)
{
    tmo_diag_clear(d);
    if (p == NULL || it == NULL || !it->ready || p->bytes == NULL)
        return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "profile", "NULL or unready argument");
    const tmo_model *m = it->model;
    if (m->input_count < 1 || m->output_count < 1)
        return diag_set(d, TMO_EINVAL, TMO_AT_MODEL, -1, "model",
                        "the model needs an input and an output");
    tmo_tensor_info t;
    int32_t idx = tmo_model_input(m, 0);
    tmo_model_tensor(m, (uint32_t)idx, &t);
    tmo_err e = check_tensor(&t, idx, p->in.type, p->in.elements, p->in.channels, p->in.scale,
                             p->in.zero_point, "profile.input", d);
    if (e != TMO_OK)
        return e;
    idx = tmo_model_output(m, 0);
    tmo_model_tensor(m, (uint32_t)idx, &t);
    if (p->mode == TMO_OUT_VALUES)
        e = check_tensor(&t, idx, p->out.type, p->out.elements, p->out.channels, p->out.scale,
                         p->out.zero_point, "profile.output", d);
    else
        e = check_tensor(&t, idx, p->out_type, p->classes, p->classes, p->out_scale,
                         p->out_zero_point, "profile.classes", d);
    if (e != TMO_OK || p->pen_channels == 0)
        return e;
    if (p->pen_tensor >= m->tensor_count)
        return mismatch(d, -1, "profile.pen", "penultimate tensor index out of range",
                        p->pen_tensor, m->tensor_count);
    idx = (int32_t)p->pen_tensor;
    tmo_model_tensor(m, p->pen_tensor, &t);
    if (t.data != NULL)
        return mismatch(d, idx, "profile.pen", "penultimate tensor is constant", 1, 0);
    if (t.elements == 0 || t.elements > 0x7fffffffu)
        return mismatch(d, idx, "profile.pen", "penultimate tensor is empty or too large",
                        (int64_t)t.elements, 0x7fffffff);
    return check_tensor(&t, idx, p->pen_type, (uint32_t)t.elements, p->pen_channels, p->pen_scale,
                        p->pen_zero_point, "profile.pen", d);
}
