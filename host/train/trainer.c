/*
 * Training loop (see trainer.h).
 */
#include "trainer.h"

#include <math.h>
#include <stdlib.h>

#include "loss.h"
#include "rng.h"

enum { SHUFFLE_STREAM = 3 };

double tr_accuracy(tr_net *n, const tr_dataset *ds)
{
    if (ds == NULL || ds->count == 0)
        return NAN;
    size_t right = 0;
    for (size_t i = 0; i < ds->count; i++)
        right += tr_net_predict(n, ds->x + i * ds->features) == ds->y[i];
    return (double)right / (double)ds->count;
}

static void shuffle(size_t *order, size_t count, tr_rng *rng)
{
    for (size_t i = count; i > 1; i--) {
        size_t j = (size_t)tr_rng_below(rng, i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

static int32_t argmax(const float *v, int32_t n)
{
    int32_t best = 0;
    for (int32_t c = 1; c < n; c++)
        if (v[c] > v[best])
            best = c;
    return best;
}

int tr_train(tr_net *n, const tr_dataset *train, const tr_dataset *val, const tr_train_config *c,
             tr_progress_fn progress, void *ctx, tr_epoch_stats *last)
{
    size_t *order = malloc(sizeof *order * (train->count + 1));
    float *dlogits = malloc(sizeof *dlogits * (size_t)n->classes);
    tr_epoch_stats st = {0, c->epochs, NAN, NAN, NAN};
    *last = st;
    if (order == NULL || dlogits == NULL) {
        free(order);
        free(dlogits);
        return -1;
    }
    for (size_t i = 0; i < train->count; i++)
        order[i] = i;
    tr_rng rng;
    tr_rng_init(&rng, c->seed, SHUFFLE_STREAM);
    tr_adam adam = tr_adam_default(c->lr);
    uint32_t step = 0;
    for (uint32_t e = 1; e <= c->epochs; e++) {
        shuffle(order, train->count, &rng);
        double loss = 0.0;
        size_t right = 0;
        for (size_t start = 0; start < train->count; start += c->batch) {
            size_t end = start + c->batch < train->count ? start + c->batch : train->count;
            tr_net_zero_grad(n);
            for (size_t i = start; i < end; i++) {
                size_t s = order[i];
                const float *logits = tr_net_forward(n, train->x + s * train->features);
                right += argmax(logits, n->classes) == train->y[s];
                loss += tr_softmax_xent(logits, n->classes, train->y[s], dlogits);
                tr_net_backward(n, dlogits);
            }
            tr_adam_step(n, &adam, ++step, 1.0f / (float)(end - start));
        }
        st.epoch = e;
        st.loss = loss / (double)train->count;
        st.train_acc = (double)right / (double)train->count;
        st.val_acc = tr_accuracy(n, val);
        if (progress != NULL)
            progress(&st, ctx);
    }
    free(order);
    free(dlogits);
    *last = st;
    return 0;
}
