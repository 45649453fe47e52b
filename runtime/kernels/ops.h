/*
 * Prepare entry points of all kernels, generated from ops.def.
 */
#ifndef TMO_OPS_H
#define TMO_OPS_H

#include "kernel.h"

#define X(code, fn) tmo_err fn(tmo_prep *p);
#include "ops.def"
#undef X

#endif
