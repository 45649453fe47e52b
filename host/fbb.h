/*
 * A small generic flatbuffer builder, host side.
 *
 * Exists so the TFLite writer (and tests that need hand-made or deliberately
 * odd flatbuffers) do not depend on flatc or the C++ flatbuffers library.
 * Like the official builder it builds back to front: children (strings,
 * vectors, sub-tables) are written before the table that points at them,
 * and every object is referred to by its distance from the END of the
 * buffer (fbb_ref), which never changes as more data is prepended.
 *
 * Alignment follows the flatbuffers rules: each scalar is aligned to its
 * size, a vector's length field to 4 and its elements to their size (or a
 * larger requested alignment, e.g. 16 for TFLite buffer data), all relative
 * to the start of the finished buffer. Identical vtables are shared.
 *
 * Only one table may be under construction at a time, and no other object
 * may be created between fbb_table_start() and fbb_table_end().
 * Out-of-memory is sticky: later calls do nothing and fbb_finish() fails.
 * Assumes a little-endian host (as the device reader does).
 */
#ifndef TMO_FBB_H
#define TMO_FBB_H

#include <stddef.h>
#include <stdint.h>

/* Distance of an object's start from the end of the buffer; 0 = none. */
typedef uint32_t fbb_ref;

#define FBB_MAX_FIELDS 256

typedef struct fbb {
    uint8_t *buf;       /* data occupies buf[cap - size .. cap) */
    size_t cap, size;
    size_t minalign;    /* largest alignment used; the finished size is a multiple */
    int failed;         /* allocation failed or misuse (e.g. nested tables) */
    /* table under construction */
    int in_table;
    size_t object_end;  /* size when the table was started */
    unsigned max_field; /* 1 + highest field id set */
    fbb_ref fields[FBB_MAX_FIELDS]; /* where each field's value sits, 0 = absent */
    /* vtables written so far, for sharing */
    fbb_ref *vtables;
    size_t vtable_count, vtable_cap;
} fbb;

void fbb_init(fbb *b);
void fbb_free(fbb *b);

/* A string: bytes s[0..n) plus the terminating NUL the format requires. */
fbb_ref fbb_string(fbb *b, const char *s, size_t n);

/*
 * A vector of count scalars of elem_size bytes each, copied from elems
 * (host order = little-endian). The elements are aligned to
 * max(elem_size, align); align 0 means elem_size.
 */
fbb_ref fbb_vector(fbb *b, const void *elems, size_t count, size_t elem_size, size_t align);

/* A vector of references to tables or strings. */
fbb_ref fbb_vector_refs(fbb *b, const fbb_ref *refs, size_t count);

/* Table construction: start, add fields (any order), end. */
void fbb_table_start(fbb *b);
void fbb_add_u8(fbb *b, unsigned id, uint8_t v);
void fbb_add_i32(fbb *b, unsigned id, int32_t v);
void fbb_add_u32(fbb *b, unsigned id, uint32_t v);
void fbb_add_f32(fbb *b, unsigned id, float v);
void fbb_add_u64(fbb *b, unsigned id, uint64_t v);
void fbb_add_ref(fbb *b, unsigned id, fbb_ref child);
fbb_ref fbb_table_end(fbb *b);

/*
 * Writes the root offset and the 4-byte file identifier (ident may be NULL)
 * and returns the finished bytes in *out (malloc'ed, 16-byte aligned,
 * free with free()) and their count in *len. Returns 0, or -1 on failure
 * with nothing allocated. The builder may be freed afterwards.
 */
int fbb_finish(fbb *b, fbb_ref root, const char *ident, uint8_t **out, size_t *len);

#endif
