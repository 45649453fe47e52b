/*
 * The interpreter with every operator of the build (tmo_ops_all). Kept apart
 * from interp.c so that only firmware calling these links all kernels; a
 * firmware that names its operators calls the _ops variants.
 */
#include "tinymlops/interp.h"
#include "tinymlops/ops.h"

tmo_err tmo_interp_init(tmo_interp *it, const tmo_model *m, void *arena, size_t arena_len,
                        tmo_diag *diag)
{
    return tmo_interp_init_ops(it, m, &tmo_ops_all, arena, arena_len, diag);
}

tmo_err tmo_interp_arena_size(const tmo_model *m, void *work, size_t work_len, size_t *needed,
                              tmo_diag *diag)
{
    return tmo_interp_arena_size_ops(m, &tmo_ops_all, work, work_len, needed, diag);
}

int tmo_interp_supports(int32_t builtin)
{
    return tmo_op_find(&tmo_ops_all, builtin) != NULL;
}
