/*
 * Rendering of tensor facts (shapes, types, quantization) shared by the
 * model commands, as text and as JSON.
 */
#ifndef TMO_TENSOR_TEXT_H
#define TMO_TENSOR_TEXT_H

#include <jansson.h>
#include <stddef.h>

#include "tinymlops/model.h"

/* "[1,49,10,1]" into buf. */
void shape_text(const int32_t *dims, uint32_t ndim, char *buf, size_t len);

/* "scale 0.5847 zp 83", "per-channel x64 (axis 0)" or "-" into buf. */
void quant_text(const tmo_tensor_info *t, char *buf, size_t len);

/* Tensor name as printable text (model strings are untrusted). */
void name_text(const char *name, uint32_t name_len, char *buf, size_t len);

json_t *shape_json(const int32_t *dims, uint32_t ndim);
json_t *tensor_json(uint32_t index, const tmo_tensor_info *t);

#endif
