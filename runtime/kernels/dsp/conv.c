/*
 * CONV_2D int8 for Cortex-M cores with the DSP extension: the dsp/ engine
 * (conv_core.c) for ungrouped convolutions, the reference loop otherwise.
 */
#include "../conv.h"
#include "conv_core.h"

enum { PATH_REF = 0, PATH_ENGINE = 1 };

void conv_s8_opt(const tmo_exec *x, const void *params, void *scratch)
{
    const conv_params *p = params;
    dsp_conv_args a;
    a.in = exec_tensor(x, p->input);
    a.filter = exec_tensor(x, p->filter);
    a.bias = p->bias != CONV_NO_TENSOR ? exec_tensor(x, p->bias) : NULL;
    a.out = exec_tensor(x, p->output);
    a.scratch = scratch;
    dsp_conv_run(p, &a);
}

/* Constant data of tensor t, or NULL. */
static const void *constant(tmo_prep *p, uint16_t t)
{
    tmo_tensor_info info;
    if (t == CONV_NO_TENSOR || tmo_model_tensor(p->m, t, &info) != TMO_OK)
        return NULL;
    return info.data;
}

tmo_err conv_s8_setup_opt(tmo_prep *p, conv_params *cp)
{
    /*
     * The engine gathers windows padded with the input zero point (it must be
     * an int8 value) and reads the input in words where the depth allows:
     * activations start on a word, a constant input must be checked.
     */
    const void *in = constant(p, cp->input);
    if (cp->groups != 1 || cp->input_offset > 128 || cp->input_offset < -127 ||
        ((uintptr_t)in & 3u) != 0) {
        cp->dsp_path = PATH_REF;
        return conv_s8_setup_ref(p, cp);
    }
    const int32_t *bias = constant(p, cp->bias);
    dsp_conv_plan(cp, constant(p, cp->filter), bias, cp->bias == CONV_NO_TENSOR || bias != NULL);
    if (!dsp_conv_supported(cp)) {
        cp->dsp_path = PATH_REF;
        return conv_s8_setup_ref(p, cp);
    }
    uint64_t bytes = dsp_conv_scratch_bytes(cp);
    if (bytes > 0x3fffffffu)
        return prep_fail(p, TMO_EUNSUPPORTED, "filter", "filter too large for the scratch buffer");
    cp->dsp_path = PATH_ENGINE;
    p->scratch_bytes = (uint32_t)bytes;
    p->invoke = conv_s8_opt;
    return TMO_OK;
}
