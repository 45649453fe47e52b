/* TEMPORARY: prepare functions of kernels not written yet; this file is deleted when they land. */
#include "ops.h"

#define PENDING(fn) \
    tmo_err fn(tmo_prep *p) { return prep_fail(p, TMO_EUNSUPPORTED, "operator", "kernel not implemented yet"); }

PENDING(add_prepare)
PENDING(mul_prepare)
PENDING(quantize_prepare)
PENDING(dequantize_prepare)
PENDING(logistic_prepare)
PENDING(tanh_prepare)
PENDING(relu_prepare)
PENDING(relu6_prepare)
