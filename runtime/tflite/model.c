/*
 * TFLite model reader: gives the schema's fields their meaning and checks
 * every one the runtime will use. tmo_model_parse() visits each opcode,
 * buffer, tensor and operator of the executed subgraph once through the same
 * accessors the interpreter uses later, so a model that parses can not make
 * those accessors fail.
 */
#include "tinymlops/model.h"

#include <string.h>

#include "../diag.h"
#include "fb.h"
#include "schema_ids.h"

#define MAX_TENSOR_BYTES 0x7fffffffu

static fb_buf buf_of(const tmo_model *m)
{
    fb_buf b = {m->base, (uint32_t)m->len};
    return b;
}

const char *tmo_type_name(int32_t type)
{
    static const char *const names[] = {
        "FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL", "INT16",
        "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT",
        "UINT32", "UINT16", "INT4", "BFLOAT16", "INT2", "UINT4", "FLOAT8_E4M3FN", "FLOAT8_E5M2"};
    if (type < 0 || type >= (int32_t)(sizeof names / sizeof names[0]))
        return "UNKNOWN";
    return names[type];
}

size_t tmo_type_size(int32_t type)
{
    switch (type) {
    case TMO_FLOAT32: case TMO_INT32: return 4;
    case TMO_INT64: return 8;
    case TMO_FLOAT16: case TMO_INT16: return 2;
    case TMO_UINT8: case TMO_INT8: case TMO_BOOL: return 1;
    default: return 0;
    }
}

static tmo_err(bad)(tmo_diag *d, tmo_where w, int32_t i, const char *field, const char *problem)
{
    return diag_set(d, TMO_EBADMODEL, w, i, field, problem);
}
#define bad(d, w, i, field, problem) bad(d, w, i, field, TMO_DIAG_TEXT(problem))

static tmo_err subgraph_table(const tmo_model *m, fb_table *sg)
{
    fb_buf b = buf_of(m);
    fb_table root;
    uint32_t first, count;
    tmo_err e = fb_table_at(&b, fb_load_u32(m->base), &root);
    if (e == TMO_OK)
        e = fb_vector(&b, &root, MODEL_SUBGRAPHS, 4, &first, &count);
    if (e == TMO_OK)
        e = count == 0 ? TMO_EBADMODEL : fb_vector_table(&b, first, 0, sg);
    return e;
}

static tmo_err int_vector(const fb_buf *b, const fb_table *t, unsigned id, uint32_t *first,
                          uint32_t *count)
{
    return fb_vector(b, t, id, 4, first, count);
}

/* ---- opcodes and buffers ---- */

static tmo_err opcode_info(const tmo_model *m, uint32_t idx, tmo_op_info *op, tmo_diag *d)
{
    fb_buf b = buf_of(m);
    fb_table t;
    uint8_t deprecated;
    int32_t code;
    if (fb_vector_table(&b, m->opcodes_at, idx, &t) != TMO_OK)
        return bad(d, TMO_AT_OPCODE, (int32_t)idx, "operator_codes", "table out of bounds");
    if (fb_u8(&b, &t, OPCODE_DEPRECATED, 0, &deprecated) != TMO_OK ||
        fb_i32(&b, &t, OPCODE_BUILTIN, 0, &code) != TMO_OK ||
        fb_i32(&b, &t, OPCODE_VERSION, 1, &op->version) != TMO_OK)
        return bad(d, TMO_AT_OPCODE, (int32_t)idx, "operator_code", "field out of bounds");
    if (fb_string(&b, &t, OPCODE_CUSTOM, &op->custom_name, &op->custom_name_len) != TMO_OK)
        return bad(d, TMO_AT_OPCODE, (int32_t)idx, "operator_code.custom_code",
                   "string out of bounds");
    /* Schema rule: the real code is the larger of the two fields (old files only set the byte). */
    int32_t dep = (int8_t)deprecated;
    op->builtin = code > dep ? code : dep;
    if (op->builtin < 0) {
        bad(d, TMO_AT_OPCODE, (int32_t)idx, "operator_code.builtin_code", "negative operator code");
        diag_value(d, op->builtin);
        return TMO_EBADMODEL;
    }
    return TMO_OK;
}

/* Constant data of buffer idx: *data = NULL, *size = 0 when the buffer is empty. */
static tmo_err buffer_data(const tmo_model *m, uint32_t idx, const uint8_t **data, uint64_t *size,
                           tmo_diag *d)
{
    fb_buf b = buf_of(m);
    fb_table t;
    uint32_t first, count;
    uint64_t off, sz;
    *data = NULL;
    *size = 0;
    if (fb_vector_table(&b, m->buffers_at, idx, &t) != TMO_OK)
        return bad(d, TMO_AT_BUFFER, (int32_t)idx, "buffers", "table out of bounds");
    if (fb_vector(&b, &t, BUFFER_DATA, 1, &first, &count) != TMO_OK)
        return bad(d, TMO_AT_BUFFER, (int32_t)idx, "buffer.data", "vector out of bounds");
    if (fb_u64(&b, &t, BUFFER_OFFSET, 0, &off) != TMO_OK ||
        fb_u64(&b, &t, BUFFER_SIZE, 0, &sz) != TMO_OK)
        return bad(d, TMO_AT_BUFFER, (int32_t)idx, "buffer.offset", "field out of bounds");
    if (count > 0) {
        *data = m->base + first;
        *size = count;
    } else if (off > 1) {
        /* Large-model layout: data lives after the flatbuffer, offset from the file start. */
        if (off > m->len || sz > m->len - off) {
            bad(d, TMO_AT_BUFFER, (int32_t)idx, "buffer.offset", "data extends past the model");
            diag_limit(d, (int64_t)(off + sz), (int64_t)m->len);
            return TMO_EBADMODEL;
        }
        *data = m->base + off;
        *size = sz;
    }
    return TMO_OK;
}

/* ---- tensors ---- */

static tmo_err tensor_quant(const fb_buf *b, const fb_table *t, tmo_tensor_info *ti, int32_t idx,
                            tmo_diag *d)
{
    fb_table q;
    int present;
    uint32_t s_first, s_count, z_first, z_count;
    uint8_t details;
    if (fb_subtable(b, t, TENSOR_QUANT, &q, &present) != TMO_OK)
        return bad(d, TMO_AT_TENSOR, idx, "tensor.quantization", "table out of bounds");
    if (!present)
        return TMO_OK;
    if (fb_vector(b, &q, QUANT_SCALE, 4, &s_first, &s_count) != TMO_OK)
        return bad(d, TMO_AT_TENSOR, idx, "quantization.scale", "vector out of bounds");
    if (fb_vector(b, &q, QUANT_ZERO_POINT, 8, &z_first, &z_count) != TMO_OK)
        return bad(d, TMO_AT_TENSOR, idx, "quantization.zero_point", "vector out of bounds");
    if (fb_u8(b, &q, QUANT_DETAILS_TYPE, 0, &details) != TMO_OK ||
        fb_i32(b, &q, QUANT_DIM, 0, &ti->quant_dim) != TMO_OK)
        return bad(d, TMO_AT_TENSOR, idx, "quantization", "field out of bounds");
    if (details != 0)
        return diag_set(d, TMO_EUNSUPPORTED, TMO_AT_TENSOR, idx, "quantization.details",
                        "custom quantization is not supported");
    if (s_count == 0)
        return TMO_OK;
    if (z_count != 0 && z_count != s_count) {
        bad(d, TMO_AT_TENSOR, idx, "quantization.zero_point", "count differs from scale count");
        diag_limit(d, z_count, s_count);
        return TMO_EBADMODEL;
    }
    if (s_count > 1 && ti->ndim == 1 && ti->quant_dim > 0 && s_count == (uint32_t)ti->dims[0]) {
        /* Converters copy the filter's quantized_dimension (3 for depthwise) onto the 1-D
         * per-channel bias; its only axis is the channel axis. */
        ti->quant_dim = 0;
    }
    if (s_count > 1) {
        if (ti->quant_dim < 0 || (uint32_t)ti->quant_dim >= ti->ndim) {
            bad(d, TMO_AT_TENSOR, idx, "quantization.quantized_dimension", "not a dimension of the tensor");
            diag_limit(d, ti->quant_dim, ti->ndim);
            return TMO_EBADMODEL;
        }
        if ((int64_t)s_count != ti->dims[ti->quant_dim]) {
            bad(d, TMO_AT_TENSOR, idx, "quantization.scale",
                "per-channel scale count differs from the quantized dimension");
            diag_limit(d, s_count, ti->dims[ti->quant_dim]);
            return TMO_EBADMODEL;
        }
    }
    ti->scale_count = s_count;
    ti->scales_le = b->b + s_first;
    ti->zero_points_le = z_count ? b->b + z_first : NULL;
    for (uint32_t i = 0; i < s_count; i++) {
        float s = fb_load_f32(ti->scales_le + 4u * i);
        /* Negated test so that NaN fails too. */
        if (!(s >= 0.0f && s <= 3.4e38f))
            return bad(d, TMO_AT_TENSOR, idx, "quantization.scale", "scale is negative or not finite");
        if (ti->zero_points_le != NULL) {
            int64_t zp = fb_load_i64(ti->zero_points_le + 8u * i);
            int64_t lo = ti->type == TMO_UINT8 ? 0 : ti->type == TMO_INT16 ? -32768 : -128;
            int64_t hi = ti->type == TMO_UINT8 ? 255 : ti->type == TMO_INT16 ? 32767 : 127;
            if ((ti->type == TMO_INT8 || ti->type == TMO_UINT8 || ti->type == TMO_INT16) &&
                (zp < lo || zp > hi)) {
                bad(d, TMO_AT_TENSOR, idx, "quantization.zero_point", "outside the type's range");
                diag_value(d, zp);
                return TMO_EBADMODEL;
            }
            if (zp < INT32_MIN || zp > INT32_MAX) {
                bad(d, TMO_AT_TENSOR, idx, "quantization.zero_point", "outside int32");
                diag_value(d, zp);
                return TMO_EBADMODEL;
            }
        }
    }
    ti->scale = fb_load_f32(ti->scales_le);
    ti->zero_point = ti->zero_points_le ? (int32_t)fb_load_i64(ti->zero_points_le) : 0;
    return TMO_OK;
}

static tmo_err tensor_shape(const fb_buf *b, const fb_table *t, tmo_tensor_info *ti, int32_t idx,
                            tmo_diag *d)
{
    uint32_t first, count;
    uint64_t elements = 1;
    if (int_vector(b, t, TENSOR_SHAPE, &first, &count) != TMO_OK)
        return bad(d, TMO_AT_TENSOR, idx, "tensor.shape", "vector out of bounds");
    if (count > TMO_MAX_DIMS) {
        diag_set(d, TMO_EUNSUPPORTED, TMO_AT_TENSOR, idx, "tensor.shape", "too many dimensions");
        diag_limit(d, count, TMO_MAX_DIMS);
        return TMO_EUNSUPPORTED;
    }
    ti->ndim = count;
    for (uint32_t i = 0; i < count; i++) {
        int32_t dim = fb_load_i32(b->b + first + 4u * i);
        if (dim <= 0) {
            bad(d, TMO_AT_TENSOR, idx, "tensor.shape", "dimension is not positive");
            diag_value(d, dim);
            return TMO_EBADMODEL;
        }
        ti->dims[i] = dim;
        elements *= (uint64_t)dim;
        if (elements > MAX_TENSOR_BYTES) {
            bad(d, TMO_AT_TENSOR, idx, "tensor.shape", "tensor is larger than 2 GiB");
            return TMO_EBADMODEL;
        }
    }
    ti->elements = (size_t)elements;
    return TMO_OK;
}

static tmo_err tensor_data(const tmo_model *m, tmo_tensor_info *ti, int32_t idx, tmo_diag *d)
{
    const uint8_t *data;
    uint64_t size;
    size_t esize = tmo_type_size(ti->type);
    tmo_err e;
    if (ti->buffer >= m->buffer_count) {
        bad(d, TMO_AT_TENSOR, idx, "tensor.buffer", "buffer index out of range");
        diag_limit(d, ti->buffer, m->buffer_count);
        return TMO_EBADMODEL;
    }
    if ((e = buffer_data(m, ti->buffer, &data, &size, d)) != TMO_OK)
        return e;
    if (data == NULL)
        return TMO_OK;
    if (esize == 0)
        return diag_set(d, TMO_EUNSUPPORTED, TMO_AT_TENSOR, idx, "tensor.type",
                        "constant data of a type without fixed element size");
    if (size != ti->bytes) {
        bad(d, TMO_AT_TENSOR, idx, "tensor.buffer", "data size differs from shape x element size");
        diag_limit(d, (int64_t)size, (int64_t)ti->bytes);
        return TMO_EBADMODEL;
    }
    if (((uintptr_t)data & (esize - 1u)) != 0) {
        bad(d, TMO_AT_TENSOR, idx, "tensor.buffer", "data is not aligned to its element size");
        d->offset = (uint32_t)(data - m->base);
        return TMO_EBADMODEL;
    }
    ti->data = data;
    return TMO_OK;
}

static tmo_err tensor_info(const tmo_model *m, uint32_t idx, tmo_tensor_info *ti, tmo_diag *d)
{
    fb_buf b = buf_of(m);
    fb_table t, sparsity;
    uint8_t type, is_variable;
    int present;
    int32_t i = (int32_t)idx;
    tmo_err e;
    memset(ti, 0, sizeof *ti);
    if (fb_vector_table(&b, m->tensors_at, idx, &t) != TMO_OK)
        return bad(d, TMO_AT_TENSOR, i, "subgraph.tensors", "table out of bounds");
    if (fb_u8(&b, &t, TENSOR_TYPE, 0, &type) != TMO_OK ||
        fb_u32(&b, &t, TENSOR_BUFFER, 0, &ti->buffer) != TMO_OK ||
        fb_u8(&b, &t, TENSOR_IS_VARIABLE, 0, &is_variable) != TMO_OK)
        return bad(d, TMO_AT_TENSOR, i, "tensor", "field out of bounds");
    if (fb_string(&b, &t, TENSOR_NAME, &ti->name, &ti->name_len) != TMO_OK)
        return bad(d, TMO_AT_TENSOR, i, "tensor.name", "string out of bounds");
    ti->type = (int8_t)type;
    if (ti->type < 0 || ti->type > 22) {
        bad(d, TMO_AT_TENSOR, i, "tensor.type", "not a TensorType value");
        diag_value(d, ti->type);
        return TMO_EBADMODEL;
    }
    if ((e = tensor_shape(&b, &t, ti, i, d)) != TMO_OK)
        return e;
    if ((uint64_t)ti->elements * tmo_type_size(ti->type) > MAX_TENSOR_BYTES)
        return bad(d, TMO_AT_TENSOR, i, "tensor.shape", "tensor is larger than 2 GiB");
    ti->bytes = ti->elements * tmo_type_size(ti->type);
    if ((e = tensor_quant(&b, &t, ti, i, d)) != TMO_OK)
        return e;
    if (fb_subtable(&b, &t, TENSOR_SPARSITY, &sparsity, &present) != TMO_OK)
        return bad(d, TMO_AT_TENSOR, i, "tensor.sparsity", "table out of bounds");
    if (present)
        return diag_set(d, TMO_EUNSUPPORTED, TMO_AT_TENSOR, i, "tensor.sparsity",
                        "sparse tensors are not supported");
    if (is_variable)
        return diag_set(d, TMO_EUNSUPPORTED, TMO_AT_TENSOR, i, "tensor.is_variable",
                        "variable (stateful) tensors are not supported");
    return tensor_data(m, ti, i, d);
}

/* ---- operators ---- */

static tmo_err index_list(const tmo_model *m, const fb_table *t, unsigned id, int allow_omitted,
                          int32_t *out, uint32_t *n, int32_t opi, const char *field, tmo_diag *d)
{
    fb_buf b = buf_of(m);
    uint32_t first, count;
    if (int_vector(&b, t, id, &first, &count) != TMO_OK)
        return bad(d, TMO_AT_OPERATOR, opi, field, "vector out of bounds");
    if (count > TMO_MAX_OP_IO) {
        diag_set(d, TMO_EUNSUPPORTED, TMO_AT_OPERATOR, opi, field, "too many tensors");
        diag_limit(d, count, TMO_MAX_OP_IO);
        return TMO_EUNSUPPORTED;
    }
    for (uint32_t i = 0; i < count; i++) {
        int32_t v = fb_load_i32(m->base + first + 4u * i);
        if (v < (allow_omitted ? -1 : 0) || v >= (int32_t)m->tensor_count) {
            bad(d, TMO_AT_OPERATOR, opi, field, "tensor index out of range");
            diag_limit(d, v, m->tensor_count);
            return TMO_EBADMODEL;
        }
        out[i] = v;
    }
    *n = count;
    return TMO_OK;
}

static tmo_err op_info(const tmo_model *m, uint32_t idx, tmo_op_info *op, tmo_diag *d)
{
    fb_buf b = buf_of(m);
    fb_table t, opts;
    uint32_t opcode, first, count;
    int present;
    int32_t i = (int32_t)idx;
    tmo_err e;
    memset(op, 0, sizeof *op);
    if (fb_vector_table(&b, m->ops_at, idx, &t) != TMO_OK)
        return bad(d, TMO_AT_OPERATOR, i, "subgraph.operators", "table out of bounds");
    if (fb_u32(&b, &t, OP_OPCODE, 0, &opcode) != TMO_OK ||
        fb_u8(&b, &t, OP_OPTIONS_TYPE, 0, &op->options_type) != TMO_OK)
        return bad(d, TMO_AT_OPERATOR, i, "operator", "field out of bounds");
    if (opcode >= m->opcode_count) {
        bad(d, TMO_AT_OPERATOR, i, "operator.opcode_index", "index out of range");
        diag_limit(d, opcode, m->opcode_count);
        return TMO_EBADMODEL;
    }
    if ((e = opcode_info(m, opcode, op, d)) != TMO_OK)
        return e;
    if ((e = index_list(m, &t, OP_INPUTS, 1, op->inputs, &op->input_count, i, "operator.inputs", d)))
        return e;
    if ((e = index_list(m, &t, OP_OUTPUTS, 0, op->outputs, &op->output_count, i, "operator.outputs",
                        d)))
        return e;
    if (int_vector(&b, &t, OP_INTERMEDIATES, &first, &count) != TMO_OK)
        return bad(d, TMO_AT_OPERATOR, i, "operator.intermediates", "vector out of bounds");
    if (fb_subtable(&b, &t, OP_OPTIONS, &opts, &present) != TMO_OK)
        return bad(d, TMO_AT_OPERATOR, i, "operator.builtin_options", "table out of bounds");
    if (present != (op->options_type != 0))
        return bad(d, TMO_AT_OPERATOR, i, "operator.builtin_options",
                   "options type and table disagree");
    op->options_at = present ? opts.pos : 0;
    return TMO_OK;
}

/* ---- model ---- */

static tmo_err parse_root(tmo_model *m, tmo_diag *d)
{
    fb_buf b = buf_of(m);
    fb_table root, sg;
    uint32_t first;
    if (m->len < 8 || fb_table_at(&b, fb_load_u32(m->base), &root) != TMO_OK)
        return bad(d, TMO_AT_MODEL, -1, "root", "no valid root table");
    if (fb_u32(&b, &root, MODEL_VERSION, 0, &m->version) != TMO_OK)
        return bad(d, TMO_AT_MODEL, -1, "model.version", "field out of bounds");
    if (m->version != 3) {
        diag_set(d, TMO_EUNSUPPORTED, TMO_AT_MODEL, -1, "model.version", "schema version is not 3");
        diag_value(d, m->version);
        return TMO_EUNSUPPORTED;
    }
    if (fb_vector(&b, &root, MODEL_OPCODES, 4, &m->opcodes_at, &m->opcode_count) != TMO_OK)
        return bad(d, TMO_AT_MODEL, -1, "model.operator_codes", "vector out of bounds");
    if (fb_vector(&b, &root, MODEL_BUFFERS, 4, &m->buffers_at, &m->buffer_count) != TMO_OK)
        return bad(d, TMO_AT_MODEL, -1, "model.buffers", "vector out of bounds");
    if (fb_string(&b, &root, MODEL_DESCRIPTION, &m->description, &m->description_len) != TMO_OK)
        return bad(d, TMO_AT_MODEL, -1, "model.description", "string out of bounds");
    if (fb_vector(&b, &root, MODEL_SUBGRAPHS, 4, &first, &m->subgraph_count) != TMO_OK)
        return bad(d, TMO_AT_MODEL, -1, "model.subgraphs", "vector out of bounds");
    if (m->subgraph_count == 0)
        return bad(d, TMO_AT_MODEL, -1, "model.subgraphs", "model has no subgraph");
    if (subgraph_table(m, &sg) != TMO_OK)
        return bad(d, TMO_AT_SUBGRAPH, 0, "model.subgraphs", "table out of bounds");
    if (fb_vector(&b, &sg, SUBGRAPH_TENSORS, 4, &m->tensors_at, &m->tensor_count) != TMO_OK)
        return bad(d, TMO_AT_SUBGRAPH, 0, "subgraph.tensors", "vector out of bounds");
    if (fb_vector(&b, &sg, SUBGRAPH_OPS, 4, &m->ops_at, &m->op_count) != TMO_OK)
        return bad(d, TMO_AT_SUBGRAPH, 0, "subgraph.operators", "vector out of bounds");
    if (int_vector(&b, &sg, SUBGRAPH_INPUTS, &m->inputs_at, &m->input_count) != TMO_OK)
        return bad(d, TMO_AT_SUBGRAPH, 0, "subgraph.inputs", "vector out of bounds");
    if (int_vector(&b, &sg, SUBGRAPH_OUTPUTS, &m->outputs_at, &m->output_count) != TMO_OK)
        return bad(d, TMO_AT_SUBGRAPH, 0, "subgraph.outputs", "vector out of bounds");
    return TMO_OK;
}

static tmo_err check_limits(const tmo_model *m, tmo_diag *d)
{
    if (m->tensor_count > TMO_MAX_TENSORS) {
        diag_set(d, TMO_EUNSUPPORTED, TMO_AT_SUBGRAPH, 0, "subgraph.tensors", "too many tensors");
        diag_limit(d, m->tensor_count, TMO_MAX_TENSORS);
        return TMO_EUNSUPPORTED;
    }
    if (m->op_count > TMO_MAX_OPS) {
        diag_set(d, TMO_EUNSUPPORTED, TMO_AT_SUBGRAPH, 0, "subgraph.operators", "too many operators");
        diag_limit(d, m->op_count, TMO_MAX_OPS);
        return TMO_EUNSUPPORTED;
    }
    if (m->input_count == 0 || m->output_count == 0)
        return bad(d, TMO_AT_SUBGRAPH, 0, "subgraph.inputs", "subgraph has no inputs or no outputs");
    return TMO_OK;
}

static tmo_err check_io(const tmo_model *m, uint32_t at, uint32_t count, const char *field,
                        tmo_diag *d)
{
    for (uint32_t i = 0; i < count; i++) {
        int32_t t = fb_load_i32(m->base + at + 4u * i);
        if (t < 0 || t >= (int32_t)m->tensor_count) {
            bad(d, TMO_AT_SUBGRAPH, 0, field, "tensor index out of range");
            diag_limit(d, t, m->tensor_count);
            return TMO_EBADMODEL;
        }
    }
    return TMO_OK;
}

tmo_err tmo_model_parse(tmo_model *m, const void *data, size_t len, tmo_diag *d)
{
    tmo_diag_clear(d);
    if (m == NULL || data == NULL)
        return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "model", "NULL argument");
    if (((uintptr_t)data & 3u) != 0)
        return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "model",
                        "model bytes must start at a 4-byte aligned address");
    if (len > MAX_TENSOR_BYTES)
        return diag_set(d, TMO_EUNSUPPORTED, TMO_AT_MODEL, -1, "model", "model is larger than 2 GiB");
    tmo_model tmp = {0};
    tmp.base = (const uint8_t *)data;
    tmp.len = len;
    tmo_err e = parse_root(&tmp, d);
    if (e == TMO_OK)
        e = check_limits(&tmp, d);
    if (e == TMO_OK)
        e = check_io(&tmp, tmp.inputs_at, tmp.input_count, "subgraph.inputs", d);
    if (e == TMO_OK)
        e = check_io(&tmp, tmp.outputs_at, tmp.output_count, "subgraph.outputs", d);
    for (uint32_t i = 0; e == TMO_OK && i < tmp.opcode_count; i++) {
        tmo_op_info op;
        e = opcode_info(&tmp, i, &op, d);
    }
    for (uint32_t i = 0; e == TMO_OK && i < tmp.buffer_count; i++) {
        const uint8_t *p;
        uint64_t size;
        e = buffer_data(&tmp, i, &p, &size, d);
    }
    for (uint32_t i = 0; e == TMO_OK && i < tmp.tensor_count; i++) {
        tmo_tensor_info ti;
        e = tensor_info(&tmp, i, &ti, d);
    }
    for (uint32_t i = 0; e == TMO_OK && i < tmp.op_count; i++) {
        tmo_op_info op;
        e = op_info(&tmp, i, &op, d);
    }
    if (e == TMO_OK)
        *m = tmp;
    return e;
}

tmo_err tmo_model_tensor(const tmo_model *m, uint32_t idx, tmo_tensor_info *out)
{
    if (m == NULL || out == NULL || idx >= m->tensor_count)
        return TMO_EINVAL;
    return tensor_info(m, idx, out, NULL);
}

tmo_err tmo_model_op(const tmo_model *m, uint32_t idx, tmo_op_info *out)
{
    if (m == NULL || out == NULL || idx >= m->op_count)
        return TMO_EINVAL;
    return op_info(m, idx, out, NULL);
}

int32_t tmo_model_input(const tmo_model *m, uint32_t i)
{
    return i < m->input_count ? fb_load_i32(m->base + m->inputs_at + 4u * i) : -1;
}

int32_t tmo_model_output(const tmo_model *m, uint32_t i)
{
    return i < m->output_count ? fb_load_i32(m->base + m->outputs_at + 4u * i) : -1;
}

float tmo_tensor_scale(const tmo_tensor_info *t, uint32_t ch)
{
    return ch < t->scale_count ? fb_load_f32(t->scales_le + 4u * ch) : 0.0f;
}

int64_t tmo_tensor_zero_point(const tmo_tensor_info *t, uint32_t ch)
{
    return ch < t->scale_count && t->zero_points_le ? fb_load_i64(t->zero_points_le + 8u * ch) : 0;
}

/* ---- builtin options ---- */

#define OPTION_GETTER(fn, type, getter, fbtype)                                                \
    tmo_err fn(const tmo_model *m, const tmo_op_info *op, unsigned field, type dflt, type *out)   \
    {                                                                                            \
        fb_buf b = buf_of(m);                                                                    \
        fb_table t;                                                                              \
        fbtype v = (fbtype)dflt;                                                                 \
        *out = dflt;                                                                             \
        if (op->options_at == 0)                                                                 \
            return TMO_OK;                                                                       \
        if (fb_table_at(&b, op->options_at, &t) != TMO_OK ||                                     \
            getter(&b, &t, field, (fbtype)dflt, &v) != TMO_OK)                                   \
            return TMO_EBADMODEL;                                                                \
        *out = (type)v;                                                                          \
        return TMO_OK;                                                                           \
    }

OPTION_GETTER(tmo_opt_i32, int32_t, fb_i32, int32_t)
OPTION_GETTER(tmo_opt_u8, uint8_t, fb_u8, uint8_t)
OPTION_GETTER(tmo_opt_f32, float, fb_f32, float)

tmo_err tmo_opt_vec_i32(const tmo_model *m, const tmo_op_info *op, unsigned field,
                        const uint8_t **values_le, uint32_t *count)
{
    fb_buf b = buf_of(m);
    fb_table t;
    uint32_t first = 0;
    *values_le = NULL;
    *count = 0;
    if (op->options_at == 0)
        return TMO_OK;
    if (fb_table_at(&b, op->options_at, &t) != TMO_OK || int_vector(&b, &t, field, &first, count) != TMO_OK)
        return TMO_EBADMODEL;
    *values_le = *count ? m->base + first : NULL;
    return TMO_OK;
}
