/*
 * Adam: per-parameter step sizes from running averages of the gradient and
 * its square. Works well on the small, unnormalised data sets the factory
 * sees without tuning a learning-rate schedule.
 */
#include <math.h>

#include "loss.h"

tr_adam tr_adam_default(float lr)
{
    tr_adam a = {lr, 0.9f, 0.999f, 1e-7f};
    return a;
}

void tr_adam_step(tr_net *n, const tr_adam *a, uint32_t step, float grad_scale)
{
    /* Bias corrections of the zero-initialised averages, folded into the step size. */
    double c1 = 1.0 - pow((double)a->beta1, (double)step);
    double c2 = 1.0 - pow((double)a->beta2, (double)step);
    float lr_t = (float)((double)a->lr * sqrt(c2) / c1);
    for (uint32_t i = 0; i < n->count; i++) {
        tr_layer *l = &n->layers[i];
        size_t p = l->n_w + l->n_b;
        float *w = l->w, *g = l->gw, *m = l->opt, *v = l->opt + p;
        for (size_t j = 0; j < p; j++) {
            float gj = g[j] * grad_scale;
            m[j] = a->beta1 * m[j] + (1.0f - a->beta1) * gj;
            v[j] = a->beta2 * v[j] + (1.0f - a->beta2) * gj * gj;
            w[j] -= lr_t * m[j] / (sqrtf(v[j]) + a->eps);
        }
    }
}
