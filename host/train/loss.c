/*
 * Softmax cross-entropy, shifted by the largest logit so exp() never
 * overflows; the normaliser is summed in double, in class order.
 */
#include <math.h>

#include "loss.h"

double tr_softmax_xent(const float *logits, int32_t n, int32_t label, float *dlogits)
{
    float max = logits[0];
    for (int32_t c = 1; c < n; c++)
        if (logits[c] > max)
            max = logits[c];
    double sum = 0.0;
    for (int32_t c = 0; c < n; c++)
        sum += exp((double)logits[c] - (double)max);
    for (int32_t c = 0; c < n; c++) {
        double p = exp((double)logits[c] - (double)max) / sum;
        dlogits[c] = (float)(p - (c == label ? 1.0 : 0.0));
    }
    return log(sum) - ((double)logits[label] - (double)max);
}
