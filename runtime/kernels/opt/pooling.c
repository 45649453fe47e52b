/*
 * AVERAGE_POOL_2D and MAX_POOL_2D in the portable optimized kernel set: the
 * reference loops, which a host compiler already vectorizes well enough for
 * operators this small next to the convolutions (the dsp/ set has its own).
 */
#include "../pooling.h"

tmo_err avgpool_s8_setup_opt(tmo_prep *p, pool_params *pp)
{
    return avgpool_s8_setup_ref(p, pp);
}

tmo_err maxpool_s8_setup_opt(tmo_prep *p, pool_params *pp)
{
    return maxpool_s8_setup_ref(p, pp);
}
