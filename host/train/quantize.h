/*
 * Post-training int8 quantization following the TFLite quantization spec
 * (https://www.tensorflow.org/lite/performance/quantization_spec), computed
 * the way TFLite's converter computes it (tools/optimize/quantization_utils):
 *
 * - activations: per tensor, asymmetric; the range seen on calibration data
 *   is widened to include 0, scale = (max - min) / 255, zero point =
 *   round(-128 - min / scale) clamped to [-128, 127] (float arithmetic);
 * - weights: per output channel, symmetric; scale = max|w| / 127, zero point
 *   0, q = round(w * (127 / max|w|)) clamped to [-127, 127];
 * - biases: int32, scale = input scale * weight scale of the channel (float
 *   product), q = round(b * (1 / scale));
 * - pooling outputs keep their input's scale and zero point, the softmax
 *   output is 1/256 with zero point -128 (what TFLite Micro requires).
 *
 * Two cases the converter leaves at scale 0 get a usable scale instead: an
 * all-zero weight channel (scale 1/127) and an activation that was always 0
 * (range [0, 1]).
 */
#ifndef TMO_TRAIN_QUANTIZE_H
#define TMO_TRAIN_QUANTIZE_H

#include <stdint.h>

#include "dataset.h"
#include "net.h"

typedef struct tr_range {
    float min, max;
} tr_range;

typedef struct tr_qparams {
    float scale;
    int32_t zero_point;
} tr_qparams;

typedef struct tr_qlayer {
    tr_qparams in, out; /* activation quantization of the layer's input and output */
    int8_t *w;          /* n_w weights in the float layout, NULL for pools */
    float *w_scale;     /* one per output channel */
    int32_t *b;         /* n_b biases */
    float *b_scale;     /* one per output channel */
} tr_qlayer;

typedef struct tr_qnet {
    uint32_t count;
    tr_qparams input;
    tr_qlayer layers[TR_MAX_LAYERS + 1];
} tr_qnet;

/* Softmax output quantization fixed by TFLite Micro. */
#define TR_SOFTMAX_SCALE (1.0f / 256.0f)
#define TR_SOFTMAX_ZERO_POINT (-128)

/*
 * Runs the float network over ds and records the range of its input
 * (ranges[0]) and of every layer output (ranges[i + 1]); n->count + 1 entries.
 */
void tr_calibrate(tr_net *n, const tr_dataset *ds, tr_range *ranges);

/* Activation scale and zero point for a calibrated range. */
tr_qparams tr_activation_qparams(tr_range r);

/*
 * Quantizes the (input-scale folded) network n with the calibrated ranges.
 * Returns -1 when memory runs out. Free with tr_qnet_free().
 */
int tr_quantize(const tr_net *n, const tr_range *ranges, tr_qnet *q);
void tr_qnet_free(tr_qnet *q);

/* How a raw feature becomes an int8 input: round(x / scale) + zero point, clamped. */
int8_t tr_quantize_value(float x, tr_qparams p);

/* Output channel of weight index i of layer l (the per-channel quantized dimension). */
int32_t tr_weight_channel(const tr_layer *l, size_t i);

#endif
