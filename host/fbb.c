/*
 * Back-to-front flatbuffer builder (see fbb.h). Positions are kept as
 * distances from the end of the buffer; a uoffset stored at distance `at`
 * pointing at an object at distance `to` is at - to (the target lies at a
 * higher address because it was written earlier).
 */
#include "fbb.h"

#include <stdlib.h>
#include <string.h>

void fbb_init(fbb *b)
{
    memset(b, 0, sizeof *b);
    b->minalign = 1;
}

void fbb_free(fbb *b)
{
    free(b->buf);
    free(b->vtables);
    fbb_init(b);
}

/* Makes room for n more bytes in front of the data. */
static int reserve(fbb *b, size_t n)
{
    if (b->failed)
        return 0;
    if (b->cap - b->size >= n)
        return 1;
    if (n > ((size_t)1 << 31) - b->size) {
        b->failed = 1;
        return 0;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->size < n)
        cap *= 2;
    uint8_t *nb = malloc(cap);
    if (nb == NULL) {
        b->failed = 1;
        return 0;
    }
    if (b->size)
        memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
    return 1;
}

static void push(fbb *b, const void *data, size_t n)
{
    if (n == 0 || !reserve(b, n))
        return;
    b->size += n;
    memcpy(b->buf + b->cap - b->size, data, n);
}

static void push_zeros(fbb *b, size_t n)
{
    if (n == 0 || !reserve(b, n))
        return;
    b->size += n;
    memset(b->buf + b->cap - b->size, 0, n);
}

/* Pads so that after writing len more bytes the data start is aligned to align. */
static void prealign(fbb *b, size_t len, size_t align)
{
    if (align > b->minalign)
        b->minalign = align;
    size_t pad = (align - ((b->size + len) % align)) % align;
    push_zeros(b, pad);
}

static void push_u32(fbb *b, uint32_t v)
{
    push(b, &v, 4);
}

/* Stores a uoffset to `to` at the next 4-byte slot. */
static void push_offset(fbb *b, fbb_ref to)
{
    prealign(b, 4, 4);
    if (to == 0 || to > b->size + 4) {
        b->failed = 1;
        return;
    }
    push_u32(b, (uint32_t)(b->size + 4 - to));
}

static int usable(fbb *b)
{
    if (b->in_table)
        b->failed = 1;
    return !b->failed;
}

fbb_ref fbb_string(fbb *b, const char *s, size_t n)
{
    if (!usable(b) || n > UINT32_MAX - 1) {
        b->failed = 1;
        return 0;
    }
    prealign(b, n + 1, 4);
    push_zeros(b, 1);
    push(b, s, n);
    push_u32(b, (uint32_t)n);
    return b->failed ? 0 : (fbb_ref)b->size;
}

fbb_ref fbb_vector(fbb *b, const void *elems, size_t count, size_t elem_size, size_t align)
{
    if (!usable(b) || (elem_size && count > UINT32_MAX / elem_size)) {
        b->failed = 1;
        return 0;
    }
    size_t a = align > elem_size ? align : elem_size;
    size_t bytes = count * elem_size;
    prealign(b, bytes, a > 4 ? a : 4);
    push(b, elems, bytes);
    push_u32(b, (uint32_t)count);
    return b->failed ? 0 : (fbb_ref)b->size;
}

fbb_ref fbb_vector_refs(fbb *b, const fbb_ref *refs, size_t count)
{
    if (!usable(b) || count > UINT32_MAX / 4) {
        b->failed = 1;
        return 0;
    }
    prealign(b, 4 * count, 4);
    for (size_t i = count; i-- > 0;)
        push_offset(b, refs[i]);
    push_u32(b, (uint32_t)count);
    return b->failed ? 0 : (fbb_ref)b->size;
}

void fbb_table_start(fbb *b)
{
    if (!usable(b))
        return;
    b->in_table = 1;
    b->object_end = b->size;
    memset(b->fields, 0, sizeof b->fields);
    b->max_field = 0;
}

static void field_at(fbb *b, unsigned id)
{
    if (!b->in_table || id >= FBB_MAX_FIELDS) {
        b->failed = 1;
        return;
    }
    b->fields[id] = (fbb_ref)b->size;
    if (id + 1 > b->max_field)
        b->max_field = id + 1;
}

static void add_scalar(fbb *b, unsigned id, const void *v, size_t n)
{
    prealign(b, n, n);
    push(b, v, n);
    field_at(b, id);
}

void fbb_add_u8(fbb *b, unsigned id, uint8_t v) { add_scalar(b, id, &v, 1); }
void fbb_add_i32(fbb *b, unsigned id, int32_t v) { add_scalar(b, id, &v, 4); }
void fbb_add_u32(fbb *b, unsigned id, uint32_t v) { add_scalar(b, id, &v, 4); }
void fbb_add_f32(fbb *b, unsigned id, float v) { add_scalar(b, id, &v, 4); }
void fbb_add_u64(fbb *b, unsigned id, uint64_t v) { add_scalar(b, id, &v, 8); }

void fbb_add_ref(fbb *b, unsigned id, fbb_ref child)
{
    push_offset(b, child);
    field_at(b, id);
}

/* An earlier vtable with the same bytes, or 0. */
static fbb_ref find_vtable(const fbb *b, const uint16_t *vt, size_t vt_bytes)
{
    for (size_t i = 0; i < b->vtable_count; i++) {
        fbb_ref r = b->vtables[i];
        const uint8_t *p = b->buf + b->cap - r;
        if (memcmp(p, vt, 2) == 0 && memcmp(p, vt, vt_bytes) == 0)
            return r;
    }
    return 0;
}

static void remember_vtable(fbb *b, fbb_ref r)
{
    if (b->vtable_count == b->vtable_cap) {
        size_t cap = b->vtable_cap ? 2 * b->vtable_cap : 16;
        fbb_ref *n = realloc(b->vtables, cap * sizeof *n);
        if (n == NULL) {
            b->failed = 1;
            return;
        }
        b->vtables = n;
        b->vtable_cap = cap;
    }
    b->vtables[b->vtable_count++] = r;
}

fbb_ref fbb_table_end(fbb *b)
{
    if (!b->in_table || b->failed) {
        b->failed = 1;
        b->in_table = 0;
        return 0;
    }
    prealign(b, 4, 4);
    push_zeros(b, 4); /* soffset to the vtable, patched below */
    b->in_table = 0;
    fbb_ref table = (fbb_ref)b->size;
    size_t obj_size = table - b->object_end;
    uint16_t vt[2 + FBB_MAX_FIELDS];
    size_t vt_bytes = 4 + 2 * (size_t)b->max_field;
    if (b->failed || obj_size > 0xffff)
        goto fail;
    vt[0] = (uint16_t)vt_bytes;
    vt[1] = (uint16_t)obj_size;
    for (unsigned i = 0; i < b->max_field; i++)
        vt[2 + i] = (uint16_t)(b->fields[i] ? table - b->fields[i] : 0);
    fbb_ref vtable = find_vtable(b, vt, vt_bytes);
    if (vtable == 0) {
        push(b, vt, vt_bytes); /* size is 4-aligned and vt_bytes even: the vtable is 2-aligned */
        vtable = (fbb_ref)b->size;
        remember_vtable(b, vtable);
        if (b->failed)
            goto fail;
    }
    /* vtable position = table position - soffset (both measured from the start). */
    int32_t soffset = (int32_t)((int64_t)vtable - (int64_t)table);
    memcpy(b->buf + b->cap - table, &soffset, 4);
    return table;
fail:
    b->failed = 1;
    return 0;
}

int fbb_finish(fbb *b, fbb_ref root, const char *ident, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (!usable(b) || root == 0)
        return -1;
    if (b->minalign < 4)
        b->minalign = 4;
    prealign(b, ident ? 8 : 4, b->minalign);
    if (ident)
        push(b, ident, 4);
    push_offset(b, root);
    if (b->failed)
        return -1;
    size_t n = b->size;
    uint8_t *bytes = aligned_alloc(16, (n + 15) & ~(size_t)15);
    if (bytes == NULL)
        return -1;
    memcpy(bytes, b->buf + b->cap - n, n);
    memset(bytes + n, 0, ((n + 15) & ~(size_t)15) - n);
    *out = bytes;
    *len = n;
    return 0;
}
