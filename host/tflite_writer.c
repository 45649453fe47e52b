/*
 * TFLite model writer (see tflite_writer.h) on top of the generic builder
 * in fbb.c. The tw_* calls only record the model (with copies of all
 * caller data); tw_finish() checks the indices and serializes.
 *
 * Every scalar field is written explicitly, even when it equals the schema
 * default, so tests can find and patch any field in the output to make
 * deliberately malformed models.
 */
#include "tflite_writer.h"

#include <stdlib.h>
#include <string.h>

#include "fbb.h"

/* Field ids in schema.fbs order (a union counts twice: type, then value). */
enum { F_MODEL_VERSION = 0, F_MODEL_OPCODES = 1, F_MODEL_SUBGRAPHS = 2, F_MODEL_DESCRIPTION = 3,
       F_MODEL_BUFFERS = 4 };
enum { F_OPCODE_DEPRECATED = 0, F_OPCODE_CUSTOM = 1, F_OPCODE_VERSION = 2, F_OPCODE_BUILTIN = 3 };
enum { F_SG_TENSORS = 0, F_SG_INPUTS = 1, F_SG_OUTPUTS = 2, F_SG_OPS = 3 };
enum { F_T_SHAPE = 0, F_T_TYPE = 1, F_T_BUFFER = 2, F_T_NAME = 3, F_T_QUANT = 4 };
enum { F_Q_SCALE = 2, F_Q_ZERO_POINT = 3, F_Q_DIM = 6 };
enum { F_OP_OPCODE = 0, F_OP_INPUTS = 1, F_OP_OUTPUTS = 2, F_OP_OPTIONS_TYPE = 3, F_OP_OPTIONS = 4 };
enum { F_BUFFER_DATA = 0 };

enum { SCHEMA_VERSION = 3, BUILTIN_CUSTOM = 32, DEPRECATED_CODE_MAX = 127, BUFFER_ALIGN = 16 };

typedef struct { uint8_t *data; size_t len; } w_buffer;

typedef struct {
    int32_t builtin;
    char *custom; /* NULL for builtins */
} w_opcode;

typedef struct {
    char *name;
    int32_t type;
    int32_t *dims;
    uint32_t ndim;
    int buffer;
    int quantized;
    uint32_t qcount;
    float *scales;
    int64_t *zero_points;
    int32_t quant_dim;
} w_tensor;

typedef struct {
    uint32_t opcode;
    int32_t *inputs, *outputs;
    uint32_t n_in, n_out;
    tw_options opts; /* vector fields point at copies owned here */
} w_operator;

struct tw_model {
    w_buffer *buffers;
    w_tensor *tensors;
    w_operator *ops;
    w_opcode *opcodes;
    size_t n_buffers, n_tensors, n_ops, n_opcodes;
    int32_t *inputs, *outputs;
    uint32_t n_inputs, n_outputs;
    char *description;
    int failed; /* out of memory in a tw_* call */
};

/* ---- recording ---- */

/* Copy of p[0..n); NULL for n == 0. A NULL p with n > 0 marks the model failed. */
static void *dup_mem(tw_model *m, const void *p, size_t n)
{
    if (n == 0)
        return NULL;
    if (p == NULL) {
        m->failed = 1;
        return NULL;
    }
    void *c = malloc(n);
    if (c == NULL)
        m->failed = 1;
    else
        memcpy(c, p, n);
    return c;
}

static char *dup_str(tw_model *m, const char *s)
{
    return s ? dup_mem(m, s, strlen(s) + 1) : NULL;
}

/* Appends one zeroed element to an array of elem bytes; returns it or NULL. */
static void *grow(tw_model *m, void **arr, size_t *count, size_t elem)
{
    void *n = realloc(*arr, (*count + 1) * elem);
    if (n == NULL) {
        m->failed = 1;
        return NULL;
    }
    *arr = n;
    void *slot = (uint8_t *)n + *count * elem;
    memset(slot, 0, elem);
    (*count)++;
    return slot;
}

tw_model *tw_new(void)
{
    tw_model *m = calloc(1, sizeof *m);
    if (m != NULL && tw_buffer(m, NULL, 0) != 0) {
        tw_free(m);
        return NULL;
    }
    return m;
}

static void free_options(tw_options *o)
{
    for (uint32_t i = 0; i < o->count && i < 16; i++)
        if (o->fields[i].kind == TW_VEC_I32)
            free((void *)o->fields[i].v);
}

void tw_free(tw_model *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_buffers; i++)
        free(m->buffers[i].data);
    for (size_t i = 0; i < m->n_tensors; i++) {
        w_tensor *t = &m->tensors[i];
        free(t->name);
        free(t->dims);
        free(t->scales);
        free(t->zero_points);
    }
    for (size_t i = 0; i < m->n_ops; i++) {
        free(m->ops[i].inputs);
        free(m->ops[i].outputs);
        free_options(&m->ops[i].opts);
    }
    for (size_t i = 0; i < m->n_opcodes; i++)
        free(m->opcodes[i].custom);
    free(m->buffers);
    free(m->tensors);
    free(m->ops);
    free(m->opcodes);
    free(m->inputs);
    free(m->outputs);
    free(m->description);
    free(m);
}

void tw_description(tw_model *m, const char *text)
{
    free(m->description);
    m->description = dup_str(m, text);
}

int tw_buffer(tw_model *m, const void *data, size_t len)
{
    w_buffer *b = grow(m, (void **)&m->buffers, &m->n_buffers, sizeof *b);
    if (b == NULL)
        return -1;
    /* No data with a length: a zero-filled buffer of that size. */
    b->data = data == NULL && len > 0 ? calloc(1, len) : dup_mem(m, data, len);
    if (len > 0 && b->data == NULL)
        m->failed = 1;
    b->len = b->data ? len : 0;
    return (int)(m->n_buffers - 1);
}

int tw_tensor(tw_model *m, const char *name, int32_t type, const int32_t *dims, uint32_t ndim,
              int buffer, const tw_quant *q)
{
    w_tensor *t = grow(m, (void **)&m->tensors, &m->n_tensors, sizeof *t);
    if (t == NULL)
        return -1;
    t->name = dup_str(m, name);
    t->type = type;
    t->dims = dup_mem(m, dims, sizeof *dims * ndim);
    t->ndim = ndim;
    t->buffer = buffer;
    if (q != NULL && q->count > 0) {
        t->quantized = 1;
        t->qcount = q->count;
        t->scales = dup_mem(m, q->scales, sizeof(float) * q->count);
        t->zero_points = calloc(q->count, sizeof(int64_t));
        if (t->zero_points == NULL)
            m->failed = 1;
        else if (q->zero_points != NULL)
            memcpy(t->zero_points, q->zero_points, sizeof(int64_t) * q->count);
        t->quant_dim = q->quant_dim;
    }
    return (int)(m->n_tensors - 1);
}

static int find_opcode(tw_model *m, int32_t builtin, const char *custom)
{
    for (size_t i = 0; i < m->n_opcodes; i++) {
        const w_opcode *c = &m->opcodes[i];
        if (c->builtin == builtin && (c->custom == NULL) == (custom == NULL) &&
            (custom == NULL || strcmp(c->custom, custom) == 0))
            return (int)i;
    }
    w_opcode *c = grow(m, (void **)&m->opcodes, &m->n_opcodes, sizeof *c);
    if (c == NULL)
        return -1;
    c->builtin = builtin;
    c->custom = dup_str(m, custom);
    return (int)(m->n_opcodes - 1);
}

static int add_op(tw_model *m, int32_t builtin, const char *custom, const int32_t *inputs,
                  uint32_t n_in, const int32_t *outputs, uint32_t n_out, const tw_options *opts)
{
    int code = find_opcode(m, builtin, custom);
    if (code < 0)
        return -1;
    w_operator *op = grow(m, (void **)&m->ops, &m->n_ops, sizeof *op);
    if (op == NULL)
        return -1;
    op->opcode = (uint32_t)code;
    op->inputs = dup_mem(m, inputs, sizeof *inputs * n_in);
    op->outputs = dup_mem(m, outputs, sizeof *outputs * n_out);
    op->n_in = n_in;
    op->n_out = n_out;
    if (opts != NULL) {
        op->opts = *opts;
        if (op->opts.count > 16) {
            m->failed = 1;
            op->opts.count = 0;
        }
        for (uint32_t i = 0; i < op->opts.count; i++) {
            tw_field *f = &op->opts.fields[i];
            if (f->kind == TW_VEC_I32)
                f->v = dup_mem(m, f->v, sizeof *f->v * f->n);
        }
    }
    return (int)(m->n_ops - 1);
}

int tw_operator(tw_model *m, int32_t builtin, const int32_t *inputs, uint32_t n_in,
                const int32_t *outputs, uint32_t n_out, const tw_options *opts)
{
    return add_op(m, builtin, NULL, inputs, n_in, outputs, n_out, opts);
}

int tw_custom_operator(tw_model *m, const char *custom_code, const int32_t *inputs, uint32_t n_in,
                       const int32_t *outputs, uint32_t n_out)
{
    return add_op(m, BUILTIN_CUSTOM, custom_code ? custom_code : "", inputs, n_in, outputs, n_out,
                  NULL);
}

static void set_list(tw_model *m, int32_t **dst, uint32_t *dst_n, const int32_t *src, uint32_t n)
{
    free(*dst);
    *dst = dup_mem(m, src, sizeof *src * n);
    *dst_n = *dst ? n : 0;
}

void tw_inputs(tw_model *m, const int32_t *tensors, uint32_t n)
{
    set_list(m, &m->inputs, &m->n_inputs, tensors, n);
}

void tw_outputs(tw_model *m, const int32_t *tensors, uint32_t n)
{
    set_list(m, &m->outputs, &m->n_outputs, tensors, n);
}

/* ---- checking ---- */

static int tensor_list_ok(const tw_model *m, const int32_t *idx, uint32_t n, int allow_omitted)
{
    for (uint32_t i = 0; i < n; i++) {
        if (allow_omitted && idx[i] == -1)
            continue;
        if (idx[i] < 0 || (size_t)idx[i] >= m->n_tensors)
            return 0;
    }
    return 1;
}

static int consistent(const tw_model *m)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].buffer < 0 || (size_t)m->tensors[i].buffer >= m->n_buffers ||
            (m->tensors[i].ndim > 0 && m->tensors[i].dims == NULL))
            return 0;
    for (size_t i = 0; i < m->n_ops; i++) {
        const w_operator *op = &m->ops[i];
        if (!tensor_list_ok(m, op->inputs, op->n_in, 1) ||
            !tensor_list_ok(m, op->outputs, op->n_out, 0))
            return 0;
    }
    return tensor_list_ok(m, m->inputs, m->n_inputs, 0) &&
           tensor_list_ok(m, m->outputs, m->n_outputs, 0);
}

/* ---- serializing ---- */

static fbb_ref write_ints(fbb *b, const int32_t *v, uint32_t n)
{
    return fbb_vector(b, v, n, 4, 0);
}

static fbb_ref write_opcode(fbb *b, const void *item)
{
    const w_opcode *c = item;
    fbb_ref custom = c->custom ? fbb_string(b, c->custom, strlen(c->custom)) : 0;
    fbb_table_start(b);
    fbb_add_u8(b, F_OPCODE_DEPRECATED,
               (uint8_t)(c->builtin < DEPRECATED_CODE_MAX ? c->builtin : DEPRECATED_CODE_MAX));
    if (custom)
        fbb_add_ref(b, F_OPCODE_CUSTOM, custom);
    fbb_add_i32(b, F_OPCODE_VERSION, 1);
    fbb_add_i32(b, F_OPCODE_BUILTIN, c->builtin);
    return fbb_table_end(b);
}

static fbb_ref write_buffer(fbb *b, const void *item)
{
    const w_buffer *buf = item;
    fbb_ref data = buf->len ? fbb_vector(b, buf->data, buf->len, 1, BUFFER_ALIGN) : 0;
    fbb_table_start(b);
    if (data)
        fbb_add_ref(b, F_BUFFER_DATA, data);
    return fbb_table_end(b);
}

static fbb_ref write_quant(fbb *b, const w_tensor *t)
{
    fbb_ref scales = fbb_vector(b, t->scales, t->qcount, 4, 0);
    fbb_ref zps = fbb_vector(b, t->zero_points, t->qcount, 8, 0);
    fbb_table_start(b);
    fbb_add_ref(b, F_Q_SCALE, scales);
    fbb_add_ref(b, F_Q_ZERO_POINT, zps);
    fbb_add_i32(b, F_Q_DIM, t->quant_dim);
    return fbb_table_end(b);
}

static fbb_ref write_tensor(fbb *b, const void *item)
{
    const w_tensor *t = item;
    fbb_ref shape = write_ints(b, t->dims, t->ndim);
    fbb_ref name = t->name ? fbb_string(b, t->name, strlen(t->name)) : 0;
    fbb_ref quant = t->quantized ? write_quant(b, t) : 0;
    fbb_table_start(b);
    fbb_add_ref(b, F_T_SHAPE, shape);
    fbb_add_u8(b, F_T_TYPE, (uint8_t)t->type);
    fbb_add_u32(b, F_T_BUFFER, (uint32_t)t->buffer);
    if (name)
        fbb_add_ref(b, F_T_NAME, name);
    if (quant)
        fbb_add_ref(b, F_T_QUANT, quant);
    return fbb_table_end(b);
}

static fbb_ref write_options(fbb *b, const tw_options *o)
{
    fbb_ref vecs[16] = {0};
    for (uint32_t i = 0; i < o->count; i++)
        if (o->fields[i].kind == TW_VEC_I32)
            vecs[i] = write_ints(b, o->fields[i].v, o->fields[i].n);
    fbb_table_start(b);
    for (uint32_t i = 0; i < o->count; i++) {
        const tw_field *f = &o->fields[i];
        switch (f->kind) {
        case TW_I32: fbb_add_i32(b, f->id, f->i); break;
        case TW_U8: fbb_add_u8(b, f->id, (uint8_t)f->i); break;
        case TW_BOOL: fbb_add_u8(b, f->id, f->i != 0); break;
        case TW_F32: fbb_add_f32(b, f->id, f->f); break;
        case TW_VEC_I32: fbb_add_ref(b, f->id, vecs[i]); break;
        }
    }
    return fbb_table_end(b);
}

static fbb_ref write_operator(fbb *b, const void *item)
{
    const w_operator *op = item;
    fbb_ref in = write_ints(b, op->inputs, op->n_in);
    fbb_ref out = write_ints(b, op->outputs, op->n_out);
    fbb_ref opts = op->opts.type ? write_options(b, &op->opts) : 0;
    fbb_table_start(b);
    fbb_add_u32(b, F_OP_OPCODE, op->opcode);
    fbb_add_ref(b, F_OP_INPUTS, in);
    fbb_add_ref(b, F_OP_OUTPUTS, out);
    if (opts) {
        fbb_add_u8(b, F_OP_OPTIONS_TYPE, op->opts.type);
        fbb_add_ref(b, F_OP_OPTIONS, opts);
    }
    return fbb_table_end(b);
}

typedef fbb_ref (*write_fn)(fbb *b, const void *item);

/* Writes each of n items of elem bytes with fn, then the vector of their references. */
static fbb_ref write_tables(fbb *b, const void *items, size_t n, size_t elem, write_fn fn)
{
    fbb_ref *refs = calloc(n ? n : 1, sizeof *refs);
    if (refs == NULL) {
        b->failed = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        refs[i] = fn(b, (const uint8_t *)items + i * elem);
    fbb_ref vec = fbb_vector_refs(b, refs, n);
    free(refs);
    return vec;
}

static fbb_ref write_subgraph(fbb *b, const tw_model *m)
{
    fbb_ref tensors = write_tables(b, m->tensors, m->n_tensors, sizeof(w_tensor), write_tensor);
    fbb_ref ops = write_tables(b, m->ops, m->n_ops, sizeof(w_operator), write_operator);
    fbb_ref in = write_ints(b, m->inputs, m->n_inputs);
    fbb_ref out = write_ints(b, m->outputs, m->n_outputs);
    fbb_table_start(b);
    fbb_add_ref(b, F_SG_TENSORS, tensors);
    fbb_add_ref(b, F_SG_INPUTS, in);
    fbb_add_ref(b, F_SG_OUTPUTS, out);
    fbb_add_ref(b, F_SG_OPS, ops);
    return fbb_table_end(b);
}

int tw_finish(tw_model *m, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (m->failed || !consistent(m))
        return -1;
    fbb b;
    fbb_init(&b);
    /* Buffers first: written back to front, their data ends up at the end of the file. */
    fbb_ref buffers = write_tables(&b, m->buffers, m->n_buffers, sizeof(w_buffer), write_buffer);
    fbb_ref sg = write_subgraph(&b, m);
    fbb_ref subgraphs = fbb_vector_refs(&b, &sg, 1);
    fbb_ref opcodes = write_tables(&b, m->opcodes, m->n_opcodes, sizeof(w_opcode), write_opcode);
    fbb_ref desc = m->description ? fbb_string(&b, m->description, strlen(m->description)) : 0;
    fbb_table_start(&b);
    fbb_add_u32(&b, F_MODEL_VERSION, SCHEMA_VERSION);
    fbb_add_ref(&b, F_MODEL_OPCODES, opcodes);
    fbb_add_ref(&b, F_MODEL_SUBGRAPHS, subgraphs);
    if (desc)
        fbb_add_ref(&b, F_MODEL_DESCRIPTION, desc);
    fbb_add_ref(&b, F_MODEL_BUFFERS, buffers);
    fbb_ref root = fbb_table_end(&b);
    int rc = fbb_finish(&b, root, "TFL3", out, len);
    fbb_free(&b);
    return rc;
}
