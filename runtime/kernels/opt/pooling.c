/*
 * AVERAGE_POOL_2D and MAX_POOL_2D in the portable optimized kernel set: the
 * reference loops, which a host compiler already vectorizes well enough for
 * operators this small next to the convolutions (the dsp/ set has its own).
 */
#include "../pooling.h"

tmo_err pool_s8_setup_opt(tmo_prep *p, pool_params *pp, int is_max)
{
    return pool_s8_setup_ref(p, pp, is_max);
}
