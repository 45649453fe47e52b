/*
 * Output size and implicit padding of windowed operators (convolutions),
 * computed the way TFLite Micro's ComputePaddingHeightWidth does, but in
 * 64-bit so that hostile strides or dilations can not overflow at prepare.
 * The callers check the results against the output tensor and against the
 * int32 index arithmetic of their invoke loops.
 */
#ifndef TMO_PADDING_H
#define TMO_PADDING_H

#include <stdint.h>

#include "quant.h"

/* Extent of a dilated filter: taps plus the holes between them. */
static inline int64_t pad_effective_filter(int64_t filter, int64_t dilation)
{
    return (filter - 1) * dilation + 1;
}

/*
 * Output size of one spatial dimension (TFLite ComputeOutSize). VALID with a
 * filter wider than the input gives zero or less; C division truncates toward
 * zero like TFLite's int division.
 */
static inline int64_t pad_out_size(uint8_t padding, int64_t in, int64_t filter, int64_t stride,
                                   int64_t dilation)
{
    if (padding == PAD_SAME)
        return (in + stride - 1) / stride;
    return (in + stride - pad_effective_filter(filter, dilation)) / stride;
}

/*
 * Rows (or columns) of implicit zero padding before the input: half of the
 * total, rounded down; the odd one, if any, goes after the input.
 */
static inline int64_t pad_before(int64_t in, int64_t filter, int64_t stride, int64_t dilation,
                                 int64_t out)
{
    int64_t total = (out - 1) * stride + pad_effective_filter(filter, dilation) - in;
    return total > 0 ? total / 2 : 0;
}

#endif
