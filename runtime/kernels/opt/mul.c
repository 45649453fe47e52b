/*
 * MUL int8 in the portable optimized kernel set: the reference loop (one
 * multiply and one rescale per element leave little for portable C; the
 * dsp/ set has its own).
 */
#include "../mul.h"

tmo_err mul_s8_setup_opt(tmo_prep *p, mul_params *m)
{
    return mul_s8_setup_ref(p, m);
}
