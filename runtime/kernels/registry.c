/*
 * Kernel table of this build, generated from ops.def. Lookup is a linear
 * scan: it runs once per operator at load time, never at invoke.
 */
#include "ops.h"

static const tmo_kernel kernels[] = {
#define X(code, fn) {code, fn},
#include "ops.def"
#undef X
};

const tmo_kernel *tmo_kernel_find(int32_t builtin)
{
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        if (kernels[i].builtin == builtin)
            return &kernels[i];
    return NULL;
}
