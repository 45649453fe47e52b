/*
 * Bounds-checked flatbuffer primitives.
 *
 * Every read of a model goes through these helpers, which check each offset,
 * vtable and length against the buffer before touching it, so a hostile file
 * can make them fail but never read out of bounds. They know nothing of the
 * TFLite schema; model.c gives the fields their meaning.
 */
#ifndef TMO_FB_H
#define TMO_FB_H

#include <stdint.h>
#include <string.h>

#include "tinymlops/err.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tinymlops reads model weights in place and needs a little-endian target"
#endif

typedef struct {
    const uint8_t *b;
    uint32_t len;
} fb_buf;

/* A validated table: header, vtable and object all inside the buffer. */
typedef struct {
    uint32_t pos;      /* position of the table object */
    uint32_t vt;       /* position of its vtable */
    uint16_t vt_size;  /* bytes of the vtable */
    uint16_t obj_size; /* bytes of the object, starting at pos */
} fb_table;

static inline uint32_t fb_load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint16_t fb_load_u16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline int32_t fb_load_i32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline int64_t fb_load_i64(const uint8_t *p)
{
    int64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t fb_load_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline float fb_load_f32(const uint8_t *p)
{
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Validates the table at pos. */
tmo_err fb_table_at(const fb_buf *buf, uint32_t pos, fb_table *out);

/*
 * Position of field id holding `size` bytes, or 0 when the field is absent.
 * Fails when the field would extend past the table object.
 */
tmo_err fb_field(const fb_buf *buf, const fb_table *t, unsigned id, unsigned size, uint32_t *pos);

/* Follows the uoffset stored at pos; the target must leave room for a 4-byte header. */
tmo_err fb_deref(const fb_buf *buf, uint32_t pos, uint32_t *target);

/*
 * Vector field: *first = position of element 0, *count = element count;
 * count 0 and first 0 when absent. All count * elem_size bytes are in bounds.
 */
tmo_err fb_vector(const fb_buf *buf, const fb_table *t, unsigned id, uint32_t elem_size,
                  uint32_t *first, uint32_t *count);

/* Table-valued field; *present = 0 when absent. */
tmo_err fb_subtable(const fb_buf *buf, const fb_table *t, unsigned id, fb_table *out, int *present);

/* Element i of a vector of tables starting at first. */
tmo_err fb_vector_table(const fb_buf *buf, uint32_t first, uint32_t i, fb_table *out);

/* String field: *s = bytes (no NUL needed), *n = length; NULL/0 when absent. */
tmo_err fb_string(const fb_buf *buf, const fb_table *t, unsigned id, const char **s, uint32_t *n);

/* Scalar fields with schema defaults. */
tmo_err fb_u8(const fb_buf *buf, const fb_table *t, unsigned id, uint8_t dflt, uint8_t *out);
tmo_err fb_i32(const fb_buf *buf, const fb_table *t, unsigned id, int32_t dflt, int32_t *out);
tmo_err fb_u32(const fb_buf *buf, const fb_table *t, unsigned id, uint32_t dflt, uint32_t *out);
tmo_err fb_u64(const fb_buf *buf, const fb_table *t, unsigned id, uint64_t dflt, uint64_t *out);
tmo_err fb_f32(const fb_buf *buf, const fb_table *t, unsigned id, float dflt, float *out);

#endif
