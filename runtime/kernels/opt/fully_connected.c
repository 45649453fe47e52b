/*
 * FULLY_CONNECTED optimized variants (placeholder: the reference loops until
 * the optimized kernels land; same signature, same results).
 */
#include "../fully_connected.h"

void fc_s8_opt(const tmo_exec *x, const void *params, void *scratch)
{
    fc_s8_ref(x, params, scratch);
}

void fc_f32_opt(const tmo_exec *x, const void *params, void *scratch)
{
    fc_f32_ref(x, params, scratch);
}
