/*
 * Writes a trained network as a standard .tflite model with the project's
 * TFLite writer: float32, or fully int8 (int8 input and output tensors, no
 * QUANTIZE/DEQUANTIZE operators). The graph uses only operators the
 * runtime has: CONV_2D, DEPTHWISE_CONV_2D (both with fused ReLU),
 * MAX/AVERAGE_POOL_2D, RESHAPE (before the first dense layer of a CNN),
 * FULLY_CONNECTED (fused ReLU on hidden layers) and SOFTMAX.
 */
#ifndef TMO_TRAIN_EXPORT_H
#define TMO_TRAIN_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "quantize.h"

typedef struct tr_export_opts {
    int with_softmax;        /* 1: the output is softmax probabilities; 0: the logits */
    const char *description; /* model description string, may be NULL */
} tr_export_opts;

/*
 * Serializes n (whose input scale must be folded) as float32 when q is NULL,
 * as int8 with the quantization q otherwise. On success returns 0 and the
 * bytes in *out (16-byte aligned, free with free()); -1 on failure.
 */
int tr_export(const tr_net *n, const tr_qnet *q, const tr_export_opts *o, uint8_t **out,
              size_t *len);

#endif
