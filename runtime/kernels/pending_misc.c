/* TEMPORARY: prepare functions of kernels not written yet; this file is deleted when they land. */
#include "ops.h"

#define PENDING(fn) \
    tmo_err fn(tmo_prep *p) { return prep_fail(p, TMO_EUNSUPPORTED, "operator", "kernel not implemented yet"); }

PENDING(avgpool_prepare)
PENDING(maxpool_prepare)
PENDING(softmax_prepare)
PENDING(reshape_prepare)
PENDING(concat_prepare)
PENDING(mean_prepare)
PENDING(pad_prepare)
