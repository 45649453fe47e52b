/*
 * Writer of standard TFLite flatbuffer models (schema version 3), host side.
 *
 * Used by the model factory (training, quantization), by tests that need
 * single-operator or deliberately malformed models, and by tools that
 * rewrite weights. The output is what the TFLite schema accepts: vtables,
 * 16-byte aligned buffer data, the "TFL3" identifier, operator codes with
 * both the deprecated and the 32-bit builtin code fields.
 *
 * Usage: tw_new(); add buffers, tensors, operators; set graph inputs and
 * outputs; tw_finish() returns the serialized bytes (caller frees).
 * Indices returned by tw_* calls are what later calls take. Buffer 0 is the
 * schema's mandatory empty buffer and is created by tw_new().
 */
#ifndef TMO_TFLITE_WRITER_H
#define TMO_TFLITE_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_model tw_model;

/* Quantization of one tensor; count 0 = not quantized, > 1 = per-channel along quant_dim. */
typedef struct tw_quant {
    uint32_t count;
    const float *scales;
    const int64_t *zero_points; /* NULL = all zero */
    int32_t quant_dim;
} tw_quant;

/* Builtin options of one operator as a list of (field id, value) pairs. */
typedef enum { TW_I32, TW_U8, TW_BOOL, TW_F32, TW_VEC_I32 } tw_kind;

typedef struct tw_field {
    uint8_t id;        /* field id in the options table (schema order; unions count twice) */
    tw_kind kind;
    int32_t i;         /* TW_I32, TW_U8, TW_BOOL */
    float f;           /* TW_F32 */
    const int32_t *v;  /* TW_VEC_I32 */
    uint32_t n;        /* TW_VEC_I32 element count */
} tw_field;

typedef struct tw_options {
    uint8_t type;      /* BuiltinOptions union tag (runtime/tflite/options_types.h); 0 = none */
    uint32_t count;
    tw_field fields[16];
} tw_options;

tw_model *tw_new(void);
void tw_free(tw_model *m);

/* Model description string (optional). */
void tw_description(tw_model *m, const char *text);

/* Adds a buffer holding a copy of data[0..len); returns its index. len 0 = empty buffer. */
int tw_buffer(tw_model *m, const void *data, size_t len);

/*
 * Adds a tensor; buffer 0 means "no constant data" (an activation).
 * q may be NULL. Returns the tensor index.
 */
int tw_tensor(tw_model *m, const char *name, int32_t type, const int32_t *dims, uint32_t ndim,
              int buffer, const tw_quant *q);

/* Adds an operator (appended in execution order). opts may be NULL. Returns its index. */
int tw_operator(tw_model *m, int32_t builtin, const int32_t *inputs, uint32_t n_in,
                const int32_t *outputs, uint32_t n_out, const tw_options *opts);

/* Adds a custom operator by name (for tests of unsupported operators). */
int tw_custom_operator(tw_model *m, const char *custom_code, const int32_t *inputs, uint32_t n_in,
                       const int32_t *outputs, uint32_t n_out);

void tw_inputs(tw_model *m, const int32_t *tensors, uint32_t n);
void tw_outputs(tw_model *m, const int32_t *tensors, uint32_t n);

/*
 * Serializes the model. On success returns 0 and *out (malloc'ed, 16-byte
 * aligned, free with free()) and *len. Returns -1 on an inconsistent model
 * (an index out of range), with nothing allocated.
 */
int tw_finish(tw_model *m, uint8_t **out, size_t *len);

/* Option helpers for building tw_options in one expression. */
static inline tw_field tw_i32(uint8_t id, int32_t v)
{
    tw_field f = {id, TW_I32, v, 0.0f, NULL, 0};
    return f;
}

static inline tw_field tw_u8(uint8_t id, int32_t v)
{
    tw_field f = {id, TW_U8, v, 0.0f, NULL, 0};
    return f;
}

static inline tw_field tw_bool(uint8_t id, int v)
{
    tw_field f = {id, TW_BOOL, v, 0.0f, NULL, 0};
    return f;
}

static inline tw_field tw_f32(uint8_t id, float v)
{
    tw_field f = {id, TW_F32, 0, v, NULL, 0};
    return f;
}

static inline tw_field tw_vec_i32(uint8_t id, const int32_t *v, uint32_t n)
{
    tw_field f = {id, TW_VEC_I32, 0, 0.0f, v, n};
    return f;
}

#endif
