/*
 * Zero-copy reader for TensorFlow Lite flatbuffer models (schema version 3).
 *
 * tmo_model_parse() validates every offset, length, index, shape and
 * quantization field of the executed subgraph before anything else reads
 * them; afterwards the accessors below can not fail on a parsed model except
 * for a caller passing an index out of range. Nothing is copied: a tmo_model
 * points into the caller's bytes, which must stay valid and unchanged for as
 * long as the model (and any interpreter built on it) is used.
 *
 * The model bytes must start at a 4-byte aligned address (flatbuffers align
 * their scalars relative to the buffer start; weights are read in place).
 */
#ifndef TINYMLOPS_MODEL_H
#define TINYMLOPS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "tinymlops/config.h"
#include "tinymlops/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TFLite TensorType values (schema.fbs); only some are executable. */
typedef enum {
    TMO_FLOAT32 = 0,
    TMO_FLOAT16 = 1,
    TMO_INT32 = 2,
    TMO_UINT8 = 3,
    TMO_INT64 = 4,
    TMO_STRING = 5,
    TMO_BOOL = 6,
    TMO_INT16 = 7,
    TMO_INT8 = 9
} tmo_type;

/* Name of a TensorType value, e.g. "INT8"; "UNKNOWN" for values out of the schema. */
const char *tmo_type_name(int32_t type);

/* Bytes of one element of an executable type, 0 for types without a fixed size. */
size_t tmo_type_size(int32_t type);

/* Name of a BuiltinOperator code, e.g. "CONV_2D"; "UNKNOWN" when out of the schema. */
const char *tmo_builtin_name(int32_t code);

/* A parsed model. Plain data; copy freely while the bytes stay valid. */
typedef struct tmo_model {
    const uint8_t *base;
    size_t len;
    uint32_t version;
    uint32_t subgraph_count;
    /* Positions (byte offsets from base) of the first element of each vector. */
    uint32_t opcodes_at, buffers_at, tensors_at, ops_at, inputs_at, outputs_at;
    uint32_t opcode_count, buffer_count, tensor_count, op_count, input_count, output_count;
    const char *description;     /* not NUL-terminated; NULL if absent */
    uint32_t description_len;
} tmo_model;

/* Read-only description of one tensor of the executed subgraph. */
typedef struct tmo_tensor_info {
    int32_t type;                 /* tmo_type value as stored */
    uint32_t ndim;
    int32_t dims[TMO_MAX_DIMS];
    size_t elements;              /* product of dims (1 for a scalar) */
    size_t bytes;                 /* elements * tmo_type_size(type) */
    const void *data;             /* constant data in the model, or NULL for activations */
    uint32_t buffer;              /* index into the model's buffers */
    const char *name;             /* not NUL-terminated; NULL if absent */
    uint32_t name_len;
    /* Quantization: scale_count == 0 means none; > 1 means per-channel along quant_dim. */
    uint32_t scale_count;
    int32_t quant_dim;
    float scale;                  /* first scale (0 if none) */
    int32_t zero_point;           /* first zero point (0 if none) */
    const uint8_t *scales_le;     /* scale_count little-endian float32 values */
    const uint8_t *zero_points_le;/* scale_count little-endian int64 values, or NULL */
} tmo_tensor_info;

/* Read-only description of one operator of the executed subgraph. */
typedef struct tmo_op_info {
    int32_t builtin;              /* BuiltinOperator code (32 = CUSTOM) */
    int32_t version;              /* operator version from the opcode table */
    const char *custom_name;      /* custom op name (not NUL-terminated), or NULL */
    uint32_t custom_name_len;
    uint32_t input_count, output_count;
    int32_t inputs[TMO_MAX_OP_IO];   /* tensor indices; -1 marks an omitted optional input */
    int32_t outputs[TMO_MAX_OP_IO];
    uint8_t options_type;         /* BuiltinOptions union type, 0 if none */
    uint32_t options_at;          /* position of the options table, 0 if none */
} tmo_op_info;

/*
 * Parses and validates a .tflite model held in data[0..len).
 * [out] m     parsed model (points into data)
 * [out] diag  detail on failure (may be NULL)
 * Returns TMO_OK, TMO_EBADMODEL (malformed; diag names the field),
 * TMO_EUNSUPPORTED (valid but beyond this reader, e.g. sparse tensors) or
 * TMO_EINVAL (NULL or misaligned pointer).
 */
tmo_err tmo_model_parse(tmo_model *m, const void *data, size_t len, tmo_diag *diag);

/* Describes tensor idx (0 <= idx < m->tensor_count). */
tmo_err tmo_model_tensor(const tmo_model *m, uint32_t idx, tmo_tensor_info *out);

/* Describes operator idx (0 <= idx < m->op_count), in execution order. */
tmo_err tmo_model_op(const tmo_model *m, uint32_t idx, tmo_op_info *out);

/* Tensor index of subgraph input/output i. */
int32_t tmo_model_input(const tmo_model *m, uint32_t i);
int32_t tmo_model_output(const tmo_model *m, uint32_t i);

/* Per-channel quantization values of a tensor (ch < scale_count). */
float tmo_tensor_scale(const tmo_tensor_info *t, uint32_t ch);
int64_t tmo_tensor_zero_point(const tmo_tensor_info *t, uint32_t ch);

/*
 * Scalar fields of an operator's builtin options table, by flatbuffer field
 * id (the order of fields in schema.fbs, unions counting twice). *out gets
 * the schema default when the field or the whole table is absent; a field
 * that lies outside its table gives TMO_EBADMODEL.
 */
tmo_err tmo_opt_i32(const tmo_model *m, const tmo_op_info *op, unsigned field, int32_t dflt,
                    int32_t *out);
tmo_err tmo_opt_u8(const tmo_model *m, const tmo_op_info *op, unsigned field, uint8_t dflt,
                   uint8_t *out);
tmo_err tmo_opt_f32(const tmo_model *m, const tmo_op_info *op, unsigned field, float dflt,
                    float *out);

/*
 * An int32 vector field of an operator's options (e.g. ReshapeOptions.new_shape).
 * On success *count is the number of elements and *values_le points at them
 * (little-endian); an absent field gives *count = 0 and TMO_OK.
 */
tmo_err tmo_opt_vec_i32(const tmo_model *m, const tmo_op_info *op, unsigned field,
                        const uint8_t **values_le, uint32_t *count);

#ifdef __cplusplus
}
#endif

#endif
