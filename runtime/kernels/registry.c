/*
 * Kernel registrations of this build, generated from ops.def: one constant
 * tmo_op_<NAME> per operator (tinymlops/ops.h), each in its own section under
 * -fdata-sections, so a firmware that names its operators links only theirs.
 * Lookup is a linear scan: it runs once per operator at load time, never at
 * invoke.
 */
#include "tinymlops/ops.h"

#include "ops.h"

/* X(3, conv_prepare) -> const tmo_op_reg tmo_op_CONV_2D = {3, "CONV_2D", conv_prepare}; */
#define REG_(name, code, fn) const tmo_op_reg tmo_op_##name = {code, #name, fn};
#define REG(name, code, fn) REG_(name, code, fn)
#define X(code, fn) REG(TMO_BUILTIN_NAME_##code, code, fn)
#include "ops.def"
#undef X

const tmo_op_reg *tmo_op_find(const tmo_op_table *t, int32_t builtin)
{
    for (uint32_t i = 0; i < t->count; i++)
        if (t->ops[i] != NULL && t->ops[i]->builtin == builtin)
            return t->ops[i];
    return NULL;
}
