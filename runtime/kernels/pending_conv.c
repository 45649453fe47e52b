/* TEMPORARY: prepare functions of kernels not written yet; this file is deleted when they land. */
#include "ops.h"

#define PENDING(fn) \
    tmo_err fn(tmo_prep *p) { return prep_fail(p, TMO_EUNSUPPORTED, "operator", "kernel not implemented yet"); }

PENDING(conv_prepare)
PENDING(dwconv_prepare)
