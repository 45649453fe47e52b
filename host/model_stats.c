/*
 * Static model facts (see model_stats.h).
 */
#include "model_stats.h"

#include <stdlib.h>
#include <string.h>

#include "host.h"

enum { OP_CONV_2D = 3, OP_DEPTHWISE_CONV_2D = 4, OP_FULLY_CONNECTED = 9 };

static void count_op(model_stats *st, int32_t code)
{
    uint32_t i = 0;
    while (i < st->op_kinds && st->op_code[i] < code)
        i++;
    if (i < st->op_kinds && st->op_code[i] == code) {
        st->op_count[i]++;
        return;
    }
    if (st->op_kinds == STATS_MAX_OP_KINDS)
        return;
    memmove(&st->op_code[i + 1], &st->op_code[i], (st->op_kinds - i) * sizeof st->op_code[0]);
    memmove(&st->op_count[i + 1], &st->op_count[i], (st->op_kinds - i) * sizeof st->op_count[0]);
    st->op_code[i] = code;
    st->op_count[i] = 1;
    st->op_kinds++;
}

/* Multiply-accumulates of one operator: output elements times the terms summed for each. */
static uint64_t op_macs(const tmo_model *m, const tmo_op_info *op)
{
    tmo_tensor_info out, w;
    if (op->output_count < 1 || op->input_count < 2 || op->inputs[1] < 0)
        return 0;
    if (tmo_model_tensor(m, (uint32_t)op->outputs[0], &out) != TMO_OK ||
        tmo_model_tensor(m, (uint32_t)op->inputs[1], &w) != TMO_OK)
        return 0;
    switch (op->builtin) {
    case OP_CONV_2D: /* filter [out_c, kh, kw, in_c] */
        return w.ndim == 4 ? (uint64_t)out.elements * (uint64_t)w.dims[1] * (uint64_t)w.dims[2] *
                                 (uint64_t)w.dims[3]
                           : 0;
    case OP_DEPTHWISE_CONV_2D: /* filter [1, kh, kw, out_c] */
        return w.ndim == 4 ? (uint64_t)out.elements * (uint64_t)w.dims[1] * (uint64_t)w.dims[2] : 0;
    case OP_FULLY_CONNECTED: /* weights [units, depth] */
        return w.ndim == 2 ? (uint64_t)out.elements * (uint64_t)w.dims[1] : 0;
    default:
        return 0;
    }
}

tmo_err model_stats_compute(const tmo_model *m, model_stats *st, tmo_diag *diag)
{
    memset(st, 0, sizeof *st);
    for (uint32_t i = 0; i < m->op_count; i++) {
        tmo_op_info op;
        if (tmo_model_op(m, i, &op) != TMO_OK)
            continue;
        count_op(st, op.builtin);
        st->macs += op_macs(m, &op);
    }
    uint8_t *seen = calloc(m->buffer_count ? m->buffer_count : 1, 1);
    if (seen == NULL)
        return TMO_ENOSPC;
    for (uint32_t t = 0; t < m->tensor_count; t++) {
        tmo_tensor_info ti;
        if (tmo_model_tensor(m, t, &ti) == TMO_OK && ti.data != NULL && !seen[ti.buffer]) {
            seen[ti.buffer] = 1;
            st->weight_bytes += ti.bytes;
        }
    }
    free(seen);
    tmo_err e = host_arena_size(m, &st->arena_bytes, diag);
    if (e == TMO_OK) {
        /* Split of the arena, from a second prepare in exactly the reported size. */
        void *arena = aligned_alloc(16, (st->arena_bytes + 15) & ~(size_t)15);
        tmo_interp it;
        if (arena != NULL && tmo_interp_init(&it, m, arena, st->arena_bytes, diag) == TMO_OK) {
            st->persistent_bytes = it.persistent_bytes;
            st->activation_bytes = it.activation_bytes;
        }
        free(arena);
    }
    return e;
}
