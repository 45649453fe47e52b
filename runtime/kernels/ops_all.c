/*
 * tmo_ops_all: every operator of this build (ops.def). Only what refers to
 * it (tmo_interp_init, tmo_interp_supports) links all kernels; a firmware
 * that passes its own table to tmo_interp_init_ops does not.
 */
#include "tinymlops/model.h"
#include "tinymlops/ops.h"

#define PTR_(name) &tmo_op_##name,
#define PTR(name) PTR_(name)
#define X(code, fn) PTR(TMO_BUILTIN_NAME_##code)
static const tmo_op_reg *const all[] = {
#include "ops.def"
};
#undef X

const tmo_op_table tmo_ops_all = {all, (uint32_t)(sizeof all / sizeof all[0]), tmo_builtin_name};
