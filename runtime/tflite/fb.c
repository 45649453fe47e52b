/*
 * Bounds-checked flatbuffer primitives (see fb.h). All arithmetic on
 * positions is done in 64 bits so that no offset in a hostile file can wrap.
 */
#include "fb.h"

static int fits(const fb_buf *buf, uint64_t pos, uint64_t size)
{
    return pos <= buf->len && size <= (uint64_t)buf->len - pos;
}

tmo_err fb_table_at(const fb_buf *buf, uint32_t pos, fb_table *out)
{
    if (!fits(buf, pos, 4) || (pos & 3u) != 0)
        return TMO_EBADMODEL;
    int64_t vt = (int64_t)pos - (int64_t)fb_load_i32(buf->b + pos);
    if (vt < 0 || (vt & 1) != 0 || !fits(buf, (uint64_t)vt, 4))
        return TMO_EBADMODEL;
    uint16_t vt_size = fb_load_u16(buf->b + vt);
    uint16_t obj_size = fb_load_u16(buf->b + vt + 2);
    if (vt_size < 4 || (vt_size & 1u) != 0 || !fits(buf, (uint64_t)vt, vt_size))
        return TMO_EBADMODEL;
    if (obj_size < 4 || !fits(buf, pos, obj_size))
        return TMO_EBADMODEL;
    out->pos = pos;
    out->vt = (uint32_t)vt;
    out->vt_size = vt_size;
    out->obj_size = obj_size;
    return TMO_OK;
}

tmo_err fb_field(const fb_buf *buf, const fb_table *t, unsigned id, unsigned size, uint32_t *pos)
{
    uint32_t slot = 4u + 2u * id;
    *pos = 0;
    if (slot + 2u > t->vt_size)
        return TMO_OK;
    uint16_t voff = fb_load_u16(buf->b + t->vt + slot);
    if (voff == 0)
        return TMO_OK;
    if (voff < 4u || (uint32_t)voff + size > t->obj_size)
        return TMO_EBADMODEL;
    *pos = t->pos + voff;
    return TMO_OK;
}

tmo_err fb_deref(const fb_buf *buf, uint32_t pos, uint32_t *target)
{
    if (!fits(buf, pos, 4))
        return TMO_EBADMODEL;
    uint64_t to = (uint64_t)pos + fb_load_u32(buf->b + pos);
    if (!fits(buf, to, 4))
        return TMO_EBADMODEL;
    *target = (uint32_t)to;
    return TMO_OK;
}

tmo_err fb_vector(const fb_buf *buf, const fb_table *t, unsigned id, uint32_t elem_size,
                  uint32_t *first, uint32_t *count)
{
    uint32_t at, v;
    tmo_err e;
    *first = 0;
    *count = 0;
    if ((e = fb_field(buf, t, id, 4, &at)) != TMO_OK)
        return e;
    if (at == 0)
        return TMO_OK;
    if ((e = fb_deref(buf, at, &v)) != TMO_OK)
        return e;
    uint32_t n = fb_load_u32(buf->b + v);
    if (!fits(buf, (uint64_t)v + 4u, (uint64_t)n * elem_size))
        return TMO_EBADMODEL;
    *first = v + 4u;
    *count = n;
    return TMO_OK;
}

tmo_err fb_subtable(const fb_buf *buf, const fb_table *t, unsigned id, fb_table *out, int *present)
{
    uint32_t at, to;
    tmo_err e;
    *present = 0;
    if ((e = fb_field(buf, t, id, 4, &at)) != TMO_OK)
        return e;
    if (at == 0)
        return TMO_OK;
    if ((e = fb_deref(buf, at, &to)) != TMO_OK)
        return e;
    if ((e = fb_table_at(buf, to, out)) != TMO_OK)
        return e;
    *present = 1;
    return TMO_OK;
}

tmo_err fb_vector_table(const fb_buf *buf, uint32_t first, uint32_t i, fb_table *out)
{
    uint32_t to;
    tmo_err e;
    if ((e = fb_deref(buf, first + 4u * i, &to)) != TMO_OK)
        return e;
    return fb_table_at(buf, to, out);
}

tmo_err fb_string(const fb_buf *buf, const fb_table *t, unsigned id, const char **s, uint32_t *n)
{
    uint32_t first, count;
    tmo_err e = fb_vector(buf, t, id, 1, &first, &count);
    *s = NULL;
    *n = 0;
    if (e != TMO_OK)
        return e;
    if (first != 0) {
        *s = (const char *)buf->b + first;
        *n = count;
    }
    return TMO_OK;
}

#define SCALAR_GETTER(fn, type, size, load)                                                   \
    tmo_err fn(const fb_buf *buf, const fb_table *t, unsigned id, type dflt, type *out)      \
    {                                                                                        \
        uint32_t at;                                                                         \
        tmo_err e = fb_field(buf, t, id, size, &at);                                         \
        *out = dflt;                                                                         \
        if (e == TMO_OK && at != 0)                                                          \
            *out = (type)load;                                                               \
        return e;                                                                            \
    }

SCALAR_GETTER(fb_u8, uint8_t, 1, buf->b[at])
SCALAR_GETTER(fb_i32, int32_t, 4, fb_load_i32(buf->b + at))
SCALAR_GETTER(fb_u32, uint32_t, 4, fb_load_u32(buf->b + at))
SCALAR_GETTER(fb_u64, uint64_t, 8, fb_load_u64(buf->b + at))
SCALAR_GETTER(fb_f32, float, 4, fb_load_f32(buf->b + at))
