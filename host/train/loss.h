/*
 * Softmax cross-entropy loss and the Adam optimizer of the model factory.
 */
#ifndef TMO_TRAIN_LOSS_H
#define TMO_TRAIN_LOSS_H

#include <stdint.h>

#include "net.h"

/*
 * Loss of logits[0..n) for the true class label: -log softmax(logits)[label].
 * Writes its gradient softmax(logits) - onehot(label) to dlogits.
 */
double tr_softmax_xent(const float *logits, int32_t n, int32_t label, float *dlogits);

typedef struct tr_adam {
    float lr, beta1, beta2, eps;
} tr_adam;

/* Standard Adam (Kingma & Ba) hyper-parameters with learning rate lr. */
tr_adam tr_adam_default(float lr);

/*
 * One Adam step on every parameter of n with gradient grad_scale * (gw, gb)
 * (grad_scale = 1 / batch size). step counts from 1.
 */
void tr_adam_step(tr_net *n, const tr_adam *a, uint32_t step, float grad_scale);

#endif
