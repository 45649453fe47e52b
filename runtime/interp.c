/*
 * Interpreter: load-time preparation and planning, then invoke.
 *
 * Arena layout (from its 8-byte aligned start):
 *   [tensor_loc: u32 per tensor][nodes][operator parameters] | [activations]
 * The planner's working memory is borrowed from the arena's tail while
 * planning, before any activation exists, so sizing needs no other memory.
 */
#include "tinymlops/interp.h"

#include <string.h>

#include "diag.h"
#include "kernels/kernel.h"
#include "planner.h"

/* tensor_loc values while preparing: not yet placed, or sharing another tensor's memory. */
#define LOC_ALIAS 0x40000000u
#define LOC_NONE 0xffffffffu
/* Arena offsets must stay below LOC_ALIAS, so at most this much of an arena is used. */
#define MAX_ARENA 0x3fffffffu

static int is_const(uint32_t loc)
{
    return loc != LOC_NONE && (loc & TMO_LOC_CONST) != 0;
}

static int is_alias(uint32_t loc)
{
    return loc != LOC_NONE && (loc & (TMO_LOC_CONST | LOC_ALIAS)) == LOC_ALIAS;
}

/* Planner items hold operator and item indices in int16. */
_Static_assert(TMO_MAX_TENSORS + TMO_MAX_OPS <= 32767, "planner indices must fit int16");

#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((size_t)(a)-1))

static tmo_err(op_fail)(tmo_diag *d, const char *name, uint32_t i, tmo_err e, const char *field,
                        const char *problem)
{
    diag_set(d, e, TMO_AT_OPERATOR, (int32_t)i, field, problem);
    if (d != NULL)
        d->op_name = name;
    return e;
}
#define op_fail(d, name, i, e, field, problem) op_fail(d, name, i, e, field, TMO_DIAG_TEXT(problem))

/*
 * Generic checks every operator must pass before its kernel sees it; *reg is
 * its kernel. Operators outside the table are named by ops->name_of when the
 * table has one (tmo_ops_all), else by their builtin code (diag value).
 */
static tmo_err check_op(const tmo_model *m, const tmo_op_table *ops, const tmo_op_info *op,
                        uint32_t i, const tmo_op_reg **reg, tmo_diag *d)
{
    if (op->builtin == 32) {
        op_fail(d, "CUSTOM", i, TMO_EUNSUPPORTED, "operator", "custom operator not supported");
        if (d != NULL) {
            d->name = op->custom_name;
            d->name_len = op->custom_name_len;
        }
        return TMO_EUNSUPPORTED;
    }
    *reg = tmo_op_find(ops, op->builtin);
    if (*reg == NULL) {
        op_fail(d, ops->name_of != NULL ? ops->name_of(op->builtin) : NULL, i, TMO_EUNSUPPORTED,
                "operator", "operator not supported by this build (or not in its op table)");
        diag_value(d, op->builtin);
        return TMO_EUNSUPPORTED;
    }
    const char *name = (*reg)->name;
    for (uint32_t o = 0; o < op->output_count; o++) {
        tmo_tensor_info t;
        if (tmo_model_tensor(m, (uint32_t)op->outputs[o], &t) != TMO_OK || t.data != NULL)
            return op_fail(d, name, i, TMO_EBADMODEL, "operator.outputs",
                           "output tensor has constant data");
        for (uint32_t k = 0; k < op->input_count; k++)
            if (op->inputs[k] == op->outputs[o])
                return op_fail(d, name, i, TMO_EBADMODEL, "operator.outputs",
                               "output tensor is also an input of the same operator");
    }
    return TMO_OK;
}

static tmo_err prepare_all(tmo_interp *it, const tmo_op_table *ops, tmo_prep *p, tmo_diag *d)
{
    const tmo_model *m = it->model;
    for (uint32_t i = 0; i < m->op_count; i++) {
        tmo_op_info op;
        tmo_err e = tmo_model_op(m, i, &op);
        if (e != TMO_OK)
            return diag_set(d, TMO_EBADMODEL, TMO_AT_OPERATOR, (int32_t)i, "operator",
                            "unreadable");
        const tmo_op_reg *reg = NULL;
        if ((e = check_op(m, ops, &op, i, &reg, d)) != TMO_OK)
            return e;
        p->op = &op;
        p->op_name = reg->name;
        p->op_index = i;
        p->invoke = NULL;
        p->params = NULL;
        p->scratch_bytes = 0;
        p->alias_output = 0;
        if ((e = reg->prepare(p)) != TMO_OK)
            return e;
        if (p->invoke == NULL)
            return op_fail(d, reg->name, i, TMO_ESTATE, "kernel",
                           "prepare chose no invoke function");
        it->nodes[i].invoke = p->invoke;
        it->nodes[i].params = p->params;
        it->nodes[i].scratch_bytes = p->scratch_bytes;
        /* Aliasing is recorded in tensor_loc until planning (see plan_arena). */
        if (p->alias_output) {
            uint32_t in_loc = it->tensor_loc[op.inputs[0]];
            it->tensor_loc[op.outputs[0]] =
                is_const(in_loc) ? in_loc : LOC_ALIAS | (uint32_t)op.inputs[0];
        }
    }
    return TMO_OK;
}

/* ---- planning ---- */

typedef struct {
    plan_item *items; /* tensors first, then one scratch item per operator */
    uint16_t *order;
    uint32_t n;
    const tmo_op_table *ops; /* for operator names in errors */
} plan_work;

/* Name of a prepared operator (every one of them is in the table). */
static const char *reg_name(const plan_work *w, const tmo_op_info *op)
{
    const tmo_op_reg *r = tmo_op_find(w->ops, op->builtin);
    return r != NULL ? r->name : NULL;
}

static uint32_t alias_root(const tmo_interp *it, uint32_t t)
{
    /* Alias chains are bounded: each link points to an earlier operator's input. */
    for (uint32_t guard = 0; guard <= it->model->tensor_count; guard++) {
        uint32_t loc = it->tensor_loc[t];
        if (!is_alias(loc))
            return t;
        t = loc & ~LOC_ALIAS;
    }
    return t;
}

static void touch(plan_item *item, int32_t op)
{
    if (item->first < 0 || op < item->first)
        item->first = (int16_t)op;
    if (op > item->last)
        item->last = (int16_t)op;
}

static tmo_err collect_lifetimes(tmo_interp *it, plan_work *w, tmo_diag *d)
{
    const tmo_model *m = it->model;
    int32_t last_op = m->op_count > 0 ? (int32_t)m->op_count - 1 : 0;
    for (uint32_t i = 0; i < w->n; i++) {
        w->items[i].size = 0;
        w->items[i].first = -1;
        w->items[i].last = -1;
    }
    for (uint32_t i = 0; i < m->input_count; i++)
        touch(&w->items[tmo_model_input(m, i)], 0);
    for (uint32_t i = 0; i < m->op_count; i++) {
        tmo_op_info op;
        tmo_model_op(m, i, &op);
        for (uint32_t k = 0; k < op.input_count; k++) {
            if (op.inputs[k] < 0 || is_const(it->tensor_loc[op.inputs[k]]))
                continue;
            plan_item *item = &w->items[alias_root(it, (uint32_t)op.inputs[k])];
            if (item->first < 0)
                return op_fail(d, reg_name(w, &op), i, TMO_EBADMODEL, "operator.inputs",
                               "input tensor is read before any operator writes it");
            touch(item, (int32_t)i);
        }
        for (uint32_t k = 0; k < op.output_count; k++) {
            plan_item *item = &w->items[alias_root(it, (uint32_t)op.outputs[k])];
            touch(item, (int32_t)i);
        }
        if (it->nodes[i].scratch_bytes != 0) {
            plan_item *s = &w->items[m->tensor_count + i];
            s->size = (uint32_t)ALIGN_UP((size_t)it->nodes[i].scratch_bytes, TMO_TENSOR_ALIGN);
            s->first = s->last = (int16_t)i;
        }
    }
    for (uint32_t i = 0; i < m->output_count; i++) {
        uint32_t t = (uint32_t)tmo_model_output(m, i);
        if (!is_const(it->tensor_loc[t]))
            touch(&w->items[alias_root(it, t)], last_op);
    }
    return TMO_OK;
}

static tmo_err size_items(tmo_interp *it, plan_work *w)
{
    for (uint32_t t = 0; t < it->model->tensor_count; t++) {
        plan_item *item = &w->items[t];
        tmo_tensor_info ti;
        if (item->first < 0 || it->tensor_loc[t] != LOC_NONE)
            continue; /* unused, constant or sharing another tensor's memory */
        tmo_model_tensor(it->model, t, &ti);
        /* Clamp, never truncate: a tensor over MAX_ARENA can not fit and fails as ENOSPC. */
        item->size =
            ti.bytes > MAX_ARENA ? MAX_ARENA + 1u : (uint32_t)ALIGN_UP(ti.bytes, TMO_TENSOR_ALIGN);
        if (item->size == 0)
            item->size = TMO_TENSOR_ALIGN;
    }
    return TMO_OK;
}

/* Marks constant tensors and checks that graph inputs are writable and unwritten-by-ops. */
static tmo_err mark_constants(tmo_interp *it, tmo_diag *d)
{
    const tmo_model *m = it->model;
    for (uint32_t t = 0; t < m->tensor_count; t++) {
        tmo_tensor_info ti;
        tmo_model_tensor(m, t, &ti);
        it->tensor_loc[t] = ti.data != NULL
                                ? TMO_LOC_CONST | (uint32_t)((const uint8_t *)ti.data - m->base)
                                : LOC_NONE;
    }
    for (uint32_t i = 0; i < m->input_count; i++) {
        int32_t t = tmo_model_input(m, i);
        if (it->tensor_loc[t] != LOC_NONE)
            return diag_set(d, TMO_EBADMODEL, TMO_AT_TENSOR, t, "subgraph.inputs",
                            "graph input has constant data");
    }
    return TMO_OK;
}

/* Every tensor is written by at most one operator (TFLite graphs are in SSA form). */
static tmo_err check_single_writer(tmo_interp *it, plan_work *w, tmo_diag *d)
{
    const tmo_model *m = it->model;
    for (uint32_t t = 0; t < m->tensor_count; t++)
        w->items[t].next = 0;
    for (uint32_t i = 0; i < m->input_count; i++)
        w->items[tmo_model_input(m, i)].next = 1;
    for (uint32_t i = 0; i < m->op_count; i++) {
        tmo_op_info op;
        tmo_model_op(m, i, &op);
        for (uint32_t k = 0; k < op.output_count; k++)
            if (w->items[op.outputs[k]].next++ != 0)
                return op_fail(d, reg_name(w, &op), i, TMO_EBADMODEL, "operator.outputs",
                               "tensor is written more than once (or is a graph input)");
    }
    for (uint32_t i = 0; i < m->output_count; i++) {
        int32_t t = tmo_model_output(m, i);
        if (w->items[t].next == 0 && !is_const(it->tensor_loc[t]))
            return diag_set(d, TMO_EBADMODEL, TMO_AT_TENSOR, t, "subgraph.outputs",
                            "graph output is never written by any operator");
    }
    return TMO_OK;
}

static tmo_err plan_arena(tmo_interp *it, const tmo_op_table *ops, size_t front, size_t arena_len,
                          tmo_diag *d)
{
    const tmo_model *m = it->model;
    plan_work w;
    w.ops = ops;
    w.n = m->tensor_count + m->op_count;
    size_t work_bytes = (size_t)w.n * (sizeof(plan_item) + sizeof(uint16_t));
    if (front + work_bytes + 8 > arena_len) {
        diag_set(d, TMO_ENOSPC, TMO_AT_NONE, -1, "arena", "arena too small to plan the model");
        diag_limit(d, (int64_t)(front + work_bytes + 8), (int64_t)arena_len);
        return TMO_ENOSPC;
    }
    uint8_t *tail = it->arena + ALIGN_UP(arena_len - work_bytes - 8, 8);
    w.items = (plan_item *)(void *)tail;
    w.order = (uint16_t *)(void *)(tail + (size_t)w.n * sizeof(plan_item));
    tmo_err e = check_single_writer(it, &w, d);
    if (e == TMO_OK)
        e = collect_lifetimes(it, &w, d);
    if (e != TMO_OK)
        return e;
    size_items(it, &w);
    size_t total = plan_offsets(w.items, w.order, w.n);
    size_t act_base = ALIGN_UP(front, TMO_TENSOR_ALIGN);
    if (total == SIZE_MAX)
        return diag_set(d, TMO_EUNSUPPORTED, TMO_AT_NONE, -1, "arena",
                        "the model's tensors need more than 2 GiB");
    if (total > arena_len || act_base > arena_len - total) {
        size_t need = act_base + total;
        size_t plan_need = front + work_bytes + 8;
        diag_set(d, TMO_ENOSPC, TMO_AT_NONE, -1, "arena", "arena too small for the model");
        diag_limit(d, (int64_t)(need > plan_need ? need : plan_need), (int64_t)arena_len);
        return TMO_ENOSPC;
    }
    for (uint32_t i = 0; i < m->op_count; i++)
        it->nodes[i].scratch_off = (uint32_t)(act_base + w.items[m->tensor_count + i].offset);
    for (uint32_t t = 0; t < m->tensor_count; t++)
        if (w.items[t].size != 0)
            it->tensor_loc[t] = (uint32_t)(act_base + w.items[t].offset);
    /* Aliases take their root's location; roots are resolved first by construction. */
    for (uint32_t t = 0; t < m->tensor_count; t++) {
        uint32_t loc = it->tensor_loc[t];
        if (is_alias(loc))
            it->tensor_loc[t] = it->tensor_loc[alias_root(it, t)];
    }
    for (uint32_t t = 0; t < m->tensor_count; t++)
        if (it->tensor_loc[t] == LOC_NONE)
            it->tensor_loc[t] = (uint32_t)act_base; /* unused tensor: never read or written */
    it->persistent_bytes = front;
    it->activation_bytes = total;
    it->arena_used = act_base + total;
    size_t low_water = front + work_bytes + 8;
    if (low_water > it->arena_used)
        it->arena_used = low_water;
    return TMO_OK;
}

tmo_err tmo_interp_init_ops(tmo_interp *it, const tmo_model *m, const tmo_op_table *ops,
                            void *arena, size_t arena_len, tmo_diag *d)
{
    tmo_diag_clear(d);
    if (it == NULL || m == NULL || ops == NULL || arena == NULL)
        return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "interp", "NULL argument");
    memset(it, 0, sizeof *it);
    uintptr_t start = ALIGN_UP((uintptr_t)arena, 8);
    size_t skew = (size_t)(start - (uintptr_t)arena);
    if (arena_len < skew)
        return diag_set(d, TMO_ENOSPC, TMO_AT_NONE, -1, "arena", "arena too small");
    arena_len -= skew;
    if (arena_len > MAX_ARENA)
        arena_len = MAX_ARENA;
    it->model = m;
    it->arena = (uint8_t *)start;
    it->node_count = m->op_count;

    size_t loc_bytes = ALIGN_UP((size_t)m->tensor_count * sizeof(uint32_t), 8);
    size_t node_bytes = (size_t)m->op_count * sizeof(tmo_node);
    if (loc_bytes + node_bytes > arena_len) {
        diag_set(d, TMO_ENOSPC, TMO_AT_NONE, -1, "arena", "arena too small for the tensor tables");
        diag_limit(d, (int64_t)(loc_bytes + node_bytes + skew), (int64_t)(arena_len + skew));
        return TMO_ENOSPC;
    }
    it->tensor_loc = (uint32_t *)(void *)it->arena;
    it->nodes = (tmo_node *)(void *)(it->arena + loc_bytes);
    memset(it->nodes, 0, node_bytes);

    tmo_err e = mark_constants(it, d);
    if (e != TMO_OK)
        return e;
    tmo_prep p;
    memset(&p, 0, sizeof p);
    p.m = m;
    p.diag = d;
    p.mem = it->arena;
    p.cap = arena_len;
    p.used = loc_bytes + node_bytes;
    if ((e = prepare_all(it, ops, &p, d)) != TMO_OK)
        return e;
    if ((e = plan_arena(it, ops, ALIGN_UP(p.used, 8), arena_len, d)) != TMO_OK) {
        if (e == TMO_ENOSPC && d != NULL && d->has_value)
            d->value += (int64_t)skew;
        return e;
    }
    it->arena_used += skew;
    it->ready = 1;
    return TMO_OK;
}

tmo_err tmo_interp_arena_size_ops(const tmo_model *m, const tmo_op_table *ops, void *work,
                                  size_t work_len, size_t *needed, tmo_diag *d)
{
    tmo_interp it;
    if (needed == NULL)
        return diag_set(d, TMO_EINVAL, TMO_AT_NONE, -1, "needed", "NULL argument");
    tmo_err e = tmo_interp_init_ops(&it, m, ops, work, work_len, d);
    /* Report the size for an 8-byte aligned arena, whatever the work buffer's alignment. */
    size_t skew = (size_t)(ALIGN_UP((uintptr_t)work, 8) - (uintptr_t)work);
    *needed = e == TMO_OK ? it.arena_used - skew : 0;
    return e;
}

tmo_err tmo_interp_invoke(tmo_interp *it)
{
    if (it == NULL || !it->ready)
        return TMO_ESTATE;
    tmo_exec x = {it->arena, it->model->base, it->tensor_loc};
    for (uint32_t i = 0; i < it->node_count; i++) {
        const tmo_node *n = &it->nodes[i];
        n->invoke(&x, n->params, it->arena + n->scratch_off);
    }
    return TMO_OK;
}

uint32_t tmo_interp_input_count(const tmo_interp *it)
{
    return it->model->input_count;
}

uint32_t tmo_interp_output_count(const tmo_interp *it)
{
    return it->model->output_count;
}

static tmo_err describe(const tmo_interp *it, int32_t t, tmo_io *io)
{
    tmo_tensor_info ti;
    if (t < 0 || !it->ready || tmo_model_tensor(it->model, (uint32_t)t, &ti) != TMO_OK)
        return TMO_EINVAL;
    tmo_exec x = {it->arena, it->model->base, it->tensor_loc};
    memset(io, 0, sizeof *io);
    io->data = exec_tensor(&x, (uint32_t)t);
    io->bytes = ti.bytes;
    io->type = ti.type;
    io->ndim = ti.ndim;
    memcpy(io->dims, ti.dims, sizeof io->dims);
    io->scale = ti.scale;
    io->zero_point = ti.zero_point;
    return TMO_OK;
}

tmo_err tmo_interp_input(const tmo_interp *it, uint32_t i, tmo_io *io)
{
    if (it == NULL || io == NULL || i >= it->model->input_count)
        return TMO_EINVAL;
    return describe(it, tmo_model_input(it->model, i), io);
}

tmo_err tmo_interp_output(const tmo_interp *it, uint32_t i, tmo_io *io)
{
    if (it == NULL || io == NULL || i >= it->model->output_count)
        return TMO_EINVAL;
    return describe(it, tmo_model_output(it->model, i), io);
}
